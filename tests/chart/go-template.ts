import { createHash } from 'node:crypto';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/*
 * Go's text/template with the Sprig and Helm functions charts/bowline uses, so the chart can be
 * rendered and checked where no `helm` binary exists. It follows Go where a difference would hide
 * a chart bug Helm would hit:
 * - numbers from values are Go float64s and integer literals in templates are ints (bigint here):
 *   `gt .Values.replicas 1` fails as in Helm ("incompatible types for comparison"); a float64 of
 *   a million or more prints as 1e+06, as Go's %v does.
 * - a field of nil is an error ("nil pointer evaluating"), and so is a missing field of .Release,
 *   .Chart or .Capabilities, which are structs in Helm.
 * It is stricter than Helm in one way: printing nil, a map or a list is an error here, where Helm
 * prints "" (for a missing value) or Go's map syntax, neither of which belongs in a manifest.
 * Anything outside the subset (an unknown function, `template`, `block`) is an error, not a guess.
 */

export class TemplateError extends Error {}

type Value = unknown;

interface Field {
  kind: 'field';
  /** `dot` for `.a.b`; a variable name (with `$`) for `$x.a.b`. */
  base: string;
  path: string[];
}
type Arg =
  | Field
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: bigint | number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'nil' }
  | { kind: 'ident'; name: string }
  | { kind: 'pipe'; pipe: Pipeline };
type Command = Arg[];
interface Pipeline {
  /** file:line, for error messages. */
  where: string;
  decl: string[];
  assign: boolean;
  cmds: Command[];
}
interface Block {
  kind: 'if' | 'with' | 'range';
  pipe: Pipeline;
  body: Node[];
  otherwise: Node[];
}
type Node = { kind: 'text'; text: string } | { kind: 'action'; pipe: Pipeline } | Block;

/** A struct in Go: reading a field it lacks is an error, not nil. */
const structs = new WeakSet<object>();
export function goStruct<T extends object>(value: T): T {
  structs.add(value);
  return value;
}

// ─────────────────────────────── lexing and parsing ───────────────────────────────

interface Token {
  type: 'string' | 'number' | 'ident' | 'field' | 'var' | 'dot' | '(' | ')' | '|' | ':=' | '=' | ',';
  text: string;
}

function tokenize(src: string, where: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new TemplateError(`${where}: ${why} in {{${src}}}`);
  };
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) fail('unterminated string');
      tokens.push({ type: 'string', text: JSON.parse(src.slice(i, j + 1)) as string });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) fail('unterminated raw string');
      tokens.push({ type: 'string', text: src.slice(i + 1, j) });
      i = j + 1;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(src.slice(i))!;
      tokens.push({ type: 'number', text: m[0] });
      i += m[0].length;
    } else if (c === '.' || c === '$') {
      const m = /^(\$[A-Za-z0-9_]*|\.)((?:[A-Za-z_][A-Za-z0-9_]*)?(?:\.[A-Za-z_][A-Za-z0-9_]*)*)/.exec(src.slice(i))!;
      if (c === '$') tokens.push({ type: 'var', text: m[0] });
      else tokens.push({ type: m[0] === '.' ? 'dot' : 'field', text: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      tokens.push({ type: 'ident', text: m[0] });
      i += m[0].length;
    } else if (src.startsWith(':=', i)) {
      tokens.push({ type: ':=', text: ':=' });
      i += 2;
    } else if ('()|=,'.includes(c)) {
      tokens.push({ type: c as Token['type'], text: c });
      i += 1;
    } else {
      fail(`unexpected "${c}"`);
    }
  }
  return tokens;
}

