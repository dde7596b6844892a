import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, parseDocument, type YAMLMap } from 'yaml';
import { parseConfig } from '@bowline/config';
import type { Arg, Command } from '@bowline/go';
import { CHART, defaults, effectiveValues, FULL_CLUSTER, INSTALLS, renderChart, VALUES_FILES, valuesFile, type Values } from './fixtures.js';
import { chartTemplates } from './render-chart.js';
import { NATS_CHART_VALUES, unknownNatsValues } from './nats-chart-values.js';

// The chart's values: their schema, their documentation, the config.yaml they carry, the values the
// templates read, and the values handed to the NATS chart.

const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
const validate = ajv.compile(JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as object);
const schemaErrors = (values: Values): ErrorObject[] => (validate(values) ? [] : (validate.errors ?? []));
const withDefaults = (override: Values): Values => effectiveValues([override]);

describe('values.schema.json', () => {
  it("accepts the chart's own values.yaml", () => {
    expect(schemaErrors(defaults)).toEqual([]);
  });

  // Helm validates the values after merging the user's files over values.yaml; so does this.
  it.each(INSTALLS)('accepts %s', (_name, files) => {
    expect(schemaErrors(effectiveValues(files))).toEqual([]);
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
    ['a tenant name that cannot be a volume name', { tenants: { Payments: { existingSecret: 'p' } } }, '/tenants', 'propertyNames'],
    ['a tenant without its Secret', { tenants: { payments: {} } }, '/tenants/payments', 'required'],
    ['an anti-affinity preset it does not know', { sinker: { podAntiAffinityPreset: 'strict' } }, '/sinker/podAntiAffinityPreset', 'enum'],
    ['a Route passing TLS through to the hook, which serves none', { hook: { route: { tls: { termination: 'passthrough' } } } }, '/hook/route/tls/termination', 'enum'],
    ['a container security setting Kubernetes does not have', { containerSecurityContext: { runAsRoot: false } }, '/containerSecurityContext', 'additionalProperties'],
  ])('rejects %s', (_what, override, instancePath, keyword) => {
    const errors = schemaErrors(withDefaults(override as Values));
    expect(errors.map((e) => [e.instancePath, e.keyword])).toContainEqual([instancePath, keyword]);
  });

  // interval and scrapeTimeout go to the ServiceMonitor, so they are Prometheus durations, not the
  // Go durations of Bowline's config.yaml: units y w d h m s ms, each at most once and largest
  // first, or a bare 0. The chart accepts exactly what the Prometheus Operator's CRD accepts.
  const accepts = (interval: string): boolean => {
    try {
      new ServiceMonitor({ metadata: { name: 'm' }, spec: { selector: {}, endpoints: [{ port: 'http', interval }] } }).validate();
      return true;
    } catch {
      return false;
    }
  };
  it.each([
    ['30s', true],
    ['0', true],
    ['1d', true],
    ['1h30m', true],
    ['2w3d', true],
    ['500ms', true],
    ['1m1h', false],
    ['30s30s', false],
    ['1.5s', false],
    ['5x', false],
    ['-1s', false],
  ])('takes %s as a scrape interval: %s, as the ServiceMonitor CRD does', (interval, expected) => {
    expect(accepts(interval)).toBe(expected);
    expect(schemaErrors(withDefaults({ metrics: { serviceMonitor: { interval, scrapeTimeout: interval } } })).length === 0).toBe(expected);
  });

  it('refuses an empty scrape interval, which the CRD would take and Prometheus would not', () => {
    expect(schemaErrors(withDefaults({ metrics: { serviceMonitor: { interval: '' } } })).map((e) => e.instancePath)).toContain('/metrics/serviceMonitor/interval');
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

  it.each(['values.yaml', ...VALUES_FILES])('holds in %s a config.yaml that loads as a Bowline config', (file) => {
    const merged = file === 'values.yaml' ? defaults : effectiveValues([valuesFile(file)]);
    const text = typeof merged.config === 'string' ? merged.config : JSON.stringify(merged.config);
    expect(() => parseConfig(text, `${file}:config`)).not.toThrow();
  });
});

function hasPath(values: unknown, path: string[]): boolean {
  let node = values;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return false;
    node = (node as Values)[key];
  }
  return true;
}

const templates = readdirSync(join(CHART, 'templates')).map((file) => [file, readFileSync(join(CHART, 'templates', file), 'utf8')] as const);

describe('the templates', () => {
  it('refer only to values that values.yaml defines', () => {
    const unknown: string[] = [];
    for (const [file, text] of templates) {
      for (const [, path] of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        if (!hasPath(defaults, path!.slice(1).split('.'))) unknown.push(`${file}: .Values${path}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  // The regex above misses paths read through variables ($v := .Values); rendering catches those.
  it.each(INSTALLS)('read no missing value when rendered with %s', (_name, files) => {
    expect(renderChart(CHART, files, FULL_CLUSTER).missingValues).toEqual([]);
  });
});

/**
 * The NATS chart's values the templates read with `dig "a" "b" <default> <the nats values>`, as
 * `nats.a.b`, found in the parsed templates.
 */
function natsValuesRead(): string[] {
  const paths = new Set<string>();
  const natsMap = (arg: Arg): boolean =>
    ((arg.type === 'field' || arg.type === 'variable') && arg.idents.at(-1) === 'nats') || (arg.type === 'variable' && arg.name === '$nats' && arg.idents.length === 0);
  const walk = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    const { args } = node as Partial<Command>;
    if (Array.isArray(args) && args[0]?.type === 'identifier' && args[0].name === 'dig' && natsMap(args.at(-1)!)) {
      paths.add(['nats', ...args.slice(1, -2).map((a) => String(a.type === 'string' ? a.value : a.text))].join('.'));
    }
    Object.values(node).forEach(walk);
  };
  const templates = chartTemplates(CHART);
  for (const name of templates.names()) walk(templates.tree(name)!.root);
  return [...paths].sort();
}

describe('the values handed to the NATS chart', () => {
  const nested = (path: string): Values => path.split('.').reduceRight<Values>((inner, key) => ({ [key]: inner }), {} as Values);
  // Bowline's own keys under nats: the dependency's condition and the external NATS.
  const ours = ({ enabled: _enabled, url: _url, ...rest }: Values): Values => rest;

  it.each(['values.yaml', ...VALUES_FILES])('in %s are all values the NATS chart 1.2.9 has', (file) => {
    const values = file === 'values.yaml' ? defaults : valuesFile(file);
    expect(unknownNatsValues(ours((values.nats ?? {}) as Values))).toEqual([]);
  });

  it('read by the templates are all values the NATS chart 1.2.9 has', () => {
    const read = natsValuesRead();
    expect(read).toEqual(expect.arrayContaining(['nats.service.name', 'nats.config.cluster.replicas', 'nats.config.nats.tls.enabled', 'nats.tlsCA.secretName']));
    expect(read.flatMap((path) => unknownNatsValues(nested(path.slice('nats.'.length))))).toEqual([]);
  });

  it('are told apart from a misspelt one', () => {
    expect(unknownNatsValues({ config: { cluster: { replica: 3 }, jetstream: { fileStore: { pvc: { size: '1Gi', sise: '2Gi' } } } }, podTemplat: {} })).toEqual([
      'nats.config.cluster.replica',
      'nats.config.jetstream.fileStore.pvc.sise',
      'nats.podTemplat',
    ]);
    expect(Object.keys(NATS_CHART_VALUES)).toContain('natsBox');
  });
});
