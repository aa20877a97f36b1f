{{- define "turnpike.name" -}}
turnpike
{{- end }}

{{- define "turnpike.fullname" -}}
{{- if eq .Release.Name "turnpike" -}}
turnpike
{{- else -}}
{{- printf "%s-turnpike" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{- define "turnpike.selectorLabels" -}}
app.kubernetes.io/name: {{ include "turnpike.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "turnpike.labels" -}}
{{ include "turnpike.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "turnpike.authSecret" -}}
{{- if .Values.auth.existingSecret -}}
{{ .Values.auth.existingSecret }}
{{- else -}}
{{ include "turnpike.fullname" . }}-auth
{{- end -}}
{{- end }}

{{- define "turnpike.config" -}}
# turnpike.conf rendered by the turnpike chart (turnpike.conf(5)).
listen = [ {{- range $i, $l := .Values.listeners }}{{ if $i }},{{ end }} "{{ $l.proto }}:{{ $.Values.bindAddress }}:{{ $l.port }}"{{- end }}{{ if .Values.signal.enabled }}, "ws:{{ .Values.bindAddress }}:{{ .Values.signal.port }}"{{ end }} ];
realm = {{ .Values.realm | quote }};
{{- if .Values.externalIP }}
external-ip = [ {{ .Values.externalIP | quote }} ];
{{- end }}
demo-user = false;
@include "secret/auth.conf"
metrics = "http:{{ .Values.bindAddress }}:{{ .Values.metrics.port }}";
admin = "unix:/run/turnpike/admin.sock";
log-format = {{ .Values.logFormat | quote }};
{{- if .Values.extraConfig }}
{{ .Values.extraConfig }}
{{- end }}
{{- end }}
