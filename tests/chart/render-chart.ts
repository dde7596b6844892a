import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { goStruct, GoTemplateRunner, parseTemplate } from './go-template.js';

/*
 * `helm template` for charts/bowline, without helm: values merged as Helm coalesces them, every
 * template rendered with Go's template semantics (go-template.ts), and each manifest parsed as
 * YAML. The bundled NATS chart (a dependency that is not vendored) is not rendered.
 */

export type Values = Record<string, unknown>;
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  /** The template file it came from. */
  source: string;
  [field: string]: unknown;
}
export interface RenderedChart {
  manifests: Manifest[];
  notes: string;
  /** Values paths the templates read that the values do not have (a typo in a template). */
  missingValues: string[];
}

export function readYamlFile(path: string): Values {
  return (parse(readFileSync(path, 'utf8')) as Values | null) ?? {};
}

function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Helm's merge of the user's values files (and --set) among themselves: a later file wins, maps
 * merge key by key, and a null is kept as a value, for coalesceValues to act on.
 */
export function mergeUserValues(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = isMap(value) && isMap(out[key]) ? mergeUserValues(out[key], value) : value;
  }
  return out;
}

/**
 * Helm's coalescing of the user's values over the chart's values.yaml: maps merge, anything else
 * is replaced, and a key the user sets to null is removed, defaults and all. This is why
 * `podSecurityContext: null` drops the chart's user ids where `podSecurityContext: {}` keeps them.
 */
export function coalesceValues(defaults: Values, user: Values): Values {
  const out: Values = { ...defaults };
  for (const [key, value] of Object.entries(user)) {
    if (value === null && Object.hasOwn(defaults, key)) delete out[key];
    else if (isMap(value) && isMap(out[key])) out[key] = coalesceValues(out[key], value);
    else out[key] = value;
  }
  return out;
}

/** The paths (`.Values.a.b`) a user's values set to null. */
function nulledPaths(values: unknown, path: string, out: Set<string>): Set<string> {
  if (!isMap(values)) return out;
  for (const [key, value] of Object.entries(values)) {
    if (value === null) out.add(`${path}.${key}`);
    else nulledPaths(value, `${path}.${key}`, out);
  }
  return out;
}

function recordPaths(value: unknown, path: string, paths: WeakMap<object, string>): void {
  if (!isMap(value)) return;
  paths.set(value, path);
  for (const [key, child] of Object.entries(value)) recordPaths(child, `${path}.${key}`, paths);
}

export interface RenderOptions {
  release?: { name: string; namespace: string };
  /**
   * What `.Capabilities.APIVersions.Has` finds besides the built-in kinds, as `helm install` sees a
   * cluster's CRDs and API groups (or `helm template --api-versions`).
   */
  apiVersions?: string[];
}

const BUILT_IN_API_VERSIONS = ['v1', 'apps/v1', 'policy/v1', 'networking.k8s.io/v1'];

/** The chart rendered with the user's values files, in the order `helm install -f … -f …` takes them. */
export function renderChart(chartDir: string, valuesFiles: Values[] = [], options: RenderOptions = {}): RenderedChart {
  const release = options.release ?? { name: 'bowline', namespace: 'ci' };
  const chart = readYamlFile(join(chartDir, 'Chart.yaml'));
  const user = valuesFiles.reduce(mergeUserValues, {});
  const values = coalesceValues(readYamlFile(join(chartDir, 'values.yaml')), user);
  const nulled = nulledPaths(user, '.Values', new Set());
  const apiVersions = new Set([...BUILT_IN_API_VERSIONS, ...(options.apiVersions ?? [])]);
  const templatesDir = join(chartDir, 'templates');
  const files = readdirSync(templatesDir).sort();
  const defines = new Map();
  const parsed = new Map(files.map((file) => [file, parseTemplate(readFileSync(join(templatesDir, file), 'utf8'), file, defines)]));

  const paths = new WeakMap<object, string>();
  recordPaths(values, '.Values', paths);
  const missing = new Set<string>();
  const runner = new GoTemplateRunner(defines);
  runner.onMissing = (map, key) => {
    const path = paths.get(map);
    // A value the user removed with null is missing on purpose.
    if (path && !nulled.has(`${path}.${key}`)) missing.add(`${path}.${key}`);
  };
  const root = {
    Values: values,
    Release: goStruct({ Name: release.name, Namespace: release.namespace, Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1n }),
    Chart: goStruct({ Name: chart.name, Version: chart.version, AppVersion: chart.appVersion, Description: chart.description }),
    Capabilities: goStruct({
      KubeVersion: goStruct({ Version: 'v1.30.0', Major: '1', Minor: '30' }),
      APIVersions: goStruct({ Has: (version: unknown) => apiVersions.has(String(version)) }),
    }),
  };

  const manifests: Manifest[] = [];
  let notes = '';
  for (const [file, nodes] of parsed) {
    if (file.startsWith('_')) continue;
    const text = runner.render(nodes, root);
    if (file === 'NOTES.txt') {
      notes = text;
      continue;
    }
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`${file} renders invalid YAML: ${doc.errors[0]!.message}\n${text}`);
      const manifest = doc.toJS() as Manifest | null;
      if (manifest) manifests.push({ ...manifest, source: file });
    }
  }
  return { manifests, notes, missingValues: [...missing].sort() };
}