function parsePipeline(tokens: Token[], where: string): Pipeline {
  let pos = 0;
  const decl: string[] = [];
  let assign = false;
  // `$x :=`, `$i, $v :=`, `$x =`
  const declEnd = tokens.findIndex((t) => t.type === ':=' || t.type === '=');
  if (declEnd > 0 && tokens.slice(0, declEnd).every((t) => t.type === 'var' || t.type === ',')) {
    for (const t of tokens.slice(0, declEnd)) if (t.type === 'var') decl.push(t.text);
    assign = tokens[declEnd]!.type === '=';
    pos = declEnd + 1;
  }
  const fail = (why: string): never => {
    throw new TemplateError(`${where}: ${why}`);
  };
  const parseCmds = (closing: boolean): Command[] => {
    const cmds: Command[] = [];
    let cmd: Command = [];
    while (pos < tokens.length) {
      const t = tokens[pos]!;
      pos += 1;
      if (t.type === ')') {
        if (!closing) fail('unexpected )');
        cmds.push(cmd);
        return cmds;
      }
      if (t.type === '|') {
        if (cmd.length === 0) fail('empty command before |');
        cmds.push(cmd);
        cmd = [];
      } else if (t.type === '(') {
        cmd.push({ kind: 'pipe', pipe: { where, decl: [], assign: false, cmds: parseCmds(true) } });
      } else if (t.type === 'string') cmd.push({ kind: 'string', value: t.text });
      else if (t.type === 'number') cmd.push({ kind: 'number', value: t.text.includes('.') ? Number(t.text) : BigInt(t.text) });
      else if (t.type === 'ident') {
        if (t.text === 'true' || t.text === 'false') cmd.push({ kind: 'bool', value: t.text === 'true' });
        else if (t.text === 'nil') cmd.push({ kind: 'nil' });
        else cmd.push({ kind: 'ident', name: t.text });
      } else if (t.type === 'dot') cmd.push({ kind: 'field', base: 'dot', path: [] });
      else if (t.type === 'field') cmd.push({ kind: 'field', base: 'dot', path: t.text.slice(1).split('.') });
      else if (t.type === 'var') {
        const [name, ...path] = t.text.split('.');
        cmd.push({ kind: 'field', base: name!, path });
      } else fail(`unexpected "${t.text}"`);
    }
    if (closing) fail('unclosed (');
    if (cmd.length === 0) fail('missing command');
    cmds.push(cmd);
    return cmds;
  };
  return { where, decl, assign, cmds: parseCmds(false) };
}

interface Frame {
  node: Block | { kind: 'define'; name: string; body: Node[]; otherwise: Node[] } | { kind: 'root'; body: Node[]; otherwise: Node[] };
  inElse: boolean;
  /** An `else if` opens a frame closed by the same `end` as the one it continues. */
  chained: boolean;
}

