import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../pipeline.js';

/** Prow's CRD, vendored into the chart, which installs it (`kubernetes.installCRD`). */
export const PROWJOB_CRD_FILE = join(REPO_ROOT, 'charts', 'bowline', 'files', 'prowjob-crd.yaml');

/** A structural schema node, as far as pruning reads it. */
interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export interface SchemaProblem {
  /** The field, as the API server names it in a `Status`'s causes: `spec.type`. */
  field: string;
  message: string;
}

interface CompiledSchema {
  root: SchemaNode;
  validate: ValidateFunction;
}

let compiled: CompiledSchema | undefined;

/**
 * The `v1` version's OpenAPI v3 schema, compiled once per process: the file is 700 kB (every pod
 * spec field) and ajv takes about a second over it.
 */
function schema(): CompiledSchema {
  if (compiled) return compiled;
  const crd = parseYaml(readFileSync(PROWJOB_CRD_FILE, 'utf8')) as { spec: { versions: { name: string; schema: { openAPIV3Schema: SchemaNode } }[] } };
  const root = crd.spec.versions.find((v) => v.name === 'v1')!.schema.openAPIV3Schema;
  // `strict: false`: the x-kubernetes-* keywords are the API server's, not JSON Schema's.
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  compiled = { root, validate: ajv.compile(root) };
  return compiled;
}

/**
 * Drops every field the schema does not know, as the API server does for a CRD with
 * `preserveUnknownFields: false`: what is not in the schema is silently not stored. `metadata` is
 * the API server's own and is left to the caller.
 */
export function pruneUnknownFields(object: Record<string, unknown>): Record<string, unknown> {
  const root = schema().root;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (key === 'metadata') out[key] = value;
    else if (root.properties?.[key]) out[key] = prune(value, root.properties[key]);
  }
  return out;
}

function prune(value: unknown, node: SchemaNode): unknown {
  if (node['x-kubernetes-preserve-unknown-fields']) return value;
  if (Array.isArray(value)) return node.items ? value.map((item) => prune(item, node.items!)) : value;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const property = node.properties?.[key];
    if (property) out[key] = prune(child, property);
    else if (typeof node.additionalProperties === 'object') out[key] = prune(child, node.additionalProperties);
    else if (node.additionalProperties === true) out[key] = child;
  }
  return out;
}

/** What is wrong with a ProwJob against Prow's schema; empty when it is valid. */
export function prowJobSchemaProblems(object: unknown): SchemaProblem[] {
  const { validate } = schema();
  if (validate(object)) return [];
  return (validate.errors ?? []).map(describe);
}

function describe(error: ErrorObject): SchemaProblem {
  const field = error.instancePath.split('/').filter(Boolean).join('.');
  const detail = error.params && Object.keys(error.params).length > 0 ? ` (${JSON.stringify(error.params)})` : '';
  return { field: field || '<root>', message: `${error.message ?? error.keyword}${detail}` };
}

/** Whether a ProwJob is valid against Prow's schema (tests assert on every stored object). */
export function isValidProwJob(object: unknown): boolean {
  return prowJobSchemaProblems(object).length === 0;
}
