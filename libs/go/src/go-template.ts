import { charAt, goQuote, sprintf } from './fmt.js';
import type { Arg, Command, Node, Pipe, Tree } from './template-ast.js';
import { CallError, TemplateError } from './template-error.js';
import { Executor, type ExecEnv, type MissingKey } from './template-exec.js';
import { functionTable, isBuiltinPrintf, type Func, type FuncMap } from './template-funcs.js';
import { Lexer, type Fail, type Token, type TokenType } from './template-lex.js';

/*
 * Go's text/template: a lexer (template-lex.ts, after text/template/parse/lex.go), a parser to a
 * tree (here, after parse/parse.go), an evaluator (template-exec.ts, exec.go) with the builtin
 * functions (template-funcs.ts, funcs.go) and the part of fmt that printing needs (fmt.ts). A
 * TemplateSet is Go's set of associated templates: one function table (Go's builtins plus the
 * caller's, as template.Funcs adds them), the templates each text defines, and the options Go
 * sets with template.Option.
 *
 * Anything Go would accept that this port does not (`break`, `continue`, float and character
 * literals, printf verbs other than %v %s %d %q %t %x %X %c) is a TemplateError at parse time,
 * so a template using it fails at once instead of rendering something else later. A few mistakes
 * Go reports during execution but that are certain from the text alone (wrong argument counts,
 * `nil` as a command, arguments given to what cannot take them) are reported at parse time here.
 * The values the data may hold, and how they stand for Go's, are described in go-value.ts.
 */

/**
 * Parts of Go's template language a caller leaves out, each refused when a template is parsed
 * (`unsupported action "define"`, `unsupported function "html"`), as Bowline's config does for
 * the Prow templates it has always taken (libs/config templates.ts).
 */
export interface TemplateSubset {
  /** Of `define`, `template` and `block`. */
  actions?: readonly string[];
  /** Builtins (Go cannot take a builtin away; a caller can still say it does not want one). */
  functions?: readonly string[];
  /** false when the data has no methods: arguments after a field are then refused while parsing. */
  methods?: boolean;
}

export interface TemplateOptions {
  /** Functions beside Go's builtins, as template.Funcs adds them; one may replace a builtin. */
  funcs?: FuncMap;
  /** template.Option("missingkey=..."): a missing key read as a field is invalid (`<no value>`, the default), the map's zero value, or an error. */
  missingKey?: MissingKey;
  subset?: TemplateSubset;
  /** Told of each missing map key read as a field, whatever missingKey says (a test lists them as typos). */
  onMissingKey?: (map: ReadonlyMap<unknown, unknown>, key: string) => void;
  /** Shown each value an action prints (nil for the invalid value); what it throws fails the template there. */
  onPrint?: (value: unknown) => void;
}

/**
 * How deep templates may call templates (`{{template}}`, or a function executing one). Go allows
 * 100000 (exec.go maxExecDepth); a JavaScript stack overflows long before, so the limit is lower.
 */
const MAX_TEMPLATE_DEPTH = 1000;

/** Go's set of associated templates: parse texts into it, then execute any template by name. */
export class TemplateSet {
  private readonly trees = new Map<string, Tree>();
  private readonly funcs: ReadonlyMap<string, Func>;
  private readonly env: ExecEnv;
  private depth = 0;

  constructor(private readonly options: TemplateOptions = {}) {
    this.funcs = functionTable(options.funcs);
    this.env = {
      funcs: this.funcs,
      missingKey: options.missingKey ?? 'default',
      onMissingKey: options.onMissingKey,
      onPrint: options.onPrint,
      lookup: (name) => this.trees.get(name),
      execute: (tree, data) => this.run(tree, data),
    };
  }

  /**
   * Go's `t.New(name).Parse(text)`: the text becomes the template `name`, and each of its
   * `{{define}}`s and `{{block}}`s another, replacing one of the same name. `name` also labels
   * error messages. Throws TemplateError on syntax errors and on what the port or the subset leaves out.
   */
  parse(name: string, text: string): GoTemplate {
    const fail = (reason: string, offset: number): never => {
      throw new TemplateError(reason, { source: text, name, offset });
    };
    const tokens = new Lexer(text, fail).run();
    const { root, defined } = new Parser(tokens, text, fail, this.funcs, this.options.subset ?? {}).parseTemplate();
    this.trees.set(name, { name, parseName: name, source: text, root });
    for (const template of defined) this.trees.set(template.name, { ...template, parseName: name, source: text });
    return new GoTemplate(this, name);
  }

