{{/* The chart's names and labels. */}}
{{- define "dca.name" -}}docker-credential-acr{{- end -}}

{{- define "dca.labels" -}}
app.kubernetes.io/part-of: docker-credential-acr
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The node part's object names. */}}
{{- define "dca.node.fullname" -}}{{ printf "%s-node" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}

{{- define "dca.node.image" -}}
{{ .Values.node.image.repository }}:{{ .Values.node.image.tag | default (printf "v%s" .Chart.AppVersion) }}
{{- end -}}

{{- define "dca.controller.image" -}}
{{ .Values.controller.image.repository }}:{{ .Values.controller.image.tag | default (printf "v%s" .Chart.AppVersion) }}
{{- end -}}

{{/* The installer's arguments: the profile and print-kubelet-config's options. */}}
{{- define "dca.node.installArgs" -}}
{{- $n := .Values.node -}}
- {{ printf "--root=%s" $n.hostRoot | quote }}
- {{ printf "--profile=%s" $n.profile | quote }}
{{- if eq $n.profile "generic" }}
{{- if not (and $n.generic.configFile $n.generic.binDir $n.generic.kubeletFlagsFile) }}
{{- fail "node.profile generic needs node.generic.configFile, binDir and kubeletFlagsFile" }}
{{- end }}
- {{ printf "--config-file=%s" $n.generic.configFile | quote }}
- {{ printf "--bin-dir=%s" $n.generic.binDir | quote }}
- {{ printf "--kubelet-flags-file=%s" $n.generic.kubeletFlagsFile | quote }}
- {{ printf "--kubelet-flags-var=%s" $n.generic.kubeletFlagsVar | quote }}
- {{ printf "--kubelet-unit=%s" $n.generic.kubeletUnit | quote }}
{{- end }}
- {{ printf "--api-version=%s" $n.apiVersion | quote }}
{{- with $n.defaultCacheDuration }}
- {{ printf "--default-cache-duration=%s" . | quote }}
{{- end }}
{{- range $n.matchImages }}
- {{ printf "--match-image=%s" . | quote }}
{{- end }}
{{- if $n.serviceAccountTokens.enabled }}
{{- if not $n.serviceAccountTokens.oidcProviderARN }}
{{- fail "node.serviceAccountTokens.enabled needs node.serviceAccountTokens.oidcProviderARN (acs:ram::<account>:oidc-provider/<name>)" }}
{{- end }}
- --service-account-tokens
- {{ printf "--audience=%s" $n.serviceAccountTokens.audience | quote }}
- {{ printf "--oidc-provider-arn=%s" $n.serviceAccountTokens.oidcProviderARN | quote }}
{{- if $n.serviceAccountTokens.requireRoleAnnotation }}
- --require-role-annotation
{{- with $n.serviceAccountTokens.roleAnnotation }}
- {{ printf "--role-annotation=%s" . | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- if $n.helperConfig }}
- --helper-config=/etc/docker-credential-acr-chart/config.yaml
{{- end }}
{{- range $n.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The controller part's object names: <release>-controller, and the names it derives (release
acr-credential gives controller/deploy's names: acr-credential-controller, ...-webhook, ...-webhook-tls). */}}
{{- define "dca.controller.fullname" -}}{{ printf "%s-controller" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "dca.controller.webhookService" -}}{{ printf "%s-webhook" (include "dca.controller.fullname" .) | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "dca.controller.webhookCertSecret" -}}{{ printf "%s-webhook-tls" (include "dca.controller.fullname" .) | trunc 63 | trimSuffix "-" }}{{- end -}}
{{/* The controller's user name, as the API server sees it (the admission policy matches it). */}}
{{- define "dca.controller.username" -}}{{ printf "system:serviceaccount:%s:%s" .Release.Namespace .Values.controller.serviceAccount.name }}{{- end -}}

{{/* The namespaces of controller.config.watchNamespace, for per-namespace RBAC (a list only). */}}
{{- define "dca.controller.namespaces" -}}
{{- $w := .Values.controller.config.watchNamespace -}}
{{- $list := list -}}
{{- if kindIs "slice" $w }}{{ $list = $w }}{{ else }}{{ $list = splitList "," (toString $w) }}{{ end -}}
{{- $out := list -}}
{{- range $list }}{{ $n := trim (toString .) }}{{ if $n }}{{ $out = append $out $n }}{{ end }}{{ end -}}
{{- if or (not $out) (has "all" $out) (has "*" $out) -}}
{{- fail "controller.namespacedRBAC needs controller.config.watchNamespace to be a list of namespaces (a,b), not all: with controller.addonConfigMap, write the add-on's watch-namespace there too" -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}
