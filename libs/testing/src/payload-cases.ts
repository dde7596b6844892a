import type { ReadSchema } from '@bowline/bus';

/** One malformed payload: a valid one with a single field removed or given the wrong type. */
export interface MalformedPayloadCase {
  /** `removes issue.number`, `retypes comment.body as null`. */
  title: string;
  payload: Record<string, unknown>;
  /** What the check must answer, naming the field. */
  problem: string;
}

/** Values of each JSON type, tried in turn for one the field's type does not allow. */
const VALUES_BY_TYPE: [unknown, string][] = [
  [42, 'integer'],
  ['7', 'string'],
  [null, 'null'],
  [{ length: 1 }, 'object'],
];

function allows(types: string[], type: string): boolean {
  return types.includes(type) || (type === 'integer' && types.includes('number'));
}

/**
 * Every case the schema implies for `valid`: each required field removed in turn, and each field
 * the schema types (required or not, present in `valid` or not) given a value of another type.
 * Array items are reached through index 0, so `valid` should hold one item in each array.
 */
export function malformedPayloadCases(schema: ReadSchema, valid: Record<string, unknown>): MalformedPayloadCase[] {
  const cases: MalformedPayloadCase[] = [];
  const visit = (node: ReadSchema, path: (string | number)[]): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const at = [...path, key];
      if (node.required?.includes(key)) {
        cases.push({ title: `removes ${format(at)}`, payload: edit(valid, at, undefined), problem: `${format(at)}: missing${child.type ? `, expected ${typeNames(child.type)}` : ''}` });
      }
      retype(child, at);
      visit(child, at);
    }
    if (node.items) {
      retype(node.items, [...path, 0]);
      visit(node.items, [...path, 0]);
    }
  };
  // Each field twice: as null (what GitHub's deleted users and cleared fields look like) and as
  // the first other type it does not allow (a number sent as a string, and the like).
  const retype = (node: ReadSchema, at: (string | number)[]): void => {
    const types = node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
    if (types.length === 0) return;
    const wrong = [VALUES_BY_TYPE.find(([, type]) => type === 'null'), VALUES_BY_TYPE.find(([, type]) => type !== 'null' && !allows(types, type))];
    for (const [value, got] of wrong.filter((w): w is [unknown, string] => w !== undefined && !allows(types, w[1]))) {
      cases.push({ title: `retypes ${format(at)} as ${got}`, payload: edit(valid, at, value), problem: `${format(at)}: expected ${typeNames(node.type!)}, got ${got}` });
    }
  };
  visit(schema, []);
  return cases;
}

/** A copy of `payload` with the field at `path` set to `value` (removed when undefined), parents made as needed. */
function edit(payload: Record<string, unknown>, path: (string | number)[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(payload);
  let node = copy as Record<string | number, unknown>;
  for (const [i, key] of path.slice(0, -1).entries()) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  }
  const last = path.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

function format(path: (string | number)[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}

function typeNames(type: string | string[]): string {
  return (Array.isArray(type) ? type : [type]).join(' or ');
}
