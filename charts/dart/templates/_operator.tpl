{{/* The operator's settings, as the environment variables operator/dart_operator/settings.py
reads (tests/chart checks every name against its Settings fields). */}}

{{- define "dart.operatorEnv" -}}
- name: DART_IMAGE_WORKLOAD
  value: {{ include "dart.image" (dict "image" .Values.images.runtime "root" .) | quote }}
{{- with .Values.images.server }}
- name: DART_IMAGE_SERVER
  value: {{ . | quote }}
{{- end }}
- name: DART_IMAGE_PULL_POLICY
  value: {{ .Values.images.pullPolicy | quote }}
- name: DART_IMAGE_PULL_SECRETS
  value: {{ .Values.imagePullSecrets | join "," | quote }}
- name: DART_NODE_POOLS
  value: {{ .Values.nodePools | toJson | quote }}
- name: DART_GPU_RESOURCE
  value: {{ .Values.workload.gpuResource | quote }}
{{- with include "dart.workloadServiceAccountName" . }}
- name: DART_WORKLOAD_SERVICE_ACCOUNT
  value: {{ . | quote }}
{{- end }}
- name: DART_JOB_MANAGED_BY
  value: {{ .Values.workload.jobManagedBy | quote }}
- name: DART_PRIORITY_CLASS_NAME
  value: {{ .Values.workload.priorityClassName | quote }}
- name: DART_ARTIFACTS_ACCESS_MODE
  value: {{ .Values.workload.artifactsAccessMode | quote }}
- name: DART_SERVER_STARTUP_SECONDS
  value: {{ .Values.workload.serverStartupSeconds | quote }}
- name: DART_FAILED_SERVER_LOG_SECONDS
  value: {{ .Values.workload.failedServerLogSeconds | quote }}
- name: DART_RESYNC_SECONDS
  value: {{ .Values.workload.resyncSeconds | quote }}
- name: DART_METRICS_PORT
  value: {{ .Values.operator.metricsPort | quote }}
- name: DART_LIVENESS_ENDPOINT
  value: {{ printf "http://0.0.0.0:%v/healthz" .Values.operator.healthPort | quote }}
{{- with .Values.operator.peering }}
- name: DART_PEERING
  value: {{ . | quote }}
{{- end }}
- name: DART_NETWORK_POLICY
  value: {{ .Values.networkPolicy.enabled | quote }}
- name: DART_LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
- name: DART_WATCH_NAMESPACES
  value: {{ .Values.operator.watchNamespaces | join "," | quote }}
{{- end -}}
