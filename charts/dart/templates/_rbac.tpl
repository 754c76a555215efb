{{/* The operator's permissions: exactly dart_operator.rbac.OPERATOR_API_CALLS, split by
scope (tests/chart/test_rbac.py checks the rendered rules against it). Nothing is a wildcard. */}}

{{/* Runs and their children, in every namespace the operator serves. */}}
{{- define "dart.rbac.namespacedRules" -}}
- apiGroups: [dart.ai]
  resources: [dartruns]
  verbs: [get, list, watch]
- apiGroups: [dart.ai]
  resources: [dartruns/status]
  verbs: [patch]
- apiGroups: [dart.ai]
  resources: [dartruns/finalizers]
  verbs: [update]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [list, create, update, delete]
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [list, create]
- apiGroups: [""]
  resources: [services]
  verbs: [list, create, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [list, watch, create, update, delete]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [list, watch, create, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [list, create, delete]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [list, create, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- if and .Values.operator.peering .Values.operator.watchNamespaces }}
- apiGroups: [kopf.dev]
  resources: [kopfpeerings]
  verbs: [get, list, watch, patch]
{{- end }}
{{- end -}}

{{/* Cluster-scoped reads kopf needs to discover the CRD and namespaces, even when it serves
only some namespaces. */}}
{{- define "dart.rbac.clusterRules" -}}
- apiGroups: [""]
  resources: [namespaces]
  verbs: [list, watch]
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [get, list, watch]
{{- if and .Values.operator.peering (not .Values.operator.watchNamespaces) }}
- apiGroups: [kopf.dev]
  resources: [clusterkopfpeerings]
  verbs: [get, list, watch, patch]
{{- end }}
{{- end -}}