  lookup(name: string): GoTemplate | undefined {
    return this.trees.has(name) ? new GoTemplate(this, name) : undefined;
  }

  /** Every template of the set, by name. */
  names(): string[] {
    return [...this.trees.keys()];
  }

  /** The parse tree of a template, as Go's `t.Tree` (for tools that read templates). */
  tree(name: string): Tree | undefined {
    return this.trees.get(name);
  }

  /** Go's ExecuteTemplate: renders the template `name` over `data` (its `$` and initial dot). Throws TemplateError as Go's Execute errors. */
  execute(name: string, data: unknown): string {
    const tree = this.trees.get(name);
    if (!tree) throw new TemplateError(`no template ${JSON.stringify(name)} in the set`);
    return this.run(tree, data);
  }

  private run(tree: Tree, data: unknown): string {
    if (this.depth >= MAX_TEMPLATE_DEPTH) throw new TemplateError(`exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
    this.depth++;
    try {
      return new Executor(this.env, tree, data).run();
    } finally {
      this.depth--;
    }
  }
}

/** One template of a set. */
export class GoTemplate {
  constructor(
    private readonly set: TemplateSet,
    readonly name: string,
  ) {}

  /**
   * Parses `text` as a set of its own; a string for `options` is the name (such as
   * `job_url_template`), which only labels error messages.
   */
  static parse(text: string, options: string | (TemplateOptions & { name?: string }) = {}): GoTemplate {
    const { name = '', ...rest } = typeof options === 'string' ? { name: options } : options;
    return new TemplateSet(rest).parse(name, text);
  }

  get source(): string {
    return this.set.tree(this.name)!.source;
  }

  /** Renders the template over `data` (Go's `$` and initial dot). Throws TemplateError as Go's Execute errors. */
  execute(data: unknown): string {
    return this.set.execute(this.name, data);
  }
}

// ───────────────────────────────────────── Parser ─────────────────────────────────────────

/** `{{end}}` and `{{else}}` end an item list; the control structure that owns the list consumes them. */
type Marker = { type: 'end' | 'else'; pos: number };

class Parser {
  private i = 0;
  /** Variables in scope while parsing, as Go's Tree.vars: a use of any other is an error. */
  private vars: string[] = ['$'];
  /** The templates `{{define}}` and `{{block}}` add, in the order they close. */
  private readonly defined: { name: string; root: Node[] }[] = [];

  constructor(
    private readonly tokens: Token[],
    private readonly src: string,
    private readonly fail: Fail,
    private readonly funcs: ReadonlyMap<string, Func>,
    private readonly subset: TemplateSubset,
  ) {}

  /** The text's own template, and those it defines. */
  parseTemplate(): { root: Node[]; defined: { name: string; root: Node[] }[] } {
    const root: Node[] = [];
    while (this.peek().type !== 'eof') {
      if (this.atDefine()) continue;
      const item = this.textOrAction();
      if (item.type === 'end' || item.type === 'else') this.fail(`unexpected {{${item.type}}}`, item.pos);
      root.push(item as Node);
    }
    return { root, defined: this.defined };
  }

  /** Go's parse: `{{define "name"}}...{{end}}` only at the top level; true when one was read. */
  private atDefine(): boolean {
    const start = this.i;
    const open = this.nextNonSpace();
    if (open.type === 'leftDelim') {
      const keyword = this.nextNonSpace();
      if (keyword.type === 'keyword' && keyword.value === 'define') {
        this.refuseUnsupported('define', keyword.pos);
        const name = this.templateName('define clause');
        this.expect('rightDelim', 'define clause');
        this.defineTemplate('define', name, open.pos);
        return true;
      }
    }
    this.i = start;
    return false;
  }

  /** The body of a `{{define}}` or `{{block}}` up to its `{{end}}`: a template of its own, with only `$` in scope. */
  private defineTemplate(keyword: 'define' | 'block', name: string, open: number): void {
    const outer = this.vars;
    this.vars = ['$'];
    const { list, next } = this.itemList(keyword, open);
    if (next.type !== 'end') this.fail(`unexpected {{else}} in ${keyword} clause`, next.pos);
    this.vars = outer;
    this.defined.push({ name, root: list });
  }

  private templateName(context: string): string {
    const token = this.nextNonSpace();
    if (token.type === 'string') return unquoteString(token.value, (reason) => this.fail(reason, token.pos));
    if (token.type === 'rawString') return token.value.slice(1, -1).replace(/\r/g, '');
    return this.unexpected(token, context);
  }

  private refuseUnsupported(action: string, pos: number): void {
    if (this.subset.actions?.includes(action)) this.fail(`unsupported action "${action}"`, pos);
  }

  // Token stream. The EOF token is never passed, so `next` at the end keeps returning it.

  private next(): Token {
    const token = this.tokens[this.i]!;
    if (token.type !== 'eof') this.i++;
    return token;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private backup(): void {
    this.i--;
  }

  private nextNonSpace(): Token {
    let token = this.next();
    while (token.type === 'space') token = this.next();
    return token;
  }

  private peekNonSpace(): Token {
    const token = this.nextNonSpace();
    if (token.type !== 'eof') this.backup();
    return token;
  }

  private unexpected(token: Token, context: string): never {
    return this.fail(`unexpected ${describeToken(token)} in ${context}`, token.pos);
  }

  /** Go's itemList: nodes up to the `{{end}}` or `{{else}}` that closes the control opened at `open`. */
  private itemList(context: string, open: number): { list: Node[]; next: Marker } {
    const list: Node[] = [];
    while (this.peekNonSpace().type !== 'eof') {
      const item = this.textOrAction();
      if (item.type === 'end' || item.type === 'else') return { list, next: item as Marker };
      list.push(item as Node);
    }
    return this.fail(`unexpected EOF: {{${context}}} has no matching {{end}}`, open);
  }

  private textOrAction(): Node | Marker {
    const token = this.nextNonSpace();
    if (token.type === 'text') return { type: 'text', text: token.value };
    if (token.type === 'leftDelim') return this.action(token.pos);
    return this.unexpected(token, 'input');
  }

  private action(open: number): Node | Marker {
    const token = this.nextNonSpace();
    if (token.type === 'keyword') {
      switch (token.value) {
        case 'else':
          return this.elseControl(open);
        case 'end':
          this.expect('rightDelim', 'end');
          return { type: 'end', pos: open };
        case 'if':
        case 'with':
        case 'range':
          return this.control(token.value, open);
        case 'template':
        case 'block':
          this.refuseUnsupported(token.value, token.pos);
          return this.templateControl(token.value, open);
        case 'define':
          this.refuseUnsupported(token.value, token.pos);
          return this.unexpected(token, 'command');
        default:
          // break and continue
          return this.fail(`unsupported action "${token.value}"`, token.pos);
      }
    }
    this.backup();
    return { type: 'action', pos: open, pipe: this.pipeline('command', 'rightDelim') };
  }

  private expect(type: TokenType, context: string): Token {
    const token = this.nextNonSpace();
    if (token.type !== type) this.unexpected(token, context);
    return token;
  }

  private elseControl(open: number): Marker {
    // `{{else if ...}}` and `{{else with ...}}` leave the if/with pending for the enclosing control.
    const peek = this.peekNonSpace();
    if (peek.type === 'keyword' && (peek.value === 'if' || peek.value === 'with')) return { type: 'else', pos: open };
    this.expect('rightDelim', 'else');
    return { type: 'else', pos: open };
  }

  private control(context: 'if' | 'with' | 'range', open: number): Node {
    const scope = this.vars.length;
    const pipe = this.pipeline(context, 'rightDelim');
    const { list, next } = this.itemList(context, open);
    let elseList: Node[] | undefined;
    if (next.type === 'else') {
      const peek = this.peek();
      if ((context === 'if' || context === 'with') && peek.type === 'keyword' && peek.value === context) {
        // {{if a}}x{{else if b}}y{{end}} is {{if a}}x{{else}}{{if b}}y{{end}}{{end}}: one end closes both.
        this.next();
        elseList = [this.control(context, next.pos)];
      } else {
        const rest = this.itemList(context, open);
        if (rest.next.type !== 'end') this.fail('expected end; found {{else}}', rest.next.pos);
        elseList = rest.list;
      }
    }
    this.vars.length = scope; // A variable's scope ends at the {{end}} of the control that declares it.
    return { type: context, pos: open, pipe, list, elseList };
  }

  /** `{{template "name" pipeline}}`, and `{{block "name" pipeline}}...{{end}}`, which also defines it. */
  private templateControl(keyword: 'template' | 'block', open: number): Node {
    const context = `${keyword} clause`;
    const name = this.templateName(context);
    let pipe: Pipe | undefined;
    if (this.peekNonSpace().type === 'rightDelim') this.nextNonSpace();
    else pipe = this.pipeline(context, 'rightDelim');
    const text = this.src.slice(open, this.tokens[this.i - 1]!.end);
    if (keyword === 'block') {
      if (!pipe) this.fail(`missing value for ${context}`, open);
      this.defineTemplate('block', name, open);
    }
    return { type: 'template', pos: open, text, name, pipe };
  }

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): Pipe {
    const first = this.peekNonSpace();
    const pipe: Pipe = { pos: first.pos, text: '', decl: [], isAssign: false, cmds: [] };
    // Declarations and assignments: `$x :=`, `$x =`, and in range `$i, $e :=`.
    for (;;) {
      const variable = this.peekNonSpace();
      if (variable.type !== 'variable') break;
      const before = this.i;
      this.next();
      const after = this.peekNonSpace();
      if (after.type === 'declare' || after.type === 'assign') {
        this.nextNonSpace();
        pipe.isAssign = after.type === 'assign';
        pipe.decl.push({ name: variable.value, pos: variable.pos });
        if (pipe.isAssign) this.checkDefined(variable);
        else this.vars.push(variable.value);
        break;
      }
      if (after.type === 'char' && after.value === ',') {
        this.nextNonSpace();
        pipe.decl.push({ name: variable.value, pos: variable.pos });
        this.vars.push(variable.value);
        if (context === 'range' && pipe.decl.length < 2) {
          const third = this.peekNonSpace();
          if (third.type === 'variable' || third.type === 'rightDelim' || third.type === 'rightParen') continue;
          this.fail('range can only initialize variables', third.pos);
        }
        this.fail(`too many declarations in ${context}`, after.pos);
      }
      this.i = before; // `$x` is an operand, not a declaration.
      break;
    }
    for (;;) {
      const token = this.nextNonSpace();
      if (token.type === end) {
        pipe.text = this.src.slice(pipe.pos, token.pos).trimEnd();
        this.checkPipeline(pipe, context, first.pos);
        return pipe;
      }
      switch (token.type) {
        case 'bool':
        case 'charConstant':
        case 'complex':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  private command(): Command {
    const first = this.peekNonSpace();
    const args: Arg[] = [];
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) args.push(operand);
      const token = this.next();
      if (token.type === 'space') continue;
      if (token.type === 'rightDelim' || token.type === 'rightParen') this.backup();
      else if (token.type !== 'pipe') this.unexpected(token, 'operand');
      break;
    }
    const last = args[args.length - 1];
    if (!last) return this.fail('empty command', first.pos);
    return { pos: first.pos, text: this.src.slice(first.pos, last.pos + last.text.length), args };
  }

  /** A term followed by any number of `.Field`s. */
  private operand(): Arg | undefined {
    const node = this.term();
    if (!node || this.peek().type !== 'field') return node;
    const idents: string[] = [];
    let end = 0;
    while (this.peek().type === 'field') {
      const field = this.next();
      idents.push(field.value.slice(1));
      end = field.end;
    }
    const text = this.src.slice(node.pos, end);
    switch (node.type) {
      case 'field':
      case 'variable':
        return { ...node, text, idents: [...node.idents, ...idents] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return this.fail(`unexpected . after term ${goQuote(node.text)}`, node.pos);
      default:
        return { type: 'chain', pos: node.pos, text, node, idents };
    }
  }

  private term(): Arg | undefined {
    const token = this.nextNonSpace();
    const { pos, value: text } = token;
    switch (token.type) {
      case 'identifier':
        if (this.subset.functions?.includes(text)) this.fail(`unsupported function "${text}"`, pos);
        if (!this.funcs.has(text)) this.fail(`function "${text}" not defined`, pos);
        return { type: 'identifier', pos, text, name: text };
      case 'dot':
        return { type: 'dot', pos, text };
      case 'nil':
        return { type: 'nil', pos, text };
      case 'variable':
        this.checkDefined(token);
        return { type: 'variable', pos, text, name: text, idents: [] };
      case 'field':
        return { type: 'field', pos, text, idents: [text.slice(1)] };
      case 'bool':
        return { type: 'bool', pos, text, value: text === 'true' };
      case 'number':
        return { type: 'number', pos, text, value: this.parseInteger(token) };
      case 'charConstant':
        return this.fail(`unsupported character constant ${text}: write the number or a string`, pos);
      case 'complex':
        return this.fail(`unsupported complex number ${text}`, pos);
      case 'leftParen': {
        const pipe = this.pipeline('parenthesized pipeline', 'rightParen');
        return { type: 'pipe', pos, text: this.src.slice(pos, this.tokens[this.i - 1]!.end), pipe };
      }
      case 'string':
        return { type: 'string', pos, text, value: unquoteString(text, (reason) => this.fail(reason, pos)) };
      case 'rawString':
        // strconv.Unquote drops carriage returns from raw strings.
        return { type: 'string', pos, text, value: text.slice(1, -1).replace(/\r/g, '') };
      default:
        if (token.type !== 'eof') this.backup();
        return undefined;
    }
  }

  private checkDefined(token: Token): void {
    if (!this.vars.includes(token.value)) this.fail(`undefined variable "${token.value}"`, token.pos);
  }

  /** Integers as Go writes them (decimal, 0x, 0o, 0b, legacy 0777 octal, `_` separators); floats are left out of this port. */
  private parseInteger(token: Token): number {
    const text = token.value;
    const fail = (reason: string) => this.fail(reason, token.pos);
    const sign = text[0] === '-' ? -1 : 1;
    const unsigned = text.replace(/^[+-]/, '');
    const prefix = /^0[xXoObB]/.test(unsigned) ? unsigned.slice(0, 2).toLowerCase() : '';
    const body = unsigned.slice(prefix.length);
    if (/[.i]/.test(unsigned) || (prefix !== '0x' && /[eE]/.test(body)) || /[pP]/.test(body)) {
      return fail(`unsupported number ${text}: only integers are supported`);
    }
    // A leading 0 means octal, so Go rejects 08.
    const legacyOctal = !prefix && /^0[0-9_]+$/.test(body);
    const radix = prefix === '0x' ? 16 : prefix === '0o' || legacyOctal ? 8 : prefix === '0b' ? 2 : 10;
    const digitsPattern = { 16: '[0-9a-fA-F]', 8: '[0-7]', 2: '[01]', 10: '[0-9]' }[radix];
    // Go allows `_` only between digits, or right after a base prefix.
    const shape = new RegExp(`^${prefix ? '_?' : ''}${digitsPattern}+(_${digitsPattern}+)*$`);
    if (!shape.test(body)) return fail(`bad number syntax: ${goQuote(text)}`);
    const value = sign * parseInt(body.replace(/_/g, ''), radix);
    if (!Number.isSafeInteger(value)) return fail(`number ${text} is too large`);
    return value;
  }

  /**
   * Go's checkPipeline, plus the checks Go leaves to execution that the text alone decides:
   * argument counts, arguments given to what is not a function, nil where it cannot go.
   */
  private checkPipeline(pipe: Pipe, context: string, pos: number): void {
    if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`, pos);
    pipe.cmds.forEach((cmd, index) => {
      const [first, ...rest] = cmd.args;
      const hasFinal = index > 0; // The previous command's value is passed as the last argument.
      if (index > 0 && ['bool', 'dot', 'nil', 'number', 'string'].includes(first!.type)) {
        this.fail(`non executable command in pipeline stage ${index + 1}`, first!.pos);
      }
      if (first!.type === 'identifier') {
        this.checkCall(first!.name, rest, hasFinal, first!.pos);
      } else if (first!.type === 'nil') {
        this.fail('nil is not a command', first!.pos);
      } else if (rest.length > 0 || hasFinal) {
        const fields = first!.type === 'field' || first!.type === 'variable' || first!.type === 'chain' ? first!.idents : [];
        const field = fields[fields.length - 1];
        // Only the data knows whether the last field of a chain is a method, unless it has none.
        if (field === undefined) this.fail(`can't give argument to non-function ${first!.text}`, first!.pos);
        if (this.subset.methods === false) this.fail(`${field} has arguments but cannot be invoked as function`, first!.pos);
      }
      if (first!.type === 'chain' && first!.node.type === 'identifier') this.checkCall(first!.node.name, [], false, first!.pos);
    });
  }

