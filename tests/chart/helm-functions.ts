import { createHash } from 'node:crypto';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { GoFloat64, GoMap, goKind, goQuote, isTrue, sprint, type FuncMap } from '@bowline/go';

/*
 * The Sprig and Helm functions charts/bowline uses, added to @bowline/go's text/template as Helm
 * adds them to Go's, over values as Helm holds them (helmValue). Each follows Sprig where a
 * difference would hide a chart bug Helm would hit, and fails where the chart could not mean it.
 */

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A value as Helm holds what it read from YAML (through encoding/json): maps are
 * map[string]interface{} (a missing key is nil), every number is a float64, so
 * `gt .Values.replicas 1` fails as in Helm and a million prints as 1e+06. Objects that are not
 * plain (class instances: .Capabilities) are structs and stay as they are.
 */
export function helmValue(value: unknown): unknown {
  if (typeof value === 'number') return new GoFloat64(value);
  if (Array.isArray(value)) return value.map(helmValue);
  if (isPlainObject(value)) return new GoMap<unknown>(Object.entries(value).map(([k, v]) => [k, helmValue(v)]), undefined);
  return value;
}

/** The JSON-shaped value of a Go value, for YAML output. */
function plain(value: unknown): unknown {
  if (value instanceof GoFloat64) return value.value;
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, plain(v)]));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** Sprig's strval (toString): a string as it is, anything else as fmt's %v. */
function strval(value: unknown): string {
  return typeof value === 'string' ? value : sprint([value]);
}

/** Sprig's toInt, for the values the chart gives it. */
function toInt(value: unknown): number {
  switch (goKind(value)) {
    case 'int':
      return value as number;
    case 'float64':
      return Math.trunc(value instanceof GoFloat64 ? value.value : (value as number));
    case 'string':
      return /^-?[0-9]+$/.test(value as string) ? Number(value) : 0;
    case 'bool':
      return value ? 1 : 0;
    default:
      return 0;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  const number = (v: unknown): unknown => (v instanceof GoFloat64 ? v.value : v);
  return goKind(a) === goKind(b) && number(a) === number(b);
}

const indent = (n: unknown, s: unknown): string => {
  const pad = ' '.repeat(toInt(n));
  return pad + strval(s).replaceAll('\n', `\n${pad}`);
};

/** An object a test cluster already has, as `lookup` finds it. */
export interface ClusterObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
}

/** The functions, with Helm's `include`, which executes one of the chart's templates to a string. */
export function helmFunctions(include: (name: string, data: unknown) => string, cluster: readonly ClusterObject[] = []): FuncMap {
  return {
    include: (name: unknown, data: unknown) => include(strval(name), data),
    // Helm's lookup: the cluster's object, or an empty map when there is none (and always under
    // `helm template`, which has no cluster).
    lookup: (apiVersion: unknown, kind: unknown, namespace: unknown, name: unknown) =>
      helmValue(
        cluster.find((o) => o.apiVersion === apiVersion && o.kind === kind && (o.metadata.namespace ?? '') === namespace && o.metadata.name === name) ?? {},
      ),
    // Sprig
    default: { min: 1, fn: (fallback: unknown, ...given: unknown[]) => (given.length === 0 || !isTrue(given[0]) ? fallback : given[0]) },
    empty: (value: unknown) => !isTrue(value),
    dict: {
      min: 0,
      fn: (...kv: unknown[]) => {
        const map = new GoMap<unknown>([], undefined);
        for (let i = 0; i < kv.length; i += 2) map.set(strval(kv[i]), kv[i + 1]);
        return map;
      },
    },
    list: { min: 0, fn: (...items: unknown[]) => items },
    has: (needle: unknown, list: unknown) => Array.isArray(list) && list.some((item) => sameValue(item, needle)),
    hasKey: (map: unknown, key: unknown) => {
      if (!(map instanceof Map)) throw new Error(`hasKey of ${goKind(map)}`);
      return map.has(strval(key));
    },
    // Sprig's dig: the value at a path of keys, or the default when a key is missing (a value of
    // nil that is present is returned as it is); a step through something that is not a map fails.
    dig: {
      min: 3,
      fn: (...args: unknown[]) => {
        const fallback = args.at(-2);
        let node = args.at(-1);
        for (const key of args.slice(0, -2)) {
          if (!(node instanceof Map)) throw new Error(`dig: ${strval(key)} of ${goKind(node)}`);
          if (!node.has(strval(key))) return fallback;
          node = node.get(strval(key));
        }
        return node;
      },
    },
    splitList: (sep: unknown, s: unknown) => strval(s).split(strval(sep)),
    quote: { min: 0, fn: (...args: unknown[]) => args.filter((a) => a !== undefined && a !== null).map((a) => goQuote(strval(a))).join(' ') },
    squote: { min: 0, fn: (...args: unknown[]) => args.filter((a) => a !== undefined && a !== null).map((a) => `'${strval(a)}'`).join(' ') },
    toString: (value: unknown) => strval(value),
    int: (value: unknown) => toInt(value),
    trunc: (n: unknown, s: unknown) => {
      const length = toInt(n);
      const text = strval(s);
      return length < 0 ? text.slice(Math.max(0, text.length + length)) : text.slice(0, length);
    },
    trimSuffix: (suffix: unknown, s: unknown) => (strval(s).endsWith(strval(suffix)) ? strval(s).slice(0, strval(s).length - strval(suffix).length) : strval(s)),
    trimPrefix: (prefix: unknown, s: unknown) => (strval(s).startsWith(strval(prefix)) ? strval(s).slice(strval(prefix).length) : strval(s)),
    contains: (substr: unknown, s: unknown) => strval(s).includes(strval(substr)),
    replace: (from: unknown, to: unknown, s: unknown) => strval(s).replaceAll(strval(from), strval(to)),
    b64enc: (s: unknown) => Buffer.from(strval(s)).toString('base64'),
    sha256sum: (s: unknown) => createHash('sha256').update(strval(s)).digest('hex'),
    kindIs: (kind: unknown, value: unknown) => goKind(value) === kind,
    indent,
    nindent: (n: unknown, s: unknown) => `\n${indent(n, s)}`,
    // Helm
    required: (message: unknown, value: unknown) => {
      if (value === null || value === undefined || value === '') throw new Error(strval(message));
      return value;
    },
    fail: (message: unknown) => {
      throw new Error(`execution error: ${strval(message)}`);
    },
    // toYaml sorts keys, does not indent lists under their key (go-yaml) and drops the trailing
    // newline; fromYaml gives a map (an empty one for nothing).
    toYaml: (value: unknown) => stringifyYaml(plain(value), { sortMapEntries: true, lineWidth: 0, indentSeq: false }).replace(/\n$/, ''),
    fromYaml: (s: unknown) => helmValue((parseYaml(strval(s)) as unknown) ?? {}),
  };
}
