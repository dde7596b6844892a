{{/*
Names. Kept to the 63 characters Kubernetes allows in a name, less the longest suffix a resource
adds ("-jenkins-operator", 17), hence 46.
*/}}
{{- define "bowline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bowline.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 46 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 46 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 46 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The five services, in the order of the pipeline, the deck that shows what they did, and
kube-bridge, which shows them to a cluster. */}}
{{- define "bowline.services" -}}
hook planner jenkins-operator reporter sinker deck kube-bridge
{{- end -}}

{{/* A service's key in values.yaml: jenkins-operator is jenkinsOperator, since Go templates cannot
read a dashed key with a dotted path. */}}
{{- define "bowline.valuesKey" -}}
{{- if eq . "jenkins-operator" -}}jenkinsOperator{{- else if eq . "kube-bridge" -}}kubeBridge{{- else -}}{{ . }}{{- end -}}
{{- end -}}

{{/* Each service's PORT (the design's defaults), also its /healthz, /readyz and /metrics. */}}
{{- define "bowline.port" -}}
{{- if eq . "hook" -}}8888
{{- else if eq . "planner" -}}8081
{{- else if eq . "jenkins-operator" -}}8082
{{- else if eq . "reporter" -}}8083
{{- else if eq . "sinker" -}}8084
{{- else if eq . "deck" -}}8085
{{- else if eq . "kube-bridge" -}}8086
{{- else -}}{{ fail (printf "bowline.port: unknown service %q" .) }}
{{- end -}}
{{- end -}}

{{/* Labels. Pass (dict "root" $ "component" "hook"), component optional. */}}
{{- define "bowline.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "bowline.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: bowline
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "bowline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bowline.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{/* kube-bridge's own ServiceAccount: the only one with a token, and a Role on ProwJobs. */}}
{{- define "bowline.kubeBridgeServiceAccountName" -}}
{{- printf "%s-kube-bridge" (include "bowline.fullname" .) -}}
{{- end -}}

{{/* The namespace of the ProwJob resources: kubernetes.namespace, else the release's. */}}
{{- define "bowline.prowJobNamespace" -}}
{{- .Values.kubernetes.namespace | default .Release.Namespace -}}
{{- end -}}

{{- define "bowline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "bowline.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* image: <repository>:<tag>. Pass (dict "root" $ "service" "hook" "values" .Values.hook). */}}
{{- define "bowline.image" -}}
{{- $repository := .values.image.repository | default (printf "%s/%s" .root.Values.image.repository .service) -}}
{{- $tag := .values.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}

{{/*
The bundled NATS chart's values are read with dig: what this chart's values.yaml does not set is
that chart's default (nats-io/k8s helm/charts/nats 1.2.x), which the names below follow.
*/}}

{{/* The NATS chart's fullname (nats.fullname in its _helpers.tpl). */}}
{{- define "bowline.natsFullname" -}}
{{- $nats := .Values.nats -}}
{{- if $nats.fullnameOverride -}}
{{- $nats.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := dig "nameOverride" "" $nats | default "nats" -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* How many NATS servers the bundled chart runs: config.cluster.replicas when clustered, else 1. */}}
{{- define "bowline.natsServers" -}}
{{- if dig "config" "cluster" "enabled" false .Values.nats -}}
{{- dig "config" "cluster" "replicas" 3 .Values.nats | int -}}
{{- else -}}
1
{{- end -}}
{{- end -}}

{{/* "true" when the bundled NATS serves clients over TLS (config.nats.tls.enabled). */}}
{{- define "bowline.natsTls" -}}
{{- if and .Values.nats.enabled (not .Values.nats.url) (dig "config" "nats" "tls" "enabled" false .Values.nats) -}}true{{- end -}}
{{- end -}}

{{/*
NATS_URL: the external NATS when nats.url is set, else the bundled chart's client Service: its
service.name (default: the NATS chart's fullname), in nats.namespaceOverride when that is another
namespace, on the Service's nats port (service.ports.nats.port, else config.nats.port), with
tls:// when config.nats.tls is on.
*/}}
{{- define "bowline.natsUrl" -}}
{{- if .Values.nats.url -}}
{{- .Values.nats.url -}}
{{- else -}}
{{- $nats := .Values.nats -}}
{{- $host := dig "service" "name" "" $nats | default (include "bowline.natsFullname" .) -}}
{{- $namespace := dig "namespaceOverride" "" $nats | default .Release.Namespace -}}
{{- if ne $namespace .Release.Namespace -}}
{{- $host = printf "%s.%s.svc" $host $namespace -}}
{{- end -}}
{{- $port := dig "service" "ports" "nats" "port" (dig "config" "nats" "port" 4222 $nats) $nats -}}
{{- $scheme := "nats" -}}
{{- if include "bowline.natsTls" . -}}
{{- $scheme = "tls" -}}
{{- end -}}
{{- printf "%s://%s:%s" $scheme $host (toString $port) -}}
{{- end -}}
{{- end -}}

{{/*
The Secret or ConfigMap holding the CA that signed the NATS servers' certificate, as a volume
source, or nothing: bowline.natsCA for any NATS, else the bundled chart's own tlsCA. Node.js reads
it through NODE_EXTRA_CA_CERTS, next to the system's CAs.
*/}}
{{- define "bowline.natsCaVolume" -}}
{{- $ca := .Values.bowline.natsCA -}}
{{- $nats := .Values.nats -}}
{{- if $ca.existingSecret -}}
secret: { secretName: {{ $ca.existingSecret | quote }}, defaultMode: 292 }
key: {{ $ca.key | quote }}
{{- else if and (include "bowline.natsTls" .) (dig "tlsCA" "enabled" false $nats) (or (dig "tlsCA" "secretName" "" $nats) (dig "tlsCA" "configMapName" "" $nats)) -}}
{{- if dig "tlsCA" "secretName" "" $nats -}}
secret: { secretName: {{ dig "tlsCA" "secretName" "" $nats | quote }}, defaultMode: 292 }
{{- else if dig "tlsCA" "configMapName" "" $nats -}}
configMap: { name: {{ dig "tlsCA" "configMapName" "" $nats | quote }}, defaultMode: 292 }
{{- end }}
key: {{ dig "tlsCA" "key" "ca.crt" $nats | quote }}
{{- end -}}
{{- end -}}

{{/*
A podAntiAffinity for a service's podAntiAffinityPreset: its pods kept off one node, counting only
this release's pods of the same component (another release's hook is no reason to move). Pass
(dict "root" $ "component" "hook" "preset" "soft").
*/}}
{{- define "bowline.podAntiAffinity" -}}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (include "bowline.selectorLabels" . | fromYaml)) -}}
{{- if eq .preset "soft" -}}
preferredDuringSchedulingIgnoredDuringExecution:
  - weight: 100
    podAffinityTerm: {{- toYaml $term | nindent 6 }}
{{- else if eq .preset "hard" -}}
requiredDuringSchedulingIgnoredDuringExecution:
  - {{- toYaml $term | nindent 4 }}
{{- end -}}
{{- end -}}

