/**
 * The JSON Schemas Bowline checks webhook payloads against: only the fields Bowline reads, each
 * with the type GitHub's published schema (`@octokit/webhooks-schemas`) gives it.
 *
 * GitHub's own schemas are not used as they are: they forbid unknown properties everywhere and
 * list enums of actions and states, so every field GitHub adds would make a real delivery fail
 * (and they are 600 KB to compile on the hot path). The subset keeps what protects the services —
 * a field Bowline reads is there and has its type — and allows whatever else GitHub sends.
 */

/**
 * What Bowline reads of each event it stores, as paths (`[]` steps into an array's items). A path
 * is required when GitHub always sends it and Bowline cannot do without it; one marked `?` is
 * checked only when present (Bowline reads it with a fallback). Add a path here when a service
 * starts reading a new field: the hook then refuses deliveries where it is missing or mistyped.
 */
export const PAYLOAD_READS: Readonly<Record<string, readonly string[]>> = {
  issue_comment: [
    'action',
    'issue.number',
    'issue.state',
    '?issue.pull_request',
    '?issue.user.login',
    '?issue.labels[].name',
    'comment.body',
    'comment.user.login',
    '?comment.html_url',
    'repository.name',
    'repository.owner.login',
    '?repository.html_url',
    '?repository.full_name',
    '?sender.login',
    '?organization.login',
  ],
  pull_request: [
    'action',
    'pull_request.number',
    'pull_request.state',
    '?pull_request.draft',
    'pull_request.title',
    '?pull_request.html_url',
    '?pull_request.mergeable',
    'pull_request.user.login',
    '?pull_request.user.html_url',
    'pull_request.head.sha',
    'pull_request.head.ref',
    'pull_request.base.sha',
    'pull_request.base.ref',
    '?pull_request.base.repo.html_url',
    '?pull_request.labels[].name',
    'repository.name',
    'repository.owner.login',
    '?repository.html_url',
    '?repository.full_name',
    '?sender.login',
    '?label.name',
    '?changes.base.ref.from',
    '?organization.login',
  ],
  push: [
    'ref',
    'after',
    '?deleted',
    '?commits[].added[]',
    '?commits[].removed[]',
    '?commits[].modified[]',
    '?compare',
    'repository.name',
    '?repository.html_url',
    '?repository.owner.login',
    '?repository.owner.name',
    '?repository.full_name',
    '?sender.login',
    '?pusher.name',
    '?organization.login',
  ],
};

/** The part of JSON Schema (draft-07) that GitHub's webhook schemas use and this module reads. */
export interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  allOf?: SchemaNode[];
  enum?: unknown[];
  const?: unknown;
}

export interface WebhookSchemaDocument {
  definitions: Record<string, SchemaNode>;
}

/** A schema as Bowline checks it: types, required properties and nesting, nothing else. */
export interface ReadSchema {
  type?: string | string[];
  required?: string[];
  properties?: Record<string, ReadSchema>;
  items?: ReadSchema;
}

/** One concrete shape a schema allows, after `$ref`, `oneOf` and `allOf` are worked out. */
interface Shape {
  /** Undefined: anything. */
  type?: string;
  properties: Record<string, SchemaNode>;
  required: Set<string>;
  items?: SchemaNode;
}

/** What the tree of read paths learns from every definition of an event, one node per step. */
interface ReadNode {
  /** Types seen at this step; undefined once some definition allows anything here. */
  types?: Set<string>;
  /** In every definition, GitHub requires this step under each shape of its parent. */
  githubRequires: boolean;
  /** Some path through this step is needed by Bowline. */
  needed: boolean;
  children: Map<string, ReadNode>;
}

const ITEMS = '[]';

/**
 * The schema of each event in `reads`, derived from GitHub's definitions of that event (one per
 * action, `issue_comment$created` …, or `push$event`): a field's type is every type any action
 * allows, and it is required only when every action requires it and Bowline needs it.
 */
export function deriveReadSchemas(document: WebhookSchemaDocument, reads: Readonly<Record<string, readonly string[]>> = PAYLOAD_READS): Record<string, ReadSchema> {
  const out: Record<string, ReadSchema> = {};
  for (const [event, paths] of Object.entries(reads)) {
    const definitions = Object.entries(document.definitions)
      .filter(([name]) => name.startsWith(`${event}$`))
      .map(([, schema]) => schema);
    if (definitions.length === 0) throw new Error(`GitHub's webhook schemas define no event "${event}"`);
    const root: ReadNode = { types: new Set(['object']), githubRequires: true, needed: true, children: new Map() };
    for (const entry of paths) {
      const optional = entry.startsWith('?');
      const steps = splitPath(optional ? entry.slice(1) : entry);
      const found = definitions.map((definition) => addPath(document, root, definition, steps, !optional));
      if (!found.includes(true)) throw new Error(`GitHub's webhook schemas of "${event}" have no field "${entry}"`);
    }
    out[event] = toSchema(root);
  }
  return out;
}

