import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { GoMap, goKind, TemplateSet, type TemplateOptions } from '@bowline/go';
import { helmFunctions, helmValue, type ClusterObject } from './helm-functions.js';

/*
 * `helm template` for charts/bowline, without helm: values merged as Helm coalesces them, every
 * template rendered by @bowline/go's text/template with the Sprig and Helm functions of
 * helm-functions.ts, and each manifest parsed as YAML. The bundled NATS chart (a dependency that
 * is not vendored) is not rendered.
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
  if (!(value instanceof Map)) return;
  paths.set(value, path);
  for (const [key, child] of value) recordPaths(child, `${path}.${key}`, paths);
}

/**
 * Helm's `.Capabilities.APIVersions` (chartutil.VersionSet), whose method `Has` tells whether the
 * cluster serves an API version or kind.
 */
export class VersionSet {
  readonly #versions: ReadonlySet<string>;

  constructor(versions: Iterable<string>) {
    this.#versions = new Set(versions);
  }

  Has(version: unknown): boolean {
    return this.#versions.has(String(version));
  }
}

/** Helm's `.Files`: the chart's own files, read by `Get` with a path from the chart's root. */
export class ChartFiles {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  Get(path: unknown): string {
    return readFileSync(join(this.#dir, String(path)), 'utf8');
  }
}

/** Helm's `.Capabilities`: a struct, so a template reading a field it lacks fails. */
export class Capabilities {
  readonly KubeVersion = { Version: 'v1.30.0', Major: '1', Minor: '30' };
  readonly APIVersions: VersionSet;

  constructor(apiVersions: Iterable<string>) {
    this.APIVersions = new VersionSet(apiVersions);
  }
}

/**
 * What this renderer refuses to print, stricter than Helm: nil, which Helm prints as "" (a value
 * missing by mistake), and maps, lists and structs, which Helm prints in Go's syntax. None of them
 * belongs in a manifest.
 */
function refuseUnprintable(value: unknown): void {
  const kind = goKind(value);
  if (kind === 'invalid') throw new Error('printing nil (a missing value?)');
  if (kind === 'map' || kind === 'slice' || kind === 'struct') throw new Error(`printing a ${kind}`);
}

/**
 * A template set as Helm makes one: Sprig's and Helm's functions (`include` runs a template of
 * this set), and `missingkey=zero`, so a field of a missing value is Go's "nil pointer evaluating".
 */
export function helmTemplates(options: Pick<TemplateOptions, 'onMissingKey'> = {}, cluster: readonly ClusterObject[] = []): TemplateSet {
  const templates: TemplateSet = new TemplateSet({
    funcs: helmFunctions((name, data) => templates.execute(name, data), cluster),
    missingKey: 'zero',
    onPrint: refuseUnprintable,
    ...options,
  });
  return templates;
}

const templateFiles = (chartDir: string): string[] => readdirSync(join(chartDir, 'templates')).sort();

/** Every template file of the chart parsed into one set (each file a template named as the file), as Helm parses them. */
export function chartTemplates(chartDir: string, options: Pick<TemplateOptions, 'onMissingKey'> = {}, cluster: readonly ClusterObject[] = []): TemplateSet {
  const templates = helmTemplates(options, cluster);
  for (const file of templateFiles(chartDir)) templates.parse(file, readFileSync(join(chartDir, 'templates', file), 'utf8'));
  return templates;
}

export interface RenderOptions {
  release?: { name: string; namespace: string };
  /**
   * What `.Capabilities.APIVersions.Has` finds besides the built-in kinds, as `helm install` sees a
   * cluster's CRDs and API groups (or `helm template --api-versions`).
   */
  apiVersions?: string[];
  /** What the cluster already has, as `lookup` finds it (nothing: `helm template`). */
  existing?: ClusterObject[];
}

const BUILT_IN_API_VERSIONS = ['v1', 'apps/v1', 'policy/v1', 'networking.k8s.io/v1'];

/** The chart rendered with the user's values files, in the order `helm install -f … -f …` takes them. */
export function renderChart(chartDir: string, valuesFiles: Values[] = [], options: RenderOptions = {}): RenderedChart {
  const release = options.release ?? { name: 'bowline', namespace: 'ci' };
  const chart = readYamlFile(join(chartDir, 'Chart.yaml'));
  const user = valuesFiles.reduce(mergeUserValues, {});
  const values = helmValue(coalesceValues(readYamlFile(join(chartDir, 'values.yaml')), user));
  const nulled = nulledPaths(user, '.Values', new Set());

  const paths = new WeakMap<object, string>();
  recordPaths(values, '.Values', paths);
  const missing = new Set<string>();
  const templates = chartTemplates(chartDir, {
    onMissingKey: (map, key) => {
      const path = paths.get(map);
      // A value the user removed with null is missing on purpose.
      if (path && !nulled.has(`${path}.${key}`)) missing.add(`${path}.${key}`);
    },
  }, options.existing);
  // Helm's top-level data is a map; .Release and .Chart are structs here, so a misspelt field of
  // them fails rather than printing nothing.
  const root = new GoMap<unknown>(
    [
      ['Values', values],
      ['Release', { Name: release.name, Namespace: release.namespace, Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1 }],
      ['Chart', { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion, Description: chart.description }],
      ['Capabilities', new Capabilities([...BUILT_IN_API_VERSIONS, ...(options.apiVersions ?? [])])],
      ['Files', new ChartFiles(chartDir)],
    ],
    undefined,
  );

  const manifests: Manifest[] = [];
  let notes = '';
  for (const file of templateFiles(chartDir).filter((name) => !name.startsWith('_'))) {
    const text = templates.execute(file, root);
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
