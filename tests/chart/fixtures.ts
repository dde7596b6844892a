import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coalesceValues, mergeUserValues, readYamlFile, renderChart, type Manifest, type RenderOptions, type Values } from './render-chart.js';

// What the chart's test files share: the chart, its values files, and readers of what it renders.

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART = join(ROOT, 'charts', 'bowline');
export const SERVICES = readdirSync(join(ROOT, 'services')).filter((name) => existsSync(join(ROOT, 'services', name, 'package.json')));
export const PORTS: Record<string, number> = { hook: 8888, planner: 8081, 'jenkins-operator': 8082, reporter: 8083, sinker: 8084, deck: 8085, 'kube-bridge': 8086 };
/** A service's key in values.yaml: its name in camelCase (`jenkinsOperator`, `kubeBridge`). */
export const valuesKey = (service: string): string => service.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The optional kinds a cluster may serve, as `.Capabilities.APIVersions` names them. */
export const SERVICE_MONITOR_API = 'monitoring.coreos.com/v1/ServiceMonitor';
export const ROUTE_API = 'route.openshift.io/v1/Route';
/** A cluster with the Prometheus Operator's CRDs, and OpenShift's Routes. */
export const FULL_CLUSTER: RenderOptions = { apiVersions: [SERVICE_MONITOR_API, ROUTE_API] };

export const defaults = readYamlFile(join(CHART, 'values.yaml'));

/** Every values file shipped with the chart: the CI examples and the ones for users. */
export const VALUES_FILES = [
  ...readdirSync(join(CHART, 'ci'))
    .filter((file) => file.endsWith('-values.yaml'))
    .map((file) => `ci/${file}`),
  ...readdirSync(CHART).filter((file) => /^values-.*\.yaml$/.test(file)),
];
export const valuesFile = (file: string): Values => readYamlFile(join(CHART, file));

/** The installs the README shows: each values file alone, and OpenShift on top of production. */
export const INSTALLS: [string, Values[]][] = [
  ...VALUES_FILES.map((file): [string, Values[]] => [file, [valuesFile(file)]]),
  ['values-production.yaml + values-openshift.yaml', [valuesFile('values-production.yaml'), valuesFile('values-openshift.yaml')]],
];

/** The values the templates see for these user files, as Helm computes them. */
export const effectiveValues = (files: Values[]): Values => coalesceValues(defaults, files.reduce(mergeUserValues, {}));

export const token = valuesFile('ci/token-values.yaml');
export const app = valuesFile('ci/app-values.yaml');
export const production = valuesFile('values-production.yaml');
export const openshift = valuesFile('values-openshift.yaml');
export const withValues = (base: Values, override: Values): Values => mergeUserValues(base, override);

// ───────────────────────────── reading manifests ─────────────────────────────

export interface Container {
  name: string;
  image: string;
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: unknown; valueFrom?: unknown }[];
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  startupProbe?: { httpGet: { path: string; port: string } };
  volumeMounts: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}
export interface PodSpec {
  securityContext: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  affinity?: { podAntiAffinity?: Record<string, { podAffinityTerm?: AffinityTerm }[] | AffinityTerm[]>; nodeAffinity?: object };
  containers: Container[];
  volumes: { name: string; emptyDir?: object; hostPath?: object; configMap?: { name: string }; secret?: { secretName: string } }[];
}
export interface AffinityTerm {
  topologyKey: string;
  labelSelector: { matchLabels: Record<string, string> };
}
export interface Deployment extends Manifest {
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } };
}

export const deploymentsOf = (manifests: Manifest[]): Deployment[] => manifests.filter((m): m is Deployment => m.kind === 'Deployment');
export const containerOf = (d: Deployment): Container => d.spec.template.spec.containers[0]!;
export const envOf = (d: Deployment): Record<string, unknown> => Object.fromEntries(containerOf(d).env.map((e) => [e.name, e.value]));
export const serviceOf = (d: Deployment): string => d.metadata.labels!['app.kubernetes.io/component']!;
export const find = (manifests: Manifest[], kind: string, name?: string): Manifest | undefined =>
  manifests.find((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
export const deploymentOf = (manifests: Manifest[], service: string): Deployment => deploymentsOf(manifests).find((d) => serviceOf(d) === service)!;
export const envOfService = (manifests: Manifest[], service: string): Record<string, unknown> => envOf(deploymentOf(manifests, service));

/** Every secret value the values hand the chart, by walking `value` fields of credential blocks. */
export function secretValues(values: unknown): string[] {
  if (typeof values !== 'object' || values === null) return [];
  const own = 'existingSecret' in values && typeof (values as Values).value === 'string' && (values as Values).value ? [(values as Values).value as string] : [];
  return [...own, ...Object.values(values).flatMap(secretValues)];
}

/** The chart rendered for these user values files (on a plain cluster unless options say more). */
export const render = (files: Values[], options?: RenderOptions): Manifest[] => renderChart(CHART, files, options).manifests;

export { mergeUserValues, renderChart, type Manifest, type Values };
