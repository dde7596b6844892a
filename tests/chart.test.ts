import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, parseDocument, type YAMLMap } from 'yaml';
import { parseConfig } from '@bowline/config';
import { GoTemplateRunner, parseTemplate, TemplateError } from './chart/go-template.js';
import { mergeValues, readYamlFile, renderChart, type Manifest, type Values } from './chart/render-chart.js';

// The deployment as a cluster admin would review it, checked without helm, kubeconform or docker
// (`make chart-test` adds `helm lint`, `helm template | kubeconform` where they are installed):
// the values against their schema, the chart rendered with each example values file, and the
// Dockerfile against the workspace layout.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHART = join(ROOT, 'charts', 'bowline');
const SERVICES = readdirSync(join(ROOT, 'services')).filter((name) => existsSync(join(ROOT, 'services', name, 'package.json')));
const PORTS: Record<string, number> = { hook: 8888, planner: 8081, 'jenkins-operator': 8082, reporter: 8083, sinker: 8084 };

const defaults = readYamlFile(join(CHART, 'values.yaml'));
const exampleFiles = [
  ...readdirSync(join(CHART, 'ci'))
    .filter((file) => file.endsWith('-values.yaml'))
    .map((file) => `ci/${file}`),
  'values-production.yaml',
];
const examples = exampleFiles.map((file) => [file, readYamlFile(join(CHART, file))] as const);

// ───────────────────────────── values and schema ─────────────────────────────

const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
const validate = ajv.compile(JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as object);
const schemaErrors = (values: Values): ErrorObject[] => (validate(values) ? [] : (validate.errors ?? []));

describe('values.schema.json', () => {
  it('accepts the chart\'s own values.yaml', () => {
    expect(schemaErrors(defaults)).toEqual([]);
  });

  // Helm validates the values after merging the user's files over values.yaml; so does this.
  it.each(examples)('accepts %s', (_file, values) => {
    expect(schemaErrors(mergeValues(defaults, values))).toEqual([]);
  });

  it.each([
    ['a misspelt key', { hook: { replica: 3 } }, '/hook', 'additionalProperties'],
    ['a misspelt top-level key', { github_token: 'x' }, '', 'additionalProperties'],
    ['replicas given as a string', { planner: { replicas: '2' } }, '/planner/replicas', 'type'],
    ['an App id given as a number (Helm would print 1.234567e+06)', { github: { app: { id: 1234567 } } }, '/github/app/id', 'type'],
    ['an env value that is not a string', { hook: { extraEnv: [{ name: 'HOOK_PUBLISH_TIMEOUT', value: 5 }] } }, '/hook/extraEnv/0/value', 'type'],
    ['a pull policy Kubernetes does not know', { image: { pullPolicy: 'Sometimes' } }, '/image/pullPolicy', 'enum'],
    ['more JetStream replicas than NATS allows', { bowline: { natsReplicas: 7 } }, '/bowline/natsReplicas', 'maximum'],
    ['a NATS URL without a scheme', { nats: { url: 'nats.example.com:4222' } }, '/nats/url', 'pattern'],
    ['a relative mount path', { jenkins: { extraMasterSecrets: [{ secretName: 'j', mountPath: 'etc/j' }] } }, '/jenkins/extraMasterSecrets/0/mountPath', 'pattern'],
  ])('rejects %s', (_what, override, instancePath, keyword) => {
    const errors = schemaErrors(mergeValues(defaults, override as Values));
    expect(errors.map((e) => [e.instancePath, e.keyword])).toContainEqual([instancePath, keyword]);
  });
});

