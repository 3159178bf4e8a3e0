{{/* Labels shared by every object of this release. */}}
{{- define "first-app.labels" -}}
app.kubernetes.io/name: {{ .Values.appName }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Hosts the VirtualService routes: in-mesh short name, then the external host. */}}
{{- define "first-app.gatewayName" -}}
{{ .Values.appName }}-gateway
{{- end -}}

{{- define "first-app.tlsSecret" -}}
{{ .Values.appName }}-{{ .Release.Namespace }}-tls
{{- end -}}
