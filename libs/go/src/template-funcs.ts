import { isPrint, sprint, sprintf, sprintln } from './fmt.js';
import { compareStrings, isNil, isTrue, kindOf, NO_VALUE, numberValue, typeName, zeroOf, type Kind } from './go-value.js';
import { CallError } from './template-error.js';

/*
 * Go's builtin template functions (text/template funcs.go) and the function table a template set
 * calls through, as template.Funcs builds it: the builtins, then the caller's functions, which may
 * replace a builtin as in Go.
 */

/**
 * A function a template may call, as a value of Go's template.FuncMap. A plain function takes
 * exactly `fn.length` arguments (Go reads the count from the signature); a FuncSpec says how many.
 * An error it throws fails the template with Go's `error calling NAME: ...`.
 */
export type TemplateFunc = (...args: never[]) => unknown;

/** A function with the argument counts Go would read from a variadic signature (`max` absent: no limit). */
export interface FuncSpec {
  fn: TemplateFunc;
  min: number;
  max?: number;
}

export type FuncMap = Readonly<Record<string, TemplateFunc | FuncSpec>>;

/** A function as the evaluator calls it. */
export interface Func {
  min: number;
  max?: number;
  /** `and` and `or` evaluate their arguments lazily; `call` is told the expression that gave the function. */
  special?: 'and' | 'or' | 'call';
  /**
   * Builtins take Go's reflect.Value and see the invalid value (a missing key) as it is; other
   * functions take interface{}, for which Go passes nil instead (exec.go validateType).
   */
  builtin: boolean;
  call: (args: unknown[]) => unknown;
}

const builtin = (min: number, max: number | undefined, call: (args: unknown[]) => unknown, special?: Func['special']): Func => ({ min, max, call, special, builtin: true });

const BUILTINS: Readonly<Record<string, Func>> = {
  and: builtin(1, undefined, () => undefined, 'and'),
  or: builtin(1, undefined, () => undefined, 'or'),
  call: builtin(1, undefined, ([fn, ...args]) => callFunction('', fn, args), 'call'),
  not: builtin(1, 1, ([value]) => !isTrue(value)),
  len: builtin(1, 1, ([value]) => length(value)),
  index: builtin(1, undefined, ([item, ...indexes]) => index(item, indexes)),
  slice: builtin(1, undefined, ([item, ...indexes]) => slice(item, indexes)),
  eq: builtin(1, undefined, ([first, ...rest]) => eq(first, rest)),
  ne: builtin(2, 2, ([a, b]) => !eq(a, [b])),
  lt: builtin(2, 2, ([a, b]) => lessThan(a, b)),
  le: builtin(2, 2, ([a, b]) => lessThan(a, b) || eq(a, [b])),
  gt: builtin(2, 2, ([a, b]) => !(lessThan(a, b) || eq(a, [b]))),
  ge: builtin(2, 2, ([a, b]) => !lessThan(a, b)),
  print: builtin(0, undefined, (args) => sprint(args)),
  println: builtin(0, undefined, (args) => sprintln(args)),
  printf: builtin(1, undefined, ([format, ...args]) => sprintf(format as string, args)),
  urlquery: builtin(0, undefined, (args) => queryEscape(evalArgs(args))),
  html: builtin(0, undefined, (args) => htmlEscape(evalArgs(args))),
  js: builtin(0, undefined, (args) => jsEscape(evalArgs(args))),
};

/** Go's builtins overlaid with `funcs`. */
export function functionTable(funcs: FuncMap = {}): ReadonlyMap<string, Func> {
  const table = new Map(Object.entries(BUILTINS));
  for (const [name, given] of Object.entries(funcs)) {
    const { fn, min, max } = typeof given === 'function' ? { fn: given, min: given.length, max: given.length } : given;
    table.set(name, { min, max, builtin: false, call: (args) => (fn as (...args: unknown[]) => unknown)(...args) });
  }
  return table;
}

/** Whether `func` is Go's printf, whose format string the parser checks. */
export function isBuiltinPrintf(func: Func | undefined): boolean {
  return func === BUILTINS.printf;
}

/** funcs.go call: the function `fn` (given by the expression `name`) called with `args`. */
export function callFunction(name: string, fn: unknown, args: unknown[]): unknown {
  if (isNil(fn)) throw new CallError('call of nil');
  if (typeof fn !== 'function') throw new CallError(`non-function ${name} of type ${typeName(fn)}`);
  if (args.length !== fn.length) throw new CallError(`wrong number of args for ${name}: got ${args.length} want ${fn.length}`);
  return (fn as (...args: unknown[]) => unknown)(...args.map((arg) => (arg === NO_VALUE ? undefined : arg)));
}

/** Go's basicKind: comparisons work on these only. */
function basicKind(value: unknown): Kind | undefined {
  const kind = kindOf(value);
  return kind === 'bool' || kind === 'int' || kind === 'float' || kind === 'string' ? kind : undefined;
}

/** `eq a b c` is a == b || a == c. Basic kinds of different kinds are an error, unless one side is nil. */
function eq(first: unknown, others: unknown[]): boolean {
  if (others.length === 0) throw new CallError('missing argument for comparison');
  const k1 = basicKind(first);
  for (const other of others) {
    const k2 = basicKind(other);
    let truth = false;
    if (k1 !== k2) {
      if (!isNil(first) && !isNil(other)) {
        throw new CallError(`incompatible types for comparison: ${typeName(first)} and ${typeName(other)}`);
      }
    } else if (k1 !== undefined) {
      truth = k1 === 'int' || k1 === 'float' ? numberValue(first) === numberValue(other) : first === other;
    } else if (isNil(first) || isNil(other)) {
      truth = isNil(first) === isNil(other);
    } else if (kindOf(first) !== kindOf(other)) {
      throw new CallError(`non-comparable types ${typeName(first)} and ${typeName(other)}`);
    } else if (kindOf(first) === 'struct') {
      truth = first === other; // Objects stand for pointers to structs, equal when they are the same one.
    } else {
      throw new CallError(`non-comparable type ${typeName(other)}`);
    }
    if (truth) return true;
  }
  return false;
}