describe('values.yaml', () => {
  // A key is documented by its own comment, which then covers a whole free-form value (such as
  // `resources`), or else each key under it must be.
  it('has a comment on every value', () => {
    const doc = parseDocument(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
    const undocumented: string[] = [];
    const walk = (map: YAMLMap, path: string): void => {
      map.items.forEach((pair, i) => {
        const key = pair.key as { value: string; commentBefore?: string | null };
        const value = pair.value as { comment?: string | null } | null;
        // The yaml library hangs the comment above a map's first key on the map itself.
        const commented = Boolean(key.commentBefore || value?.comment || (i === 0 && map.commentBefore));
        if (commented) return;
        if (isMap(pair.value) && pair.value.items.length > 0) walk(pair.value, `${path}.${key.value}`);
        else undocumented.push(`${path}.${key.value}`);
      });
    };
    walk(doc.contents as YAMLMap, '');
    expect(undocumented).toEqual([]);
  });

  it('holds a config.yaml that loads as a Bowline config, as do the examples', () => {
    for (const [file, values] of [['values.yaml', defaults] as const, ...examples]) {
      const merged = mergeValues(defaults, values);
      const text = typeof merged.config === 'string' ? merged.config : JSON.stringify(merged.config);
      expect(() => parseConfig(text, `${file}:config`)).not.toThrow();
    }
  });
});

// ───────────────────────────── templates ─────────────────────────────

function hasPath(values: unknown, path: string[]): boolean {
  let node = values;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return false;
    node = (node as Values)[key];
  }
  return true;
}