  private checkCall(name: string, args: Arg[], hasFinal: boolean, pos: number): void {
    const spec = this.funcs.get(name)!;
    const count = args.length + (hasFinal ? 1 : 0);
    if (count < spec.min || (spec.max !== undefined && count > spec.max)) {
      const want = spec.max === spec.min ? `${spec.min}` : `at least ${spec.min}`;
      this.fail(`wrong number of args for ${name}: want ${want} got ${count}`, pos);
    }
    // An identifier used as an operand (`print len`) is a call without arguments.
    for (const arg of args) {
      if (arg.type === 'identifier') this.checkCall(arg.name, [], false, arg.pos);
      if (arg.type === 'chain' && arg.node.type === 'identifier') this.checkCall(arg.node.name, [], false, arg.node.pos);
    }
    // Builtins take reflect.Value or any, which accept nil (exec.go canBeNil); printf's format is a string.
    const format = args[0];
    if (isBuiltinPrintf(spec) && format) {
      if (format.type === 'nil') this.fail('cannot assign nil to string', format.pos);
      if (format.type === 'number' || format.type === 'bool') this.fail(`expected string; found ${format.text}`, format.pos);
      if (format.type === 'string') {
        try {
          sprintf(format.value, []);
        } catch (error) {
          if (error instanceof CallError) this.fail(error.message, format.pos);
          throw error;
        }
      }
    }
  }
}