{{/* config.yaml's text: the `config` value as given when it is a string, else as YAML. */}}
{{- define "bowline.configYaml" -}}
{{- if kindIs "string" .Values.config -}}
{{- .Values.config -}}
{{- else -}}
{{- toYaml .Values.config -}}
{{- end -}}
{{- end -}}

{{/* "true" when a credential block (existingSecret / key / value) names or holds a secret. */}}
{{- define "bowline.hasSecret" -}}
{{- if or .existingSecret .value -}}true{{- end -}}
{{- end -}}

{{/*
Every credential that is given, as YAML: name -> the variable naming its file, the services that
mount it, and its values block. Deployments (volumes, mounts, env), Secrets and checksums all read
this one list (through fromYaml), so a pod never mounts a Secret the chart forgot to create.
Each is mounted at /etc/bowline/<name>/, a directory, so a rotated Secret reaches the pod.
*/}}
{{- define "bowline.credentials" -}}
{{- $v := .Values -}}
{{- if include "bowline.hasSecret" $v.github.webhookSecret }}
github-webhook:
  env: GITHUB_WEBHOOK_SECRET_FILE
  services: [hook]
  secret: {{- toYaml $v.github.webhookSecret | nindent 4 }}
{{- end }}
{{- if include "bowline.hasSecret" $v.github.token }}
github-token:
  env: GITHUB_TOKEN_FILE
  services: [planner, reporter]
  secret: {{- toYaml $v.github.token | nindent 4 }}
{{- end }}
{{- if and $v.github.app.id (include "bowline.hasSecret" $v.github.app.privateKey) }}
github-app:
  env: GITHUB_APP_PRIVATE_KEY_FILE
  services: [hook, planner, reporter]
  secret: {{- toYaml $v.github.app.privateKey | nindent 4 }}
{{- end }}
{{- if $v.jenkins.url }}
{{- if include "bowline.hasSecret" $v.jenkins.bearerToken }}
jenkins-bearer-token:
  env: JENKINS_BEARER_TOKEN_FILE
  services: [jenkins-operator]
  secret: {{- toYaml $v.jenkins.bearerToken | nindent 4 }}
{{- else if include "bowline.hasSecret" $v.jenkins.token }}
jenkins-token:
  env: JENKINS_TOKEN_FILE
  services: [jenkins-operator]
  secret: {{- toYaml $v.jenkins.token | nindent 4 }}
{{- end }}
{{- if include "bowline.hasSecret" $v.jenkins.ca }}
jenkins-ca:
  env: JENKINS_CA_FILE
  services: [jenkins-operator]
  secret: {{- toYaml $v.jenkins.ca | nindent 4 }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The Secret a credential is read from: the existing one, or the one the chart makes. */}}
{{- define "bowline.secretName" -}}
{{- .secret.existingSecret | default (printf "%s-%s" (include "bowline.fullname" .root) .name) -}}
{{- end -}}

