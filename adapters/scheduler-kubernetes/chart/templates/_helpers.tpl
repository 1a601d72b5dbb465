{{- define "aquifer.labels" -}}
app.kubernetes.io/name: aquifer-workload
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: {{ .Values.kind }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
aquifer.dev/workload: {{ .Release.Name }}
aquifer.dev/kind: {{ .Values.kind }}
{{- range $key, $value := .Values.labels }}
{{ $key }}: {{ $value | quote }}
{{- end }}
{{- end }}

{{- define "aquifer.secretFiles" -}}
{{- range .Values.secrets }}{{ if .file }}true{{ end }}{{ end }}
{{- end }}