/** Parses one template file; its `define`s are added to `defines`. */
export function parseTemplate(text: string, name: string, defines: Map<string, Node[]>): Node[] {
  const root: Frame = { node: { kind: 'root', body: [], otherwise: [] }, inElse: false, chained: false };
  const stack: Frame[] = [root];
  const emit = (node: Node): void => {
    const top = stack.at(-1)!;
    (top.inElse ? top.node.otherwise : top.node.body).push(node);
  };
  let i = 0;
  let trimNext = false;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    let chunk = text.slice(i, open < 0 ? text.length : open);
    if (trimNext) chunk = chunk.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (chunk) emit({ kind: 'text', text: chunk });
      break;
    }
    const trimLeft = /^\{\{-\s/.test(text.slice(open));
    if (trimLeft) chunk = chunk.replace(/\s+$/, '');
    if (chunk) emit({ kind: 'text', text: chunk });
    const start = open + (trimLeft ? 4 : 2);
    const line = text.slice(0, open).split('\n').length;
    const where = `${name}:${line}`;
    // Find the closing }}, skipping string literals and comments.
    let j = start;
    let inner: string;
    if (text.startsWith('/*', start)) {
      const end = text.indexOf('*/', start);
      if (end < 0) throw new TemplateError(`${where}: unclosed comment`);
      j = end + 2;
      const rest = /^( -)?\}\}/.exec(text.slice(j));
      if (!rest) throw new TemplateError(`${where}: comment must end the action`);
      trimNext = Boolean(rest[1]);
      i = j + rest[0].length;
      continue;
    }
    for (;;) {
      if (j >= text.length) throw new TemplateError(`${where}: unclosed action`);
      const c = text[j];
      if (c === '"') {
        j += 1;
        while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
        j += 1;
      } else if (c === '`') {
        j = text.indexOf('`', j + 1) + 1;
      } else if (/\s/.test(text[j]!) && text.startsWith('-}}', j + 1)) {
        inner = text.slice(start, j);
        trimNext = true;
        i = j + 4;
        break;
      } else if (text.startsWith('}}', j)) {
        inner = text.slice(start, j);
        i = j + 2;
        break;
      } else j += 1;
    }
    const tokens = tokenize(inner, where);
    const keyword = tokens[0]?.type === 'ident' ? tokens[0].text : '';
    if (keyword === 'if' || keyword === 'with' || keyword === 'range') {
      const node = { kind: keyword, pipe: parsePipeline(tokens.slice(1), where), body: [], otherwise: [] } as Block;
      emit(node);
      stack.push({ node, inElse: false, chained: false });
    } else if (keyword === 'else') {
      const top = stack.at(-1)!;
      if (top.node.kind === 'root' || top.node.kind === 'define' || top.inElse) throw new TemplateError(`${where}: unexpected else`);
      top.inElse = true;
      if (tokens[1]?.type === 'ident' && (tokens[1].text === 'if' || tokens[1].text === 'with')) {
        const node = { kind: tokens[1].text, pipe: parsePipeline(tokens.slice(2), where), body: [], otherwise: [] } as Block;
        emit(node);
        stack.push({ node, inElse: false, chained: true });
      }
    } else if (keyword === 'end') {
      let popped: Frame | undefined;
      do {
        popped = stack.pop();
        if (!popped || popped.node.kind === 'root') throw new TemplateError(`${where}: unexpected end`);
      } while (popped.chained);
      if (popped.node.kind === 'define') defines.set(popped.node.name, popped.node.body);
    } else if (keyword === 'define') {
      if (stack.length !== 1 || tokens[1]?.type !== 'string') throw new TemplateError(`${where}: define must be at top level with a name`);
      stack.push({ node: { kind: 'define', name: tokens[1].text, body: [], otherwise: [] }, inElse: false, chained: false });
    } else if (keyword === 'template' || keyword === 'block' || keyword === 'break' || keyword === 'continue') {
      throw new TemplateError(`${where}: "${keyword}" is outside the supported subset`);
    } else {
      emit({ kind: 'action', pipe: parsePipeline(tokens, where) });
    }
  }
  if (stack.length !== 1) throw new TemplateError(`${name}: missing {{ end }}`);
  return root.node.body;
}

// ─────────────────────────────── values as Go sees them ───────────────────────────────

type Kind = 'invalid' | 'bool' | 'int' | 'float64' | 'string' | 'slice' | 'map';

function kindOf(v: Value): Kind {
  if (v === null || v === undefined) return 'invalid';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'slice';
  return 'map';
}

export function isTrue(v: Value): boolean {
  switch (kindOf(v)) {
    case 'invalid':
      return false;
    case 'slice':
      return (v as unknown[]).length > 0;
    case 'map':
      return structs.has(v as object) || Object.keys(v as object).length > 0;
    default:
      return Boolean(v);
  }
}

/** Go's %v of a float64: the shortest digits, in e-notation below 1e-4 and from 1e+06 up. */
function formatFloat(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  const [mantissa, e] = n.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

/** fmt's %v for what a template may print; nil, maps and lists are refused (see the top). */
function print(v: Value, what: string): string {
  switch (kindOf(v)) {
    case 'string':
      return v as string;
    case 'int':
    case 'bool':
      return String(v);
    case 'float64':
      return formatFloat(v as number);
    default:
      throw new TemplateError(`${what}: printing ${kindOf(v) === 'invalid' ? 'nil (a missing value?)' : `a ${kindOf(v)}`}`);
  }
}

/** Sprig's strval / toString: %v for anything. */
function strval(v: Value): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'object') return JSON.stringify(v);
  return print(v, 'toString');
}

