/*
 * Go's values as JavaScript holds them, for the template engine and the functions given to it:
 * - plain objects (and class instances) are structs: `.Name` reads the own property `Name`, and a
 *   missing one is an error ("can't evaluate field Name"). Functions on a class's prototype are
 *   its methods (`.APIVersions.Has "v1"`). Printed as `{v1 v2}` in property order. For
 *   truthiness, `len`, `index` and `range` they act as map[string]interface{} (an empty object is false).
 * - a `Map` is a Go map: a missing key read as a field gives Go's invalid value, printed
 *   `<no value>`; `index` of a missing key gives the zero value of the map's value type (see GoMap).
 * - `null` and `undefined` are nil: reading a field of them is Go's "nil pointer evaluating" error.
 *   The result of an action that is nil prints `<no value>` (Go prints `<nil>` for a typed nil
 *   pointer, `<no value>` for a nil interface; JSON data cannot tell them apart).
 * - integral numbers are Go ints, other numbers and GoFloat64s are float64s; arrays are slices;
 *   functions held in a field, a map or a variable are func values, for `call`.
 */

/**
 * A Go map whose value type is known, so `index` of a missing key gives that type's zero value as
 * Go does (`index .Labels "x"` is "" for a map[string]string). For a plain `Map` the zero value is
 * guessed from its entries, and is nil when it has none.
 */
export class GoMap<V> extends Map<string, V> {
  constructor(
    entries: Iterable<readonly [string, V]>,
    readonly zero: V,
  ) {
    super(entries);
  }
}

/**
 * A float64 whose value is integral, which a JavaScript number cannot tell from an int: what
 * encoding/json gives for every number it decodes into interface{} (Helm's values are such).
 */
export class GoFloat64 {
  constructor(readonly value: number) {}
}

/** Go's invalid reflect.Value: what a missing map key gives. Prints as `<no value>`. */
export const NO_VALUE: unique symbol = Symbol('no value');
/** Go's missingVal: no previous command in the pipeline, so no final argument. */
export const MISSING: unique symbol = Symbol('missing');

export type Kind = 'nil' | 'bool' | 'int' | 'float' | 'string' | 'slice' | 'map' | 'struct' | 'func' | 'other';

export function kindOf(value: unknown): Kind {
  if (value === null || value === undefined || value === NO_VALUE) return 'nil';
  switch (typeof value) {
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) ? 'int' : 'float';
    case 'string':
      return 'string';
    case 'function':
      return 'func';
    case 'object':
      if (value instanceof GoFloat64) return 'float';
      return Array.isArray(value) ? 'slice' : value instanceof Map ? 'map' : 'struct';
    default:
      return 'other';
  }
}

/** reflect's Kind names (`kindIs "string"` in Sprig): nil is "invalid", a float "float64". */
export function goKind(value: unknown): string {
  const kind = kindOf(value);
  return kind === 'nil' ? 'invalid' : kind === 'float' ? 'float64' : kind === 'other' ? typeof value : kind;
}

/** The Go type a value stands for, in messages. */
export function typeName(value: unknown): string {
  const names: Record<Kind, string> = {
    nil: '<nil>',
    bool: 'bool',
    int: 'int',
    float: 'float64',
    string: 'string',
    slice: '[]interface {}',
    map: 'map[string]interface {}',
    struct: 'struct',
    func: 'func',
    other: typeof value,
  };
  return names[kindOf(value)];
}

export function isNil(value: unknown): boolean {
  return kindOf(value) === 'nil';
}

/** The number of an int or a float64. */
export function numberValue(value: unknown): number {
  return value instanceof GoFloat64 ? value.value : (value as number);
}

/** Go's isTrue: the zero value of its type is false. */
export function isTrue(value: unknown): boolean {
  switch (kindOf(value)) {
    case 'nil':
      return false;
    case 'bool':
      return value as boolean;
    case 'int':
    case 'float':
      return numberValue(value) !== 0;
    case 'string':
      return (value as string).length > 0;
    case 'slice':
      return (value as unknown[]).length > 0;
    case 'map':
      return (value as Map<unknown, unknown>).size > 0;
    case 'struct':
      return Object.keys(value as object).length > 0;
    default:
      return true;
  }
}

/** The zero value of a map's value type: a GoMap's own, else guessed from an entry (nil when it has none). */
export function zeroOf(map: Map<unknown, unknown>): unknown {
  if (map instanceof GoMap) return map.zero;
  const first = map.values().next();
  if (first.done) return undefined;
  if (first.value instanceof GoFloat64) return new GoFloat64(0);
  switch (typeof first.value) {
    case 'string':
      return '';
    case 'number':
      return 0;
    case 'boolean':
      return false;
    default:
      return undefined;
  }
}

/**
 * The method `name` of a struct: a function on its prototype chain short of Object's (whose
 * `toString` and `constructor` are no Go methods). Own function-valued properties are fields.
 */
export function methodOf(receiver: object, name: string): ((...args: unknown[]) => unknown) | undefined {
  for (let proto = Object.getPrototypeOf(receiver) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    if (descriptor && name !== 'constructor') return typeof descriptor.value === 'function' ? (descriptor.value as (...args: unknown[]) => unknown) : undefined;
  }
  return undefined;
}

/** Go compares strings byte by byte, which for UTF-8 is code point order (not JavaScript's UTF-16 order). */
export function compareStrings(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** A map's entries in internal/fmtsort order, as Go prints them and `range` visits them. */
export function sortedEntries(map: Map<unknown, unknown>): [unknown, unknown][] {
  return [...map.entries()].sort(([a], [b]) => compareKeys(a, b));
}

/** internal/fmtsort order: numbers by value, strings by bytes. */
function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return compareStrings(typeof a, typeof b);
}
