{{/*
Chart name, truncated to 63 characters (the DNS label limit).
*/}}
{{- define "vmkeeper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name used as the prefix of every object: <release>-<chart>, or <release> when the
release name already contains the chart name. Truncated to 63 characters.
*/}}
{{- define "vmkeeper.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart label value: name-version with "+" replaced (labels may not contain it).
*/}}
{{- define "vmkeeper.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels that select the operator pods. Never change these between releases: a Deployment's
selector is immutable.
*/}}
{{- define "vmkeeper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vmkeeper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/*
Labels shared by every object of the release (except CRDs, see vmkeeper.crdLabels).
*/}}
{{- define "vmkeeper.labels" -}}
helm.sh/chart: {{ include "vmkeeper.chart" . }}
{{ include "vmkeeper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: vmkeeper
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Labels the chart adds to the generated CRDs, beside the labels the CRD files carry
themselves (hack/gen-chart-crds.mjs drops these keys from the source labels).
*/}}
{{- define "vmkeeper.crdLabels" -}}
helm.sh/chart: {{ include "vmkeeper.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Name of the ServiceAccount the operator runs as.
*/}}
{{- define "vmkeeper.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vmkeeper.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Operator image reference: repository@digest when a digest is set, else repository:tag with
the tag defaulting to the chart's appVersion.
*/}}
{{- define "vmkeeper.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Namespace of the leader election Lease.
*/}}
{{- define "vmkeeper.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/*
Name of the metrics Service; also the Prometheus `job` label of the scraped series.
*/}}
{{- define "vmkeeper.metricsServiceName" -}}
{{- printf "%s-metrics" (include "vmkeeper.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Name of the headless Service whose DNS name resolves to every operator replica; agents in
the cluster send their heartbeats to <this>.<namespace>.svc:<heartbeat.port>.
*/}}
{{- define "vmkeeper.heartbeatServiceName" -}}
{{- printf "%s-heartbeat" (include "vmkeeper.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Name of the headless Service of the agent report endpoint (one address per replica).
*/}}
{{- define "vmkeeper.agentReportsServiceName" -}}
{{- printf "%s-agent-reports" (include "vmkeeper.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Name of the Secret with the heartbeat keys: heartbeat.existingSecret, or the one the chart
generates.
*/}}
{{- define "vmkeeper.heartbeatSecretName" -}}
{{- if .Values.heartbeat.existingSecret }}
{{- .Values.heartbeat.existingSecret }}
{{- else }}
{{- printf "%s-heartbeat" (include "vmkeeper.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
PromQL label matchers selecting this release's operator series.
*/}}
{{- define "vmkeeper.promSelector" -}}
job="{{ include "vmkeeper.metricsServiceName" . }}", namespace="{{ .Release.Namespace }}"
{{- end }}

{{/*
Cross-field checks that values.schema.json cannot express. Fails the render with a message
naming the keys involved.
*/}}
{{- define "vmkeeper.validate" -}}
{{- $le := .Values.leaderElection }}
{{- if and (gt (int .Values.replicaCount) 1) (not $le.enabled) }}
{{- fail "replicaCount > 1 requires leaderElection.enabled=true: without a leader every replica would act" }}
{{- end }}
{{- if and $le.enabled (ge (int $le.renewDeadlineSeconds) (int $le.leaseDurationSeconds)) }}
{{- fail "leaderElection.renewDeadlineSeconds must be less than leaderElection.leaseDurationSeconds" }}
{{- end }}
{{- if and $le.enabled (ge (int $le.retryPeriodSeconds) (int $le.renewDeadlineSeconds)) }}
{{- fail "leaderElection.retryPeriodSeconds must be less than leaderElection.renewDeadlineSeconds" }}
{{- end }}
{{- $pdb := .Values.podDisruptionBudget }}
{{- if and $pdb.enabled (gt (int .Values.replicaCount) 1) (not (kindIs "string" $pdb.minAvailable)) (ge (int $pdb.minAvailable) (int .Values.replicaCount)) }}
{{- fail "podDisruptionBudget.minAvailable must be less than replicaCount, or no node could ever be drained" }}
{{- end }}
{{- if and .Values.agent.enabled (not .Values.agentReports.enabled) }}
{{- fail "agent.enabled requires agentReports.enabled: the agent sends its reports to the operator's endpoint" }}
{{- end }}
{{- if and .Values.agent.enabled (not .Values.heartbeat.enabled) }}
{{- fail "agent.enabled requires heartbeat.enabled" }}
{{- end }}
{{- if eq (int .Values.metrics.port) (int .Values.health.port) }}
{{- fail "metrics.port and health.port must differ" }}
{{- end }}
{{- end }}