/** `commits[].added[]` → `commits`, `[]`, `added`, `[]`. */
function splitPath(path: string): string[] {
  return path.split('.').flatMap((part) => {
    const name = part.replace(/(\[\])+$/, '');
    const arrays = (part.length - name.length) / ITEMS.length;
    return [name, ...Array<string>(arrays).fill(ITEMS)];
  });
}

/**
 * Walks one definition (one action) along `steps`, adding what it says to the tree. False when the
 * definition has no such field: then GitHub does not always send it.
 */
function addPath(document: WebhookSchemaDocument, root: ReadNode, definition: SchemaNode, steps: string[], needed: boolean): boolean {
  let node = root;
  let shapes = shapesOf(document, definition);
  for (const step of steps) {
    const next: SchemaNode[] = [];
    let required = true;
    for (const shape of shapes) {
      if (shape.type === 'null') continue;
      const child = step === ITEMS ? shape.items : shape.properties[step];
      if (step !== ITEMS && !shape.required.has(step)) required = false;
      if (child) next.push(child);
      else if (shape.type === undefined) next.push({});
    }
    let child = node.children.get(step);
    if (!child) {
      child = { types: new Set(), githubRequires: true, needed: false, children: new Map() };
      node.children.set(step, child);
    }
    child.needed ||= needed;
    if (next.length === 0) {
      child.githubRequires = false;
      return false;
    }
    child.githubRequires &&= required || step === ITEMS;
    shapes = next.flatMap((s) => shapesOf(document, s));
    for (const shape of shapes) {
      if (shape.type === undefined) child.types = undefined;
      else child.types?.add(shape.type);
    }
    node = child;
  }
  return true;
}

/** The concrete shapes a schema allows. */
function shapesOf(document: WebhookSchemaDocument, schema: SchemaNode, seen: ReadonlySet<string> = new Set()): Shape[] {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/definitions/', '');
    const target = document.definitions[name];
    if (!target) throw new Error(`GitHub's webhook schemas refer to a missing definition "${name}"`);
    if (seen.has(name)) return [{ properties: {}, required: new Set() }];
    return shapesOf(document, target, new Set([...seen, name]));
  }
  const choices = schema.oneOf ?? schema.anyOf;
  if (choices) return choices.flatMap((choice) => shapesOf(document, choice, seen));
  if (schema.allOf) {
    const { allOf, ...rest } = schema;
    return [...allOf, rest].map((part) => shapesOf(document, part, seen)).reduce((a, b) => a.flatMap((x) => b.map((y) => mergeShapes(x, y))));
  }
  return typesOf(schema).map((type) => ({
    type,
    properties: schema.properties ?? {},
    required: new Set(schema.required ?? []),
    items: schema.items,
  }));
}

function typesOf(schema: SchemaNode): (string | undefined)[] {
  if (schema.type !== undefined) return Array.isArray(schema.type) ? schema.type : [schema.type];
  const values = schema.enum ?? ('const' in schema ? [schema.const] : undefined);
  if (values) return [...new Set(values.map(jsonType))];
  if (schema.properties) return ['object'];
  if (schema.items) return ['array'];
  return [undefined];
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Both shapes at once (`allOf`): a property both describe must satisfy both. */
function mergeShapes(a: Shape, b: Shape): Shape {
  const properties = { ...a.properties };
  for (const [key, schema] of Object.entries(b.properties)) {
    const other = properties[key];
    properties[key] = other ? { allOf: [other, schema] } : schema;
  }
  return { type: a.type ?? b.type, properties, required: new Set([...a.required, ...b.required]), items: a.items ?? b.items };
}

function toSchema(node: ReadNode): ReadSchema {
  const schema: ReadSchema = {};
  if (node.types && node.types.size > 0) {
    // JSON Schema's integer is a number; listing both would only repeat it.
    const types = [...node.types].filter((t) => !(t === 'integer' && node.types!.has('number'))).sort();
    schema.type = types.length === 1 ? types[0] : types;
  }
  const items = node.children.get(ITEMS);
  if (items) schema.items = toSchema(items);
  const named = [...node.children].filter(([key]) => key !== ITEMS);
  if (named.length > 0) {
    schema.properties = Object.fromEntries(named.map(([key, child]) => [key, toSchema(child)]));
    const required = named.filter(([, child]) => child.needed && child.githubRequires).map(([key]) => key);
    if (required.length > 0) schema.required = required;
  }
  return schema;
}
