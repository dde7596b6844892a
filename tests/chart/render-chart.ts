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

/** Helm's coalescing: maps merge key by key, anything else is replaced, null deletes the key. */
export function mergeValues(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else if (isMap(value) && isMap(out[key])) out[key] = mergeValues(out[key], value);
    else out[key] = value;
  }
  return out;
}

function recordPaths(value: unknown, path: string, paths: WeakMap<object, string>): void {
  if (!isMap(value)) return;
  paths.set(value, path);
  for (const [key, child] of Object.entries(value)) recordPaths(child, `${path}.${key}`, paths);
}

export function renderChart(chartDir: string, overrides: Values[] = [], release = { name: 'bowline', namespace: 'ci' }): RenderedChart {
  const chart = readYamlFile(join(chartDir, 'Chart.yaml'));
  const values = overrides.reduce(mergeValues, readYamlFile(join(chartDir, 'values.yaml')));
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
    if (path) missing.add(`${path}.${key}`);
  };
  const root = {
    Values: values,
    Release: goStruct({ Name: release.name, Namespace: release.namespace, Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1n }),
    Chart: goStruct({ Name: chart.name, Version: chart.version, AppVersion: chart.appVersion, Description: chart.description }),
    Capabilities: goStruct({ KubeVersion: goStruct({ Version: 'v1.30.0', Major: '1', Minor: '30' }) }),
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