/** The JSON-shaped plain value (bigints as numbers) for YAML output. */
function plain(v: Value): Value {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function toInt(v: Value): bigint {
  switch (kindOf(v)) {
    case 'int':
      return v as bigint;
    case 'float64':
      return BigInt(Math.trunc(v as number));
    case 'string':
      return /^-?[0-9]+$/.test(v as string) ? BigInt(v as string) : 0n;
    case 'bool':
      return v ? 1n : 0n;
    default:
      return 0n;
  }
}

function compare(name: string, a: Value, b: Value): number {
  const [ka, kb] = [kindOf(a), kindOf(b)];
  if (ka !== kb) throw new TemplateError(`error calling ${name}: incompatible types for comparison (${ka} and ${kb})`);
  if (ka !== 'int' && ka !== 'float64' && ka !== 'string') throw new TemplateError(`error calling ${name}: invalid type for comparison`);
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

function eq(a: Value, ...others: Value[]): boolean {
  return others.some((b) => {
    const [ka, kb] = [kindOf(a), kindOf(b)];
    if (ka === 'invalid' || kb === 'invalid') return ka === kb;
    if (ka !== kb) throw new TemplateError(`error calling eq: incompatible types for comparison (${ka} and ${kb})`);
    if (ka === 'slice' || ka === 'map') throw new TemplateError('error calling eq: non-comparable type');
    return a === b;
  });
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

function printf(format: string, args: Value[]): string {
  let n = 0;
  return format.replace(/%([%sdvq])/g, (_, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[n++];
    if (verb === 'd') {
      if (kindOf(arg) !== 'int') return `%!d(${kindOf(arg)}=${strval(arg)})`;
      return String(arg);
    }
    if (verb === 'q') return goQuote(strval(arg));
    return strval(arg);
  });
}

// ─────────────────────────────── execution ───────────────────────────────

type Scope = Map<string, Value>[];

/** Runs parsed templates; `include` finds the `define`s of every file given. */
export class GoTemplateRunner {
  constructor(private readonly defines: Map<string, Node[]>) {}

  render(nodes: Node[], data: Value): string {
    return this.run(nodes, data, [new Map([['$', data]])]);
  }

  include(name: string, data: Value): string {
    const body = this.defines.get(name);
    if (!body) throw new TemplateError(`include: no template "${name}"`);
    return this.render(body, data);
  }

  private run(nodes: Node[], dot: Value, scope: Scope): string {
    let out = '';
    for (const node of nodes) {
      if (node.kind === 'text') out += node.text;
      else if (node.kind === 'action') {
        const value = this.pipeline(node.pipe, dot, scope);
        if (node.pipe.decl.length === 0) out += print(value, node.pipe.where);
      } else if (node.kind === 'if' || node.kind === 'with') {
        const inner: Scope = [...scope, new Map()];
        const value = this.pipeline(node.pipe, dot, inner);
        if (isTrue(value)) out += this.run(node.body, node.kind === 'with' ? value : dot, inner);
        else out += this.run(node.otherwise, dot, [...scope, new Map()]);
      } else {
        out += this.range(node, dot, scope);
      }
    }
    return out;
  }

  private range(node: Block, dot: Value, scope: Scope): string {
    const { decl } = node.pipe;
    const collection = this.pipeline({ ...node.pipe, decl: [] }, dot, scope);
    let entries: [Value, Value][];
    if (Array.isArray(collection)) entries = collection.map((v, i) => [BigInt(i), v]);
    else if (kindOf(collection) === 'map') entries = Object.keys(collection as object).sort().map((k) => [k, (collection as Record<string, Value>)[k]]);
    else if (kindOf(collection) === 'invalid') entries = [];
    else throw new TemplateError(`range can't iterate over ${strval(collection)}`);
    if (entries.length === 0) return this.run(node.otherwise, dot, [...scope, new Map()]);
    let out = '';
    for (const [key, value] of entries) {
      const frame = new Map<string, Value>();
      if (decl.length === 1) frame.set(decl[0]!, value);
      if (decl.length === 2) {
        frame.set(decl[0]!, key);
        frame.set(decl[1]!, value);
      }
      out += this.run(node.body, value, [...scope, frame]);
    }
    return out;
  }

  private pipeline(pipe: Pipeline, dot: Value, scope: Scope): Value {
    try {
      return this.evaluate(pipe, dot, scope);
    } catch (error) {
      if (!(error instanceof TemplateError) || error.message.startsWith(`${pipe.where}: `)) throw error;
      throw new TemplateError(`${pipe.where}: ${error.message}`);
    }
  }

  private evaluate(pipe: Pipeline, dot: Value, scope: Scope): Value {
    let value: Value;
    let piped = false;
    for (const cmd of pipe.cmds) {
      value = this.command(cmd, dot, scope, piped ? [value] : []);
      piped = true;
    }
    for (const name of pipe.decl) {
      if (pipe.assign) {
        const frame = [...scope].reverse().find((f) => f.has(name));
        if (!frame) throw new TemplateError(`undefined variable: ${name}`);
        frame.set(name, value);
      } else scope.at(-1)!.set(name, value);
    }
    return value;
  }

  private command(cmd: Command, dot: Value, scope: Scope, piped: Value[]): Value {
    const [first, ...rest] = cmd;
    if (first!.kind === 'ident') {
      const lazy = rest.map((arg) => () => this.arg(arg, dot, scope));
      return this.call(first!.name, [...lazy, ...piped.map((v) => () => v)]);
    }
    const value = this.arg(first!, dot, scope);
    // A method of a struct, as `.Capabilities.APIVersions.Has "monitoring.coreos.com/v1"`.
    if (typeof value === 'function') return (value as (...args: Value[]) => Value)(...rest.map((arg) => this.arg(arg, dot, scope)), ...piped);
    if (rest.length > 0 || piped.length > 0) throw new TemplateError(`can't give argument to non-function ${JSON.stringify(first)}`);
    return value;
  }

  private arg(arg: Arg, dot: Value, scope: Scope): Value {
    switch (arg.kind) {
      case 'string':
      case 'number':
      case 'bool':
        return arg.value;
      case 'nil':
        return null;
      case 'pipe':
        return this.pipeline(arg.pipe, dot, scope);
      case 'ident':
        return this.call(arg.name, []);
      case 'field': {
        let value: Value;
        if (arg.base === 'dot') value = dot;
        else {
          const frame = [...scope].reverse().find((f) => f.has(arg.base));
          if (!frame) throw new TemplateError(`undefined variable: ${arg.base}`);
          value = frame.get(arg.base);
        }
        let path = arg.base === 'dot' ? '' : arg.base;
        for (const name of arg.path) {
          path += `.${name}`;
          if (value === null || value === undefined) throw new TemplateError(`nil pointer evaluating interface {}${path}`);
          if (typeof value !== 'object' || Array.isArray(value)) throw new TemplateError(`can't evaluate field ${name} in ${path}`);
          if (!Object.hasOwn(value, name)) {
            if (structs.has(value)) throw new TemplateError(`can't evaluate field ${name} in ${path}`);
            this.onMissing?.(value, name);
          }
          value = (value as Record<string, Value>)[name];
        }
        return value;
      }
    }
  }

  /** Called when a template reads a key a map does not have (Go gives nil there). */
  onMissing?: (map: object, key: string) => void;

  private call(name: string, args: (() => Value)[]): Value {
    if (name === 'and' || name === 'or') {
      if (args.length === 0) throw new TemplateError(`${name}: no arguments`);
      let last: Value;
      for (const get of args) {
        last = get();
        if (isTrue(last) !== (name === 'and')) return last;
      }
      return last;
    }
    const fn = (Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined) ?? (name === 'include' ? (n: Value, data: Value) => this.include(n as string, data) : undefined);
    if (!fn) throw new TemplateError(`function "${name}" not defined`);
    const values = args.map((get) => get());
    if (fn.length !== values.length && !VARIADIC.has(name)) {
      throw new TemplateError(`wrong number of args for ${name}: want ${fn.length} got ${values.length}`);
    }
    return fn(...values);
  }
}

const VARIADIC = new Set(['dict', 'list', 'printf', 'print', 'quote', 'squote', 'eq', 'default', 'dig']);

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const indent = (n: Value, s: Value): string => {
  const pad = ' '.repeat(Number(toInt(n)));
  return pad + String(s).replaceAll('\n', `\n${pad}`);
};

const FUNCTIONS: Record<string, (...args: Value[]) => Value> = {
  not: (v) => !isTrue(v),
  eq: (a, ...b) => eq(a, ...b),
  ne: (a, b) => !eq(a, b),
  lt: (a, b) => compare('lt', a, b) < 0,
  le: (a, b) => compare('le', a, b) <= 0,
  gt: (a, b) => compare('gt', a, b) > 0,
  ge: (a, b) => compare('ge', a, b) >= 0,
  len: (v) => BigInt(Array.isArray(v) || typeof v === 'string' ? v.length : Object.keys(v as object).length),
  index: (coll, key) => {
    if (Array.isArray(coll)) return coll[Number(toInt(key))];
    if (kindOf(coll) !== 'map') throw new TemplateError(`index of ${kindOf(coll)}`);
    return (coll as Record<string, Value>)[key as string];
  },
  print: (...args) => args.map(strval).join(''),
  printf: (format, ...args) => printf(format as string, args),
  // Sprig
  default: (fallback, ...given) => (given.length === 0 || !isTrue(given[0]) ? fallback : given[0]),
  empty: (v) => !isTrue(v),
  dict: (...kv) => {
    const out: Record<string, Value> = {};
    for (let i = 0; i < kv.length; i += 2) out[strval(kv[i])] = kv[i + 1];
    return out;
  },
  list: (...items) => items,
  has: (needle, list) => Array.isArray(list) && list.some((x) => x === needle),
  hasKey: (map, key) => {
    if (kindOf(map) !== 'map') throw new TemplateError(`hasKey of ${kindOf(map)}`);
    return Object.hasOwn(map as object, String(key));
  },
  // Sprig's dig: the value at a path of keys, or the default when a key is missing (a value of
  // nil that is present is returned as it is); a step through something that is not a map fails.
  dig: (...args) => {
    const map = args.at(-1);
    const fallback = args.at(-2);
    let node = map;
    for (const key of args.slice(0, -2)) {
      if (kindOf(node) !== 'map') throw new TemplateError(`dig: ${strval(key)} of ${kindOf(node)}`);
      if (!Object.hasOwn(node as object, strval(key))) return fallback;
      node = (node as Record<string, Value>)[strval(key)];
    }
    return node;
  },
  splitList: (sep, s) => String(s).split(String(sep)),
  quote: (...args) => args.filter((a) => a !== null && a !== undefined).map((a) => goQuote(strval(a))).join(' '),
  squote: (...args) => args.filter((a) => a !== null && a !== undefined).map((a) => `'${strval(a)}'`).join(' '),
  toString: (v: Value) => strval(v),
  int: (v) => toInt(v),
  trunc: (n, s) => {
    const len = Number(toInt(n));
    const str = String(s);
    return len < 0 ? str.slice(Math.max(0, str.length + len)) : str.slice(0, len);
  },
  trimSuffix: (suffix, s) => (String(s).endsWith(String(suffix)) ? String(s).slice(0, -String(suffix).length || undefined) : String(s)),
  trimPrefix: (prefix, s) => (String(s).startsWith(String(prefix)) ? String(s).slice(String(prefix).length) : String(s)),
  contains: (substr, s) => String(s).includes(String(substr)),
  replace: (from, to, s) => String(s).replaceAll(String(from), String(to)),
  b64enc: (s) => Buffer.from(String(s)).toString('base64'),
  sha256sum: (s) => sha256(String(s)),
  kindIs: (kind, v) => kindOf(v) === kind,
  indent,
  nindent: (n, s) => `\n${indent(n, s)}`,
  required: (message, v) => {
    if (v === null || v === undefined || v === '') throw new TemplateError(String(message));
    return v;
  },
  fail: (message) => {
    throw new TemplateError(`execution error: ${String(message)}`);
  },
  // Helm: toYaml sorts keys, does not indent lists under their key (go-yaml) and drops the trailing
  // newline; fromYaml gives a map (an empty one for nothing).
  toYaml: (v) => stringifyYaml(plain(v), { sortMapEntries: true, lineWidth: 0, indentSeq: false }).replace(/\n$/, ''),
  fromYaml: (s) => (parseYaml(String(s)) as Value) ?? {},
};
