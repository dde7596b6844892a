import { formatValue, PLAIN } from './fmt.js';
import { isNil, isTrue, kindOf, methodOf, MISSING, NO_VALUE, sortedEntries, typeName, zeroOf } from './go-value.js';
import type { Arg, Command, Node, Pipe, Tree } from './template-ast.js';
import { CallError, TemplateError } from './template-error.js';
import { callFunction, isBuiltinPrintf, type Func } from './template-funcs.js';

// Go's template evaluator (text/template/exec.go) over the values of go-value.ts.

/** template.Option("missingkey=..."): what a field read of a key a map lacks gives. */
export type MissingKey = 'default' | 'invalid' | 'zero' | 'error';

/** What the evaluator needs of the template set it runs in. */
export interface ExecEnv {
  readonly funcs: ReadonlyMap<string, Func>;
  readonly missingKey: MissingKey;
  readonly onMissingKey?: (map: ReadonlyMap<unknown, unknown>, key: string) => void;
  readonly onPrint?: (value: unknown) => void;
  lookup(name: string): Tree | undefined;
  /** Runs another template of the set (`{{template}}`), counting how deep templates nest. */
  execute(tree: Tree, data: unknown): string;
}

interface Variable {
  name: string;
  value: unknown;
}

type At = { pos: number; text: string };

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Executor {
  private readonly vars: Variable[];
  private out = '';

  constructor(
    private readonly env: ExecEnv,
    private readonly tree: Tree,
    private readonly data: unknown,
  ) {
    this.vars = [{ name: '$', value: data }];
  }

  run(): string {
    this.walkList(this.data, this.tree.root);
    return this.out;
  }

  private fail(reason: string, at: At, cause?: unknown): never {
    const { source, parseName, name } = this.tree;
    throw new TemplateError(reason, { source, name: parseName, offset: at.pos, executing: at.text, template: name === parseName ? undefined : name, cause });
  }

  private walkList(dot: unknown, nodes: Node[]): void {
    for (const node of nodes) this.walk(dot, node);
  }

  private walk(dot: unknown, node: Node): void {
    switch (node.type) {
      case 'text':
        this.out += node.text;
        return;
      case 'action': {
        // Variables declared here live until the enclosing {{end}}; a declaration prints nothing.
        const value = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.out += this.printable(value, node.pipe);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const value = this.evalPipeline(dot, node.pipe);
        if (isTrue(value)) this.walkList(node.type === 'with' ? value : dot, node.list);
        else if (node.elseList) this.walkList(dot, node.elseList);
        this.vars.length = mark;
        return;
      }
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template': {
        const tree = this.env.lookup(node.name);
        if (!tree) return this.fail(`template ${JSON.stringify(node.name)} not defined`, node);
        const data = node.pipe ? this.evalPipeline(dot, node.pipe) : undefined;
        this.out += this.env.execute(tree, data === NO_VALUE ? undefined : data);
        return;
      }
    }
  }

  private walkRange(dot: unknown, node: Extract<Node, { type: 'range' }>): void {
    const mark = this.vars.length;
    const value = this.evalPipeline(dot, node.pipe);
    const bodyMark = this.vars.length;
    const { decl, isAssign } = node.pipe;
    const iteration = (index: unknown, elem: unknown) => {
      // exec.go walkRange: with one variable it gets the element; with two, the index then the element.
      if (decl.length > 0) {
        if (isAssign) this.setVar(decl[0]!, decl.length > 1 ? index : elem, node.pipe);
        else this.vars[this.vars.length - 1]!.value = elem;
      }
      if (decl.length > 1) {
        if (isAssign) this.setVar(decl[1]!, elem, node.pipe);
        else this.vars[this.vars.length - 2]!.value = index;
      }
      this.walkList(elem, node.list);
      this.vars.length = bodyMark;
    };
    const entries = this.rangeEntries(value, node.pipe);
    for (const [index, elem] of entries) iteration(index, elem);
    if (entries.length === 0 && node.elseList) this.walkList(dot, node.elseList);
    this.vars.length = mark;
  }

  private rangeEntries(value: unknown, pipe: Pipe): [unknown, unknown][] {
    switch (kindOf(value)) {
      case 'nil':
        return []; // Like a nil map or slice: no iterations, so the else branch runs.
      case 'slice':
        return (value as unknown[]).map((elem, i) => [i, elem]);
      case 'map':
        return sortedEntries(value as Map<unknown, unknown>);
      case 'struct':
        return sortedEntries(new Map(Object.entries(value as object)));
      case 'int': {
        // Go 1.22 ranges over an integer n as 0..n-1.
        if (pipe.decl.length > 1) this.fail(`can't use ${value} to iterate over more than one variable`, pipe);
        return Array.from({ length: Math.max(0, value as number) }, (_, i) => [i, i]);
      }
      default:
        return this.fail(`range can't iterate over ${formatValue(value, 'v', PLAIN)}`, pipe);
    }
  }

  private setVar(variable: { name: string; pos: number }, value: unknown, at: Pipe): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === variable.name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${variable.name}`, at);
  }

  private varValue(name: string, at: Arg): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return this.fail(`undefined variable: ${name}`, at);
  }

  private evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // Go digs into an interface{} holding nil and finds an invalid value.
      if (value === undefined) value = NO_VALUE;
    }
    for (const variable of pipe.decl) {
      if (pipe.isAssign) this.setVar(variable, value, pipe);
      else this.vars.push({ name: variable.name, value });
    }
    return value;
  }

  /**
   * A function gets the command's arguments and the previous command's value (`final`); so does a
   * method at the end of a field chain. Arguments to anything else are rejected while parsing.
   */
  private evalCommand(dot: unknown, cmd: Command, final: unknown): unknown {
    const [first, ...args] = cmd.args as [Arg, ...Arg[]];
    if (first.type === 'identifier') return this.call(dot, first.name, args, final, cmd);
    if (args.length === 0 && final === MISSING) return this.evalArg(dot, first);
    switch (first.type) {
      case 'field':
        return this.evalFieldChain(dot, dot, '', first.idents, first, args, final);
      case 'variable':
        return this.evalFieldChain(dot, this.varValue(first.name, first), first.name, first.idents, first, args, final);
      case 'chain':
        return this.evalFieldChain(dot, this.evalArg(dot, first.node), first.node.text, first.idents, first, args, final);
      default:
        return this.fail(`can't give argument to non-function ${first.text}`, first);
    }
  }

  private evalArg(dot: unknown, arg: Arg): unknown {
    switch (arg.type) {
      case 'field':
        return this.evalFieldChain(dot, dot, '', arg.idents, arg);
      case 'variable': {
        const value = this.varValue(arg.name, arg);
        return arg.idents.length > 0 ? this.evalFieldChain(dot, value, arg.name, arg.idents, arg) : value;
      }
      case 'chain':
        return this.evalFieldChain(dot, this.evalArg(dot, arg.node), arg.node.text, arg.idents, arg);
      case 'identifier':
        return this.call(dot, arg.name, [], MISSING, arg);
      case 'pipe':
        return this.evalPipeline(dot, arg.pipe);
      case 'dot':
        return dot;
      case 'nil':
        return undefined;
      case 'bool':
      case 'number':
      case 'string':
        return arg.value;
    }
  }

  /** `.A.B.C` from `receiver`; the last field gets the arguments, if any, and must then be a method. */
  private evalFieldChain(dot: unknown, receiver: unknown, path: string, idents: string[], at: Arg, args: Arg[] = [], final: unknown = MISSING): unknown {
    idents.forEach((ident, i) => {
      const last = i === idents.length - 1;
      receiver = this.evalField(dot, receiver, ident, path, at, last ? args : [], last ? final : MISSING);
      path += `.${ident}`;
    });
    return receiver;
  }

  private evalField(dot: unknown, receiver: unknown, field: string, path: string, at: Arg, args: Arg[], final: unknown): unknown {
    const hasArgs = args.length > 0 || final !== MISSING;
    if (receiver === NO_VALUE) {
      // Go: a field of an invalid value is invalid, not an error, unless missing keys are errors.
      if (this.env.missingKey === 'error') this.fail(`nil data; no entry for key ${JSON.stringify(field)}`, at);
      return NO_VALUE;
    }
    if (receiver === null || receiver === undefined) return this.fail(`nil pointer evaluating ${path}.${field}`, at);
    if (receiver instanceof Map) {
      if (hasArgs) this.fail(`${field} is not a method but has arguments`, at);
      return receiver.has(field) ? receiver.get(field) : this.missingKey(receiver, field, at);
    }
    if (kindOf(receiver) === 'struct') {
      if (Object.hasOwn(receiver as object, field)) {
        if (hasArgs) this.fail(`${field} has arguments but cannot be invoked as function`, at);
        return (receiver as Record<string, unknown>)[field];
      }
      const method = methodOf(receiver as object, field);
      if (method) return this.callMethod(dot, receiver as object, method, field, args, final, at);
      const names = Object.getOwnPropertyNames(receiver);
      const shown = names.length > 30 ? [...names.slice(0, 30), '...'] : names;
      return this.fail(`can't evaluate field ${field} in ${path || '.'} (its fields are ${shown.join(', ') || 'none'})`, at);
    }
    return this.fail(`can't evaluate field ${field} in type ${typeName(receiver)}`, at);
  }

  private missingKey(map: Map<unknown, unknown>, key: string, at: Arg): unknown {
    this.env.onMissingKey?.(map, key);
    switch (this.env.missingKey) {
      case 'zero':
        return zeroOf(map);
      case 'error':
        return this.fail(`map has no entry for key ${JSON.stringify(key)}`, at);
      default:
        return NO_VALUE;
    }
  }

  private callMethod(dot: unknown, receiver: object, method: (...args: unknown[]) => unknown, name: string, args: Arg[], final: unknown, at: Arg): unknown {
    const values = this.evalArgs(dot, args, final);
    if (values.length !== method.length) this.fail(`wrong number of args for ${name}: want ${method.length} got ${values.length}`, at);
    try {
      return method.apply(receiver, values.map(nilForInvalid));
    } catch (error) {
      return this.fail(`error calling ${name}: ${messageOf(error)}`, at, error);
    }
  }

  private evalArgs(dot: unknown, args: Arg[], final: unknown): unknown[] {
    const values = args.map((arg) => this.evalArg(dot, arg));
    if (final !== MISSING) values.push(final);
    return values;
  }

  /** The parser has checked that the function exists and how many arguments it gets. */
  private call(dot: unknown, name: string, args: Arg[], final: unknown, at: At): unknown {
    const func = this.env.funcs.get(name)!;
    if (func.special === 'and' || func.special === 'or') {
      // Go 1.18+: evaluate left to right and stop at the argument that decides; return it, not a bool.
      let value: unknown;
      for (const arg of args) {
        value = this.evalArg(dot, arg);
        if (isTrue(value) === (func.special === 'or')) return value;
      }
      return final === MISSING ? value : final;
    }
    const values = this.evalArgs(dot, args, final);
    if (isBuiltinPrintf(func) && typeof values[0] !== 'string') {
      return this.fail(`wrong type for value; expected string; got ${typeName(values[0])}`, at);
    }
    try {
      if (func.special === 'call') return callFunction(args[0]?.text ?? '', values[0], values.slice(1));
      return func.call(func.builtin ? values : values.map(nilForInvalid));
    } catch (error) {
      // A builtin throws CallError for what Go reports; anything else from one is a bug, not the template's.
      if (error instanceof CallError || !func.builtin || func.special === 'call') return this.fail(`error calling ${name}: ${messageOf(error)}`, at, error);
      throw error;
    }
  }

  /** What an action prints: fmt's %v, with Go's `<no value>` for nil. */
  private printable(value: unknown, at: Pipe): string {
    try {
      this.env.onPrint?.(nilForInvalid(value));
    } catch (error) {
      return this.fail(messageOf(error), at, error);
    }
    if (isNil(value)) return '<no value>';
    try {
      return formatValue(value, 'v', PLAIN);
    } catch (error) {
      if (error instanceof CallError) return this.fail(error.message, at);
      throw error;
    }
  }
}

/** Go passes nil where an interface{} parameter is given the invalid value. */
function nilForInvalid(value: unknown): unknown {
  return value === NO_VALUE ? undefined : value;
}