{{/*
What a service needs before it can start, checked at `helm install` rather than discovered in a
crash loop (each service also exits naming the variable, but in a pod's log).
*/}}
{{- define "bowline.validate" -}}
{{- $v := .Values -}}
{{- if and $v.hook.enabled (not $v.tenants) (not (include "bowline.hasSecret" $v.github.webhookSecret)) -}}
{{- fail "github.webhookSecret: the hook needs the webhook secret: set existingSecret (a Secret you made) or value (or give each tenant its own under tenants)" -}}
{{- end -}}
{{- range $tenant, $settings := $v.tenants -}}
{{- if not $settings.existingSecret -}}
{{- fail (printf "tenants.%s.existingSecret: name the Secret holding the tenant's webhook secret and credentials" $tenant) -}}
{{- end -}}
{{- end -}}
{{- if and $v.github.app.id (not (include "bowline.hasSecret" $v.github.app.privateKey)) -}}
{{- fail "github.app: an App id needs its private key: set github.app.privateKey.existingSecret or value" -}}
{{- end -}}
{{- if and (include "bowline.hasSecret" $v.github.app.privateKey) (not $v.github.app.id) -}}
{{- fail "github.app: a private key needs the App's id: set github.app.id" -}}
{{- end -}}
{{- if and (or $v.planner.enabled $v.reporter.enabled) (not (include "bowline.hasSecret" $v.github.token)) (not $v.github.app.id) -}}
{{- fail "github: the planner and reporter need a token (github.token) or a GitHub App (github.app.id and github.app.privateKey)" -}}
{{- end -}}
{{- if and $v.jenkinsOperator.enabled $v.jenkins.url (not (include "bowline.hasSecret" $v.jenkins.bearerToken)) -}}
{{- if not (and $v.jenkins.user (include "bowline.hasSecret" $v.jenkins.token)) -}}
{{- fail "jenkins: with jenkins.url, set jenkins.user and jenkins.token (existingSecret or value), or jenkins.bearerToken" -}}
{{- end -}}
{{- end -}}
{{- if and (include "bowline.hasSecret" $v.jenkins.token) (include "bowline.hasSecret" $v.jenkins.bearerToken) -}}
{{- fail "jenkins: set jenkins.token or jenkins.bearerToken, not both" -}}
{{- end -}}
{{- if and $v.nats.url $v.nats.enabled -}}
{{- fail "nats: nats.url names an external NATS, so set nats.enabled: false (the bundled NATS would run with nothing using it)" -}}
{{- end -}}
{{- if not (or $v.nats.url $v.nats.enabled) -}}
{{- fail "nats: set nats.url to an external NATS with JetStream, or nats.enabled: true for the bundled one" -}}
{{- end -}}
{{- if and $v.nats.enabled (not $v.nats.url) -}}
{{- if not (dig "config" "jetstream" "enabled" false $v.nats) -}}
{{- fail "nats.config.jetstream.enabled: Bowline keeps its events and ProwJobs in JetStream: set it to true" -}}
{{- end -}}
{{- if not (and (dig "service" "enabled" true $v.nats) (dig "service" "ports" "nats" "enabled" true $v.nats)) -}}
{{- fail "nats.service: the services reach NATS through the NATS chart's client Service: keep nats.service.enabled and nats.service.ports.nats.enabled true" -}}
{{- end -}}
{{- $servers := include "bowline.natsServers" . | int -}}
{{- if gt (int $v.bowline.natsReplicas) $servers -}}
{{- fail (printf "bowline.natsReplicas: %d JetStream replicas need as many NATS servers, and the bundled NATS runs %d: lower bowline.natsReplicas, or set nats.config.cluster.enabled: true with nats.config.cluster.replicas: %d or more" (int $v.bowline.natsReplicas) $servers (int $v.bowline.natsReplicas)) -}}
{{- end -}}
{{- end -}}
{{- if and $v.hook.enabled $v.hook.ingress.enabled $v.hook.route.enabled -}}
{{- fail "hook.route: an OpenShift Route and hook.ingress both expose the hook (OpenShift also makes a Route of each Ingress): enable one of them" -}}
{{- end -}}
{{- range $service := splitList " " (include "bowline.services" $) -}}
{{- $values := index $v (include "bowline.valuesKey" $service) -}}
{{- if and $values.podAntiAffinityPreset (hasKey $values.affinity "podAntiAffinity") -}}
{{- fail (printf "%s: set podAntiAffinityPreset or affinity.podAntiAffinity, not both" (include "bowline.valuesKey" $service)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