describe('the templates', () => {
  it('refer only to values that values.yaml defines', () => {
    const templates = readdirSync(join(CHART, 'templates'));
    const unknown: string[] = [];
    for (const file of templates) {
      const text = readFileSync(join(CHART, 'templates', file), 'utf8');
      for (const [, path] of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        if (!hasPath(defaults, path!.slice(1).split('.'))) unknown.push(`${file}: .Values${path}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  // The regex above misses paths read through variables ($v := .Values); rendering catches those.
  it.each(examples)('read no missing value when rendered with %s', (_file, values) => {
    expect(renderChart(CHART, [values]).missingValues).toEqual([]);
  });
});

// ───────────────────────────── rendered manifests ─────────────────────────────

interface Container {
  name: string;
  image: string;
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: unknown; valueFrom?: unknown }[];
  securityContext: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  startupProbe?: { httpGet: { path: string; port: string } };
  volumeMounts: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}
interface PodSpec {
  securityContext: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  containers: Container[];
  volumes: { name: string; emptyDir?: object; configMap?: { name: string }; secret?: { secretName: string } }[];
}
interface Deployment extends Manifest {
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } };
}

const deploymentsOf = (manifests: Manifest[]): Deployment[] => manifests.filter((m): m is Deployment => m.kind === 'Deployment');
const containerOf = (d: Deployment): Container => d.spec.template.spec.containers[0]!;
const envOf = (d: Deployment): Record<string, unknown> => Object.fromEntries(containerOf(d).env.map((e) => [e.name, e.value]));
const serviceOf = (d: Deployment): string => d.metadata.labels!['app.kubernetes.io/component']!;

/** Every secret value the values file hands the chart, by walking `value` fields of credential blocks. */
function secretValues(values: unknown): string[] {
  if (typeof values !== 'object' || values === null) return [];
  const own = 'existingSecret' in values && typeof (values as Values).value === 'string' && (values as Values).value ? [(values as Values).value as string] : [];
  return [...own, ...Object.values(values).flatMap(secretValues)];
}

function nullsIn(value: unknown, path: string): string[] {
  if (value === null || value === undefined) return [path];
  if (typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => nullsIn(v, `${path}.${k}`));
}

describe.each(examples)('the chart rendered with %s', (_file, values) => {
  const merged = mergeValues(defaults, values);
  const { manifests } = renderChart(CHART, [values]);
  const deployments = deploymentsOf(manifests);
  const enabled = SERVICES.filter((s) => (merged[s === 'jenkins-operator' ? 'jenkinsOperator' : s] as { enabled: boolean }).enabled);

  it('has a Deployment and a Service for each enabled service, on the port the design gives it', () => {
    expect(deployments.map(serviceOf).sort()).toEqual([...enabled].sort());
    for (const d of deployments) {
      const port = PORTS[serviceOf(d)];
      expect(containerOf(d).ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
      expect(envOf(d).PORT).toBe(String(port));
      const service = manifests.find((m) => m.kind === 'Service' && m.metadata.name === d.metadata.name) as Manifest & { spec: { selector: Record<string, string>; ports: object[] } };
      expect(service.spec.ports).toEqual([{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }]);
      expect(d.spec.template.metadata.labels).toMatchObject(service.spec.selector);
      expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
    }
  });

  it('runs every container as a non-root user with a read-only root, no privilege and no capability', () => {
    for (const d of deployments) {
      expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(d.spec.template.spec.automountServiceAccountToken).toBe(false);
      expect(containerOf(d).securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      const tmp = containerOf(d).volumeMounts.find((m) => m.mountPath === '/tmp');
      expect(d.spec.template.spec.volumes.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    }
  });

  it('probes /healthz for liveness and /readyz for readiness on the http port', () => {
    for (const d of deployments) {
      expect(containerOf(d).livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(containerOf(d).readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    }
  });

  it('mounts config.yaml as a directory, never with subPath, so live reload sees ConfigMap updates', () => {
    for (const d of deployments) {
      const mounts = containerOf(d).volumeMounts;
      expect(mounts.filter((m) => m.subPath !== undefined)).toEqual([]);
      if (serviceOf(d) === 'hook') continue;
      expect(envOf(d).BOWLINE_CONFIG).toBe('/etc/bowline/config/config.yaml');
      const config = mounts.find((m) => m.mountPath === '/etc/bowline/config');
      const volume = d.spec.template.spec.volumes.find((v) => v.name === config?.name);
      const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === volume?.configMap?.name) as (Manifest & { data: Record<string, string> }) | undefined;
      expect(configMap?.data['config.yaml']).toBeDefined();
    }
  });

  it('hands every secret over as a file in a mounted Secret, never as an environment value', () => {
    const secrets = secretValues(merged);
    for (const d of deployments) {
      const container = containerOf(d);
      for (const e of container.env) expect(typeof e.value === 'string' || e.valueFrom !== undefined).toBe(true);
      for (const [name, path] of Object.entries(envOf(d)).filter(([name]) => name.endsWith('_FILE'))) {
        const mount = container.volumeMounts.find((m) => dirname(path as string) === m.mountPath);
        expect({ name, mount: mount?.mountPath }).toEqual({ name, mount: dirname(path as string) });
        const secretName = d.spec.template.spec.volumes.find((v) => v.name === mount!.name)?.secret?.secretName;
        expect(secretName).toBeDefined();
        const made = manifests.find((m) => m.kind === 'Secret' && m.metadata.name === secretName) as (Manifest & { data: Record<string, string> }) | undefined;
        // Either the chart made the Secret with that key, or the values name an existing one.
        if (made) expect(Object.keys(made.data)).toContain(basename(path as string));
        else expect(JSON.stringify(values)).toContain(`"existingSecret":"${secretName}"`);
      }
    }
    const outsideSecrets = JSON.stringify(manifests.filter((m) => m.kind !== 'Secret'));
    for (const secret of secrets) {
      expect(outsideSecrets).not.toContain(secret);
      expect(outsideSecrets).not.toContain(Buffer.from(secret).toString('base64'));
    }
  });

  it('mounts no volume inside another', () => {
    for (const d of deployments) {
      const paths = containerOf(d).volumeMounts.map((m) => m.mountPath);
      const nested = paths.filter((p) => paths.some((q) => q !== p && p.startsWith(`${q}/`)));
      expect(nested).toEqual([]);
    }
  });

  it('puts a PodDisruptionBudget on each service running more than one replica, and on no other', () => {
    const budgets = manifests.filter((m) => m.kind === 'PodDisruptionBudget').map((m) => m.metadata.name);
    expect(budgets.sort()).toEqual(deployments.filter((d) => d.spec.replicas > 1).map((d) => d.metadata.name).sort());
  });

  it('leaves no key empty (null)', () => {
    expect(manifests.flatMap((m) => nullsIn(m, `${m.kind}/${m.metadata.name}`))).toEqual([]);
  });
});

describe('the chart', () => {
  const token = new Map(examples).get('ci/token-values.yaml')!;
  const app = new Map(examples).get('ci/app-values.yaml')!;
  const production = new Map(examples).get('values-production.yaml')!;
  const find = (manifests: Manifest[], kind: string, name?: string): Manifest | undefined =>
    manifests.find((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  const env = (manifests: Manifest[], service: string): Record<string, unknown> =>
    envOf(deploymentsOf(manifests).find((d) => serviceOf(d) === service)!);

  it('connects to the bundled NATS by its Service name, or to the external nats.url', () => {
    expect(env(renderChart(CHART, [token]).manifests, 'planner').NATS_URL).toBe('nats://bowline-nats:4222');
    // The NATS chart's own naming: a release whose name contains "nats" is the Service name.
    expect(env(renderChart(CHART, [token], { name: 'ci-nats', namespace: 'ci' }).manifests, 'planner').NATS_URL).toBe('nats://ci-nats:4222');
    expect(env(renderChart(CHART, [token], { name: 'prow', namespace: 'ci' }).manifests, 'planner').NATS_URL).toBe('nats://prow-nats:4222');
    expect(env(renderChart(CHART, [app]).manifests, 'planner').NATS_URL).toBe('nats://nats.messaging.svc:4222');
  });

  it('creates Bowline\'s streams with the replica count of the NATS cluster in production', () => {
    const { manifests } = renderChart(CHART, [production]);
    for (const d of deploymentsOf(manifests)) expect(envOf(d).BOWLINE_NATS_REPLICAS).toBe('3');
  });

  it('names the default Jenkins master by JENKINS_URL, and mounts the other masters\' Secrets into the operator', () => {
    expect(env(renderChart(CHART, [token]).manifests, 'jenkins-operator')).toMatchObject({
      JENKINS_URL: 'https://jenkins.example.com/',
      JENKINS_USER: 'bowline',
      JENKINS_TOKEN_FILE: '/etc/bowline/jenkins-token/token',
    });
    expect(env(renderChart(CHART, [production]).manifests, 'jenkins-operator')).toMatchObject({ JENKINS_CA_FILE: '/etc/bowline/jenkins-ca/ca.pem' });
    const operator = deploymentsOf(renderChart(CHART, [app]).manifests).find((d) => serviceOf(d) === 'jenkins-operator')!;
    expect(envOf(operator).JENKINS_URL).toBeUndefined();
    expect(containerOf(operator).volumeMounts.map((m) => m.mountPath)).toEqual(expect.arrayContaining(['/etc/bowline/jenkins/ci', '/etc/bowline/jenkins/release']));
    const bearer = mergeValues(token, { jenkins: { token: { value: '' }, bearerToken: { value: 'bearer-xyz' } } });
    expect(env(renderChart(CHART, [bearer]).manifests, 'jenkins-operator')).toMatchObject({ JENKINS_BEARER_TOKEN_FILE: '/etc/bowline/jenkins-bearer-token/token' });
    expect(env(renderChart(CHART, [bearer]).manifests, 'jenkins-operator').JENKINS_USER).toBeUndefined();
  });

  it('stores each secret given as a value in a Secret of its own, which nothing else contains', () => {
    const { manifests } = renderChart(CHART, [token]);
    const secrets = manifests.filter((m) => m.kind === 'Secret') as (Manifest & { data: Record<string, string> })[];
    expect(Object.fromEntries(secrets.map((s) => [s.metadata.name, s.data]))).toEqual({
      'bowline-github-webhook': { hmac: Buffer.from('ci-webhook-secret-6f1c2a').toString('base64') },
      'bowline-github-token': { token: Buffer.from('ghp_ciTokenValue0123456789').toString('base64') },
      'bowline-jenkins-token': { token: Buffer.from('ci-jenkins-api-token-11aa').toString('base64') },
    });
    // What the "never as an environment value" check above looks for.
    expect(secretValues(mergeValues(defaults, token)).sort()).toEqual(['ci-jenkins-api-token-11aa', 'ci-webhook-secret-6f1c2a', 'ghp_ciTokenValue0123456789']);
  });

  it('gives the GitHub App to the hook, planner and reporter', () => {
    const { manifests } = renderChart(CHART, [app]);
    for (const service of ['hook', 'planner', 'reporter']) {
      expect(env(manifests, service)).toMatchObject({ GITHUB_APP_ID: '1234567', GITHUB_APP_PRIVATE_KEY_FILE: '/etc/bowline/github-app/app.pem', GITHUB_API_URL: 'https://github.example.com/api/v3' });
    }
    expect(env(manifests, 'planner').GITHUB_TOKEN_FILE).toBeUndefined();
    expect(find(manifests, 'Secret')).toBeUndefined();
  });

  it('routes only POST /hook from the Ingress, to the hook\'s http port', () => {
    const ingress = find(renderChart(CHART, [token]).manifests, 'Ingress') as Manifest & { spec: { rules: { host: string; http: { paths: object[] } }[]; tls: object[] } };
    expect(ingress.spec.rules).toEqual([
      { host: 'prow.example.com', http: { paths: [{ path: '/hook', pathType: 'Exact', backend: { service: { name: 'bowline-hook', port: { name: 'http' } } } }] } },
    ]);
    expect(ingress.spec.tls).toEqual([{ hosts: ['prow.example.com'], secretName: 'prow-example-com-tls' }]);
    expect(find(renderChart(CHART, [app]).manifests, 'Ingress')).toBeUndefined();
  });

  it('scrapes every service\'s /metrics through one ServiceMonitor when asked', () => {
    const { manifests } = renderChart(CHART, [token]);
    const monitor = find(manifests, 'ServiceMonitor') as Manifest & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: object[] } };
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.metadata.labels).toMatchObject({ release: 'prometheus' });
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    const services = manifests.filter((m) => m.kind === 'Service');
    expect(services).toHaveLength(SERVICES.length);
    for (const service of services) expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(find(renderChart(CHART, [app]).manifests, 'ServiceMonitor')).toBeUndefined();
  });

  it('puts config.yaml in the ConfigMap as given, and Prow\'s job config beside it', () => {
    const { manifests } = renderChart(CHART, [token]);
    const config = find(manifests, 'ConfigMap', 'bowline-config') as Manifest & { data: Record<string, string> };
    expect(config.data['config.yaml']).toBe(token.config);
    const jobs = find(manifests, 'ConfigMap', 'bowline-job-config') as Manifest & { data: Record<string, string> };
    expect(Object.keys(jobs.data)).toEqual(['acme-widgets.yaml']);
    expect(env(manifests, 'planner').BOWLINE_JOB_CONFIG).toBe('/etc/bowline/job-config');
    const existing = renderChart(CHART, [mergeValues(token, { existingConfigMap: 'prow-config' })]).manifests;
    expect(find(existing, 'ConfigMap', 'bowline-config')).toBeUndefined();
    const planner = deploymentsOf(existing).find((d) => serviceOf(d) === 'planner')!;
    expect(planner.spec.template.spec.volumes.find((v) => v.name === 'config')?.configMap?.name).toBe('prow-config');
  });

  it('restarts pods on a config change only with rollOnConfigChange, since config reloads live', () => {
    const checksum = (values: Values): (string | undefined)[] =>
      deploymentsOf(renderChart(CHART, [values]).manifests).map((d) => d.spec.template.metadata.annotations?.['checksum/config']);
    const before = checksum(token);
    const after = checksum(mergeValues(token, { config: `${token.config as string}\n# edited\n` }));
    // The hook reads no config.yaml.
    expect(before[0]).toBeUndefined();
    expect(before.slice(1).every((sum) => /^[0-9a-f]{64}$/.test(sum ?? ''))).toBe(true);
    expect(after.slice(1)).not.toEqual(before.slice(1));
    expect(checksum(mergeValues(token, { rollOnConfigChange: false })).every((sum) => sum === undefined)).toBe(true);
  });

  it('restarts the pods reading a chart-made Secret when its value changes', () => {
    const sums = (values: Values): Record<string, string | undefined> =>
      Object.fromEntries(deploymentsOf(renderChart(CHART, [values]).manifests).map((d) => [serviceOf(d), d.spec.template.metadata.annotations?.['checksum/secrets']]));
    const before = sums(token);
    const after = sums(mergeValues(token, { github: { token: { value: 'ghp_rotated' } } }));
    expect(after.planner).not.toBe(before.planner);
    expect(after.reporter).not.toBe(before.reporter);
    expect(after.hook).toBe(before.hook);
    expect(after['jenkins-operator']).toBe(before['jenkins-operator']);
  });

  it('uses <image.repository>/<service>:<tag>, the appVersion by default, and a service\'s own image when set', () => {
    const images = (values: Values): Record<string, string> =>
      Object.fromEntries(deploymentsOf(renderChart(CHART, [values]).manifests).map((d) => [serviceOf(d), containerOf(d).image]));
    expect(images(token)).toEqual(Object.fromEntries(SERVICES.map((s) => [s, `registry.example.com/ci/bowline/${s}:0.1.0`])));
    expect(images(app).hook).toBe('bowline/hook:0.1.0');
    expect(images(mergeValues(app, { hook: { image: { repository: 'mirror.example.com/hook', tag: 'dev' } } })).hook).toBe('mirror.example.com/hook:dev');
  });

  it.each([
    ['no webhook secret', { github: { webhookSecret: { value: '' } } }, 'github.webhookSecret'],
    ['no GitHub token nor App', { github: { token: { value: '' } } }, 'a token (github.token) or a GitHub App'],
    ['an App id without its key', { github: { app: { id: '42' } } }, 'github.app.privateKey'],
    ['a Jenkins URL without credentials', { jenkins: { token: { value: '' } } }, 'jenkins.user and jenkins.token'],
    ['both a Jenkins token and a bearer token', { jenkins: { bearerToken: { value: 'b' } } }, 'not both'],
    ['neither the bundled NATS nor nats.url', { nats: { enabled: false } }, 'set nats.url'],
  ])('refuses to install with %s, saying what to set', (_what, override, message) => {
    expect(() => renderChart(CHART, [mergeValues(token, override as Values)])).toThrow(message);
  });

  it('tells in NOTES.txt where GitHub must post, with which secret and events', () => {
    const { notes } = renderChart(CHART, [token]);
    expect(notes).toContain('Payload URL:   https://prow.example.com/hook');
    expect(notes).toContain('Content type:  application/json');
    expect(notes).toContain("kubectl -n ci get secret bowline-github-webhook -o jsonpath='{.data.hmac}' | base64 -d");
    expect(notes).toContain('Pull requests, Issue comments, Pushes');
    const withoutIngress = renderChart(CHART, [app]).notes;
    expect(withoutIngress).toContain('kubectl -n ci port-forward svc/bowline-hook 8888:8888');
    expect(withoutIngress).toContain("get secret bowline-webhook -o jsonpath='{.data.hmac}'");
    expect(withoutIngress).toContain('config.yaml must list the masters under bowline.jenkins');
  });
});

// The renderer stands in for helm here, so the Go behaviours the chart leans on are pinned.
describe('the template renderer', () => {
  const render = (text: string, data: unknown): string => {
    const defines = new Map();
    const nodes = parseTemplate(text, 't', defines);
    return new GoTemplateRunner(defines).render(nodes, data);
  };

  it.each([
    ['trims around {{- and -}}', 'a  \n {{- "b" -}} \n c', {}, 'abc'],
    ['takes the first true branch of if / else if / else', '{{ if .a }}A{{ else if .b }}B{{ else }}C{{ end }}', { a: 0, b: 'x' }, 'B'],
    ['ranges over a map in key order', '{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}', { b: 2, a: 1 }, 'a=1;b=2;'],
    ['prints a float64 of a million as Go does', '{{ .n }} {{ .m }}', { n: 1234567, m: 8888 }, '1.234567e+06 8888'],
    ['defaults an empty value', '{{ .x | default "d" }}', { x: '' }, 'd'],
    ['includes a define with nindent', '{{- define "l" }}a: 1\nb: 2{{ end }}x:{{ include "l" . | nindent 2 }}', {}, 'x:\n  a: 1\n  b: 2'],
  ])('%s', (_what, text, data, expected) => {
    expect(render(text, data)).toBe(expected);
  });

  it.each([
    ['compares a float64 value with an int literal, as Helm fails to', '{{ if gt .n 1 }}{{ end }}', { n: 2 }, 'incompatible types'],
    ['reads a field of a missing value', '{{ .a.b }}', {}, 'nil pointer evaluating'],
    ['calls a function it does not know', '{{ frobnicate 1 }}', {}, 'not defined'],
  ])('fails when a template %s', (_what, text, data, message) => {
    expect(() => render(text, data)).toThrow(TemplateError);
    expect(() => render(text, data)).toThrow(message);
  });
});

// ───────────────────────────── Dockerfile ─────────────────────────────

interface Stage {
  name: string;
  from: string;
  copies: { from?: string; sources: string[]; dest: string }[];
  runs: string[];
  env: Record<string, string>;
  user?: string;
  cmd?: string;
  entrypoint?: string;
}

function parseDockerfile(text: string): Stage[] {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [instruction, ...words] = line.split(/\s+/);
    const rest = line.slice(instruction!.length).trim().replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
    const stage = stages.at(-1);
    switch (instruction!.toUpperCase()) {
      case 'ARG': {
        const [name, value] = rest.split('=');
        args[name!] = value ?? '';
        break;
      }
      case 'FROM': {
        const [, image, name] = /^(\S+)\s+AS\s+(\S+)$/i.exec(rest) ?? [];
        const parent = stages.find((s) => s.name === image);
        stages.push({ name: name ?? String(stages.length), from: image ?? rest, copies: [], runs: [], env: { ...parent?.env } });
        break;
      }
      case 'COPY': {
        const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
        stage!.copies.push({ from, sources: words.slice(0, -1), dest: words.at(-1)! });
        break;
      }
      case 'RUN':
        stage!.runs.push(rest);
        break;
      case 'ENV': {
        const [name, value] = rest.split('=');
        stage!.env[name!] = value!;
        break;
      }
      case 'USER':
        stage!.user = rest;
        break;
      case 'CMD':
        stage!.cmd = rest;
        break;
      case 'ENTRYPOINT':
        stage!.entrypoint = rest;
        break;
    }
  }
  return stages;
}

/** The stage and the stages it is built FROM, nearest first. */
function chainOf(stages: Stage[], name: string): Stage[] {
  const chain: Stage[] = [];
  for (let stage = stages.find((s) => s.name === name); stage; stage = stages.find((s) => s.name === stage!.from)) chain.push(stage);
  return chain;
}

/**
 * Paths a chain of stages puts under WORKDIR (/app), as `libs/bus/dist`, `node_modules`. A copy
 * of another stage's whole WORKDIR (`COPY --from=manifests /app ./`) brings what that stage put there.
 */
function copiedPaths(chain: Stage[], stages: Stage[] = []): Set<string> {
  const paths = new Set<string>();
  for (const stage of chain) {
    for (const copy of stage.copies) {
      if (copy.from && copy.sources.length === 1 && /^\/app\/?$/.test(copy.sources[0]!)) {
        for (const path of copiedPaths(chainOf(stages, copy.from), stages)) paths.add(path);
        continue;
      }
      for (const source of copy.sources) {
        const dest = copy.dest.endsWith('/') ? `${copy.dest}${basename(source)}` : copy.dest;
        paths.add(dest.replace(/^\.\//, '').replace(/\/$/, ''));
      }
    }
  }
  return paths;
}

interface PackageJson {
  name: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
}
const readPackage = (dir: string): PackageJson => JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as PackageJson;

/** Workspace directories, from the root package.json's list (globs such as services/* expanded). */
const workspaces = readPackage('.').workspaces!.flatMap((entry) =>
  entry.endsWith('/*')
    ? readdirSync(join(ROOT, entry.slice(0, -2)))
        .map((name) => `${entry.slice(0, -2)}/${name}`)
        .filter((dir) => existsSync(join(ROOT, dir, 'package.json')))
    : [entry],
);
const workspaceByName = new Map(workspaces.map((dir) => [readPackage(dir).name, dir]));

/** The workspaces a workspace needs at run time: itself and its @bowline dependencies, transitively. */
function runtimeWorkspaces(dir: string, seen = new Set<string>()): Set<string> {
  seen.add(dir);
  for (const name of Object.keys(readPackage(dir).dependencies ?? {})) {
    const dep = workspaceByName.get(name);
    if (dep && !seen.has(dep)) runtimeWorkspaces(dep, seen);
  }
  return seen;
}

describe('the Dockerfile', () => {
  const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const targets = [...SERVICES.map((s) => [s, `services/${s}`] as const), ['cli', 'cli'] as const];
  const installs = stages.filter((s) => s.runs.some((r) => /\bnpm ci\b/.test(r)));
  const prodDeps = installs.filter((s) => s.runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r)));

  it('has a build target for every service in services/, and for the cli', () => {
    expect(targets.map(([name]) => name).filter((name) => !stages.some((s) => s.name === name))).toEqual([]);
  });

  it('starts each service with node services/<name>/dist/main.js in exec form', () => {
    for (const service of SERVICES) {
      expect(stages.find((s) => s.name === service)?.cmd).toBe(JSON.stringify([`services/${service}/dist/main.js`]));
    }
  });

  it('gives npm ci the lock file and every workspace\'s package.json, and installs production dependencies apart', () => {
    expect(installs.length).toBeGreaterThanOrEqual(2);
    expect(prodDeps).toHaveLength(1);
    for (const stage of installs) {
      const copied = copiedPaths([stage], stages);
      const needed = ['package.json', 'package-lock.json', ...workspaces.map((dir) => `${dir}/package.json`)];
      expect(needed.filter((path) => !copied.has(path))).toEqual([]);
    }
  });

  it.each(targets)('copies into the %s image the package.json and dist of every workspace it runs, and production node_modules only', (name, dir) => {
    const chain = chainOf(stages, name);
    const copied = copiedPaths(chain, stages);
    const needed = [...runtimeWorkspaces(dir)].flatMap((ws) => [`${ws}/package.json`, `${ws}/dist`]);
    expect(needed.filter((path) => !copied.has(path))).toEqual([]);
    const nodeModules = chain.flatMap((s) => s.copies).filter((c) => c.dest === 'node_modules');
    expect(nodeModules.map((c) => c.from)).toEqual([prodDeps[0]!.name]);
  });

  it.each(targets)('runs the %s image as a numeric non-root user, with NODE_ENV=production and no shell', (name, _dir) => {
    const chain = chainOf(stages, name);
    const user = chain.find((s) => s.user !== undefined)?.user ?? '0';
    expect(user).toMatch(/^[1-9][0-9]*(:[0-9]+)?$/);
    expect(chain[0]!.env.NODE_ENV).toBe('production');
    expect(chain.at(-1)!.from).toMatch(/^gcr\.io\/distroless\/nodejs/);
    for (const form of [chain.find((s) => s.cmd)?.cmd, chain.find((s) => s.entrypoint)?.entrypoint].filter(Boolean)) {
      expect(() => JSON.parse(form!) as unknown).not.toThrow();
    }
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist']));
    const fromContext = stages.flatMap((s) => s.copies.filter((c) => !c.from).flatMap((c) => c.sources));
    expect(fromContext.filter((source) => !existsSync(join(ROOT, source)))).toEqual([]);
    const ignoredTopLevel = new Set(ignored.filter((l) => l && !l.startsWith('#') && !l.includes('/') && !l.includes('*')));
    expect(fromContext.filter((source) => ignoredTopLevel.has(source.split('/')[0]!))).toEqual([]);
    expect(fromContext.filter((source) => statSync(join(ROOT, source)).isDirectory() && source.split('/').includes('dist'))).toEqual([]);
  });

  it('is built by `make images` for every target', () => {
    const makefile = readFileSync(join(ROOT, 'Makefile'), 'utf8');
    const images = /^IMAGES\s*:?=\s*(.*)$/m.exec(makefile)?.[1]?.trim().split(/\s+/) ?? [];
    expect(images.sort()).toEqual(targets.map(([name]) => name).sort());
  });
});