function lessThan(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === undefined || k2 === undefined) throw new CallError('invalid type for comparison');
  if (k1 !== k2) throw new CallError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
  if (k1 === 'bool') throw new CallError('invalid type for comparison');
  if (k1 === 'string') return compareStrings(a as string, b as string) < 0;
  return numberValue(a) < numberValue(b);
}

function length(value: unknown): number {
  switch (kindOf(value)) {
    case 'string':
      return Buffer.byteLength(value as string, 'utf8'); // Go's len of a string counts bytes.
    case 'slice':
      return (value as unknown[]).length;
    case 'map':
      return (value as Map<unknown, unknown>).size;
    case 'struct':
      return Object.keys(value as object).length;
    case 'nil':
      throw new CallError(value === null ? 'len of nil pointer' : 'len of untyped nil');
    default:
      throw new CallError(`len of type ${typeName(value)}`);
  }
}

/** Go's indexArg: `cap` is the largest index accepted (the length, or the capacity when slicing). */
function indexArg(index: unknown, cap: number): number {
  const kind = kindOf(index);
  if (kind === 'nil') throw new CallError('cannot index slice/array with nil');
  if (kind !== 'int') throw new CallError(`cannot index slice/array with type ${typeName(index)}`);
  const x = index as number;
  if (x < 0 || x > cap) throw new CallError(`index out of range: ${x}`);
  return x;
}

function index(item: unknown, indexes: unknown[]): unknown {
  if (item === undefined || item === NO_VALUE) throw new CallError('index of untyped nil');
  for (const key of indexes) {
    if (isNil(item)) throw new CallError('index of nil pointer');
    switch (kindOf(item)) {
      case 'slice': {
        const list = item as unknown[];
        const x = indexArg(key, list.length);
        if (x === list.length) throw new CallError('reflect: slice index out of range');
        item = list[x];
        break;
      }
      case 'string': {
        const bytes = Buffer.from(item as string, 'utf8');
        const x = indexArg(key, bytes.length);
        if (x === bytes.length) throw new CallError('reflect: string index out of range');
        item = bytes[x]; // A byte, which Go prints as a number.
        break;
      }
      case 'map':
        item = mapIndex(item as Map<unknown, unknown>, key);
        break;
      case 'struct':
        if (typeof key !== 'string') throw new CallError(`value has type ${typeName(key)}; should be string`);
        item = Object.hasOwn(item as object, key) ? (item as Record<string, unknown>)[key] : undefined;
        break;
      default:
        throw new CallError(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

/** A missing key gives the zero value of the map's value type, as Go's index does. */
function mapIndex(map: Map<unknown, unknown>, key: unknown): unknown {
  if (isNil(key)) throw new CallError('value is nil; should be of type string');
  const sample = map.keys().next();
  if (!sample.done && kindOf(sample.value) !== kindOf(key)) {
    throw new CallError(`value has type ${typeName(key)}; should be ${typeName(sample.value)}`);
  }
  return map.has(key) ? map.get(key) : zeroOf(map);
}

function slice(item: unknown, indexes: unknown[]): unknown {
  if (item === undefined || item === NO_VALUE) throw new CallError('slice of untyped nil');
  if (indexes.length > 3) throw new CallError(`too many slice indexes: ${indexes.length}`);
  const kind = kindOf(item);
  let whole: Buffer | unknown[];
  if (kind === 'string') {
    if (indexes.length === 3) throw new CallError('cannot 3-index slice a string');
    whole = Buffer.from(item as string, 'utf8');
  } else if (kind === 'slice') {
    whole = item as unknown[];
  } else {
    throw new CallError(`can't slice item of type ${typeName(item)}`);
  }
  const bounds = [0, whole.length];
  indexes.forEach((x, i) => (bounds[i] = indexArg(x, whole.length)));
  const [from, to] = bounds as [number, number];
  if (from > to) throw new CallError(`invalid slice index: ${from} > ${to}`);
  if (indexes.length === 3 && to > bounds[2]!) throw new CallError(`invalid slice index: ${to} > ${bounds[2]}`);
  // Slicing a string between the bytes of one character leaves invalid UTF-8, shown here as U+FFFD.
  return Buffer.isBuffer(whole) ? whole.subarray(from, to).toString('utf8') : whole.slice(from, to);
}

/** funcs.go evalArgs: one string argument as is, anything else as fmt.Sprint, a nil shown as `<no value>`. */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((arg) => (isNil(arg) ? '<no value>' : arg)));
}

/** Go's url.QueryEscape: only letters, digits and `-_.~` stay; a space becomes `+`. */
function queryEscape(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}


/** Go's HTMLEscapeString: the five characters special in HTML, and NUL, which HTML forbids. */
function htmlEscape(text: string): string {
  const named: Record<string, string> = { '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;', '\0': '\uFFFD' };
  return text.replace(/["'&<>\0]/g, (ch) => named[ch]!);
}

/** Go's JSEscapeString: quotes, backslash and `<>&=` escaped, control characters and unprintable runes as \uXXXX. */
function jsEscape(text: string): string {
  const named: Record<string, string> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D' };
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (named[ch]) out += named[ch];
    else if (cp < 0x20) out += `\\u00${cp.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (cp >= 0x80 && !isPrint(cp)) out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}
