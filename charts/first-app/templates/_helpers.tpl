{{/*
Labels shared by every object of this release. No app.kubernetes.io/version: a release
runs several versions at once, and the `version` label says which one a pod is.
*/}}
{{- define "first-app.labels" -}}
app.kubernetes.io/name: {{ .Values.appName }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The Service's in-mesh name: the host of every route and subset. */}}
{{- define "first-app.serviceHost" -}}
{{ .Values.appName }}.{{ .Release.Namespace }}.svc.cluster.local
{{- end -}}

{{/*
The Gateway, its Certificate and TLS secret live in the shared gateway namespace:
the environment's namespace in their names keeps two environments on one cluster apart.
*/}}
{{- define "first-app.gatewayName" -}}
{{ .Values.appName }}-{{ .Release.Namespace }}
{{- end -}}

{{- define "first-app.tlsSecret" -}}
{{ .Values.appName }}-{{ .Release.Namespace }}-tls
{{- end -}}

{{- define "first-app.clientName" -}}
{{ .Values.appName }}-client
{{- end -}}

{{/* "repository:tag", or "repository:tag@digest" when a digest pins the image. */}}
{{- define "first-app.image" -}}
{{ .repository }}:{{ .tag }}{{ with .digest }}@{{ . }}{{ end }}
{{- end -}}

{{/* A version's replica count: 1 when unset, and 0 kept as 0. */}}
{{- define "first-app.replicas" -}}
{{ hasKey . "replicas" | ternary .replicas 1 | int }}
{{- end -}}

{{/* The weight of version `.version` in `.traffic`: 0 when it has none. */}}
{{- define "first-app.weight" -}}
{{ hasKey .traffic .version | ternary (index .traffic .version) 0 | int }}
{{- end -}}

{{/*
Pod-level security context meeting the "restricted" Pod Security Standard; the
containers add their own half in first-app.containerSecurityContext.
*/}}
{{- define "first-app.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "first-app.containerSecurityContext" -}}
allowPrivilegeEscalation: false
capabilities:
  drop:
    - ALL
privileged: false
readOnlyRootFilesystem: {{ .Values.securityContext.readOnlyRootFilesystem }}
runAsNonRoot: true
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Checks JSON Schema cannot express, so that a GitOps engine rendering this chart
refuses a broken environment file as meshgen does.
*/}}
{{- define "first-app.checkTraffic" -}}
{{- $total := 0 -}}
{{- $listed := list -}}
{{- range $version, $weight := .Values.traffic -}}
{{- if not (hasKey $.Values.versions $version) -}}
{{- fail (printf "traffic.%s: weight given for %s, which is not under `versions:` (defined: %s)" $version $version (keys $.Values.versions | sortAlpha | join ", ")) -}}
{{- end -}}
{{- $total = add $total $weight -}}
{{- $listed = append $listed (printf "%s=%d" $version (int $weight)) -}}
{{- end -}}
{{- if ne (int $total) 100 -}}
{{- fail (printf "traffic: weights sum to %d, not 100 (%s)" (int $total) (join " + " $listed)) -}}
{{- end -}}
{{- range $version, $spec := .Values.versions -}}
{{- $weight := include "first-app.weight" (dict "traffic" $.Values.traffic "version" $version) | int -}}
{{- if and (gt $weight 0) (eq (include "first-app.replicas" $spec | int) 0) -}}
{{- fail (printf "versions.%s.replicas: 0 replicas cannot serve the %d%% of traffic that `traffic:` sends to %s" $version $weight $version) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The match conditions of a route: in the mesh, and at the gateway on HTTPS only. Port 80
of the host belongs to cert-manager's HTTP-01 solver: Istio merges the routes of every
VirtualService for a host on a gateway port, and a catch-all route of ours there would
answer the /.well-known/acme-challenge/ requests in the solver's place.
Takes a dict: root (the chart context), headers (request headers to match, or empty),
meshOnly (true: the mesh source only, for routes the public gateway must not offer).
*/}}
{{- define "first-app.routeMatches" -}}
{{- $values := .root.Values -}}
{{- $sources := list (dict) -}}
{{- if $values.host -}}
{{- $gateway := printf "%s/%s" $values.gateway.namespace (include "first-app.gatewayName" .root) -}}
{{- $sources = list (dict "gateway" "mesh") -}}
{{- if not .meshOnly -}}
{{- $sources = append $sources (dict "gateway" $gateway "port" 443) -}}
{{- end -}}
{{- end -}}
{{- range $sources -}}
{{- $lines := list -}}
{{- with .gateway -}}
{{- $lines = concat $lines (list "gateways:" (printf "  - %s" .)) -}}
{{- end -}}
{{- range $name, $value := $.headers -}}
{{- $lines = concat $lines (list "headers:" (printf "  %s:" $name) (printf "    exact: %s" $value)) -}}
{{- end -}}
{{- with .port -}}
{{- $lines = append $lines (printf "port: %d" (int .)) -}}
{{- end }}
- {{ join "\n  " $lines }}
{{- end -}}
{{- end -}}

{{/*
Pull policy of an image: a digest names one immutable build, which the node's copy is;
a tag can be moved, so the kubelet asks the registry what it names now.
*/}}
{{- define "first-app.pullPolicy" -}}
{{- if .digest }}IfNotPresent{{ else }}Always{{ end }}
{{- end -}}

{{/*
`checkov.io/skip<N>` annotations, one per "CHECK=reason" in the list given: the checks
an object does not meet on purpose, and why. Nothing when the list is empty.
*/}}
{{- define "first-app.checkovSkips" -}}
{{- range $index, $skip := . }}
checkov.io/skip{{ add1 $index }}: {{ $skip | quote }}
{{- end }}
{{- end -}}

{{/* The skips of a container image: a tag without a digest pins no exact build. */}}
{{- define "first-app.imageSkips" -}}
{{- if .digest -}}
{{- list "CKV_K8S_15=pinned by digest: the node's copy is that exact build, IfNotPresent saves a registry round trip" | toJson -}}
{{- else -}}
{{- list "CKV_K8S_43=pinned by tag only: set image.digest in the environment file to pin the exact build" | toJson -}}
{{- end -}}
{{- end -}}