function describeToken(token: Token): string {
  if (token.type === 'eof') return 'EOF';
  if (token.type === 'keyword' || token.type === 'nil' || token.type === 'dot') return `<${token.value}>`;
  const value = [...token.value];
  return value.length > 10 ? `${goQuote(value.slice(0, 10).join(''))}...` : goQuote(token.value);
}

/** strconv.Unquote for a double-quoted Go string literal. */
function unquoteString(literal: string, fail: (reason: string) => never): string {
  const body = literal.slice(1, -1);
  const bytes: number[] = [];
  const invalid = () => fail(`invalid syntax in string ${literal}`);
  const pushRune = (cp: number) => {
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) invalid();
    bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
  };
  const SIMPLE: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34 };
  for (let i = 0; i < body.length; ) {
    const ch = charAt(body, i)!;
    if (ch !== '\\') {
      pushRune(ch.codePointAt(0)!);
      i += ch.length;
      continue;
    }
    const kind = body[i + 1] ?? '';
    if (Object.hasOwn(SIMPLE, kind)) {
      bytes.push(SIMPLE[kind]!);
      i += 2;
    } else if (kind === 'x' || kind === 'u' || kind === 'U') {
      const size = { x: 2, u: 4, U: 8 }[kind];
      const hex = body.slice(i + 2, i + 2 + size);
      if (!new RegExp(`^[0-9a-fA-F]{${size}}$`).test(hex)) invalid();
      if (kind === 'x') bytes.push(parseInt(hex, 16));
      else pushRune(parseInt(hex, 16));
      i += 2 + size;
    } else if (/[0-7]/.test(kind)) {
      const octal = body.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(octal) || parseInt(octal, 8) > 255) invalid();
      bytes.push(parseInt(octal, 8));
      i += 4;
    } else {
      invalid();
    }
  }
  try {
    // Go strings are bytes; JavaScript strings cannot hold a byte sequence that is not UTF-8.
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return fail(`unsupported string ${literal}: its bytes are not UTF-8`);
  }
}
