{{/* Names, labels and image references shared by every template. */}}

{{/* The chart name, or nameOverride. */}}
{{- define "dart.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "<release>-<chart>" (or just the release when it already contains the chart name), at
most 50 characters so that suffixes such as "-workload" still fit a DNS label. */}}
{{- define "dart.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels every object of the chart carries, except app.kubernetes.io/component. */}}
{{- define "dart.baseLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "dart.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dart
{{- end -}}

{{/* Labels of the operator's own objects. */}}
{{- define "dart.labels" -}}
{{ include "dart.baseLabels" . }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* Labels that select the operator pod. */}}
{{- define "dart.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dart.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* The operator's ServiceAccount name. */}}
{{- define "dart.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dart.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The workload pods' ServiceAccount name; empty means the namespace's default. The chart
creates it only in the watched namespaces, so a cluster-wide operator names it only when told. */}}
{{- define "dart.workloadServiceAccountName" -}}
{{- if .Values.workload.serviceAccount.name -}}
{{- .Values.workload.serviceAccount.name -}}
{{- else if and .Values.workload.serviceAccount.create .Values.operator.watchNamespaces -}}
{{- printf "%s-workload" (include "dart.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* An image reference "registry/repository:tag" or "registry/repository@digest".
Call with (dict "image" .Values.images.operator "root" .). */}}
{{- define "dart.image" -}}
{{- $repo := printf "%s/%s" .root.Values.images.registry .image.repository | trimPrefix "/" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repo .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The namespaces whose workload pods are monitored and fenced (may be empty: all). */}}
{{- define "dart.workloadNamespaces" -}}
{{- $ns := .Values.metrics.serviceMonitor.workloadNamespaces | default .Values.operator.watchNamespaces -}}
{{- toJson $ns -}}
{{- end -}}

{{/* Labels the operator puts on every workload pod it creates (operator/dart_operator). */}}
{{- define "dart.workloadSelectorLabels" -}}
app.kubernetes.io/part-of: dart
app.kubernetes.io/managed-by: dart-operator
{{- end -}}
