import { BowlineError } from '@bowline/observability';

/*
 * Go's text/template, for the subset Prow configs use (`job_url_template`, `report_template`,
 * `url_template`). Three parts, as in Go: a lexer (text/template/parse/lex.go), a parser to an AST
 * (parse/parse.go) and an evaluator (exec.go, funcs.go, and the part of fmt that printing needs).
 *
 * Anything Go would accept but this subset does not (`define`, `template`, `block`, `break`,
 * `continue`, `html`, `js`, `call`, float and character literals, printf verbs other than
 * %v %s %d %q %t %x %X %c) is a TemplateError at parse time, so a config using it fails to load
 * instead of rendering something else later. Mistakes Go itself only finds while executing
 * (`{{.Spec.Jbo}}`) are found by executing against a sample ProwJob at load time. A few mistakes
 * Go reports during execution but that are certain from the text alone (wrong argument counts,
 * `nil` as a command, arguments given to a field) are reported at parse time here.
 *
 * The data model maps JavaScript values onto Go's:
 * - plain objects are structs: `.Name` reads the own property `Name`, and a missing one is an error
 *   ("can't evaluate field Name"). Printed as `{v1 v2}` in property order. For truthiness, `len`,
 *   `index` and `range` they act as map[string]interface{} (an empty object is false).
 * - a `Map` is a Go map: a missing key read as a field gives Go's invalid value, printed
 *   `<no value>`; `index` of a missing key gives the zero value of the map's value type (see GoMap).
 * - `null` and `undefined` are nil: reading a field of them is Go's "nil pointer evaluating" error.
 *   The result of an action that is nil prints `<no value>` (Go prints `<nil>` for a typed nil
 *   pointer, `<no value>` for a nil interface; JSON data cannot tell them apart).
 * - integral numbers are Go ints, other numbers float64s; arrays are slices.
 */

/** A template that does not parse, uses something outside the supported subset, or fails to execute. */
export class TemplateError extends BowlineError {
  /** The problem alone, without the template name and position. */
  readonly reason: string;
  /** Position within the template text (UTF-16 code units from the start; line and col from 1). */
  readonly offset?: number;
  readonly line?: number;
  readonly col?: number;

  constructor(reason: string, options: { source?: string; name?: string; offset?: number; executing?: string; cause?: unknown } = {}) {
    const { source, name, offset, executing } = options;
    const at = source !== undefined && offset !== undefined ? lineAndColumn(source, offset) : undefined;
    // Go's shape: `template: NAME:LINE:COL: executing "NAME" at <.Spec.Jbo>: can't evaluate field Jbo ...`
    const where = [name, at && `${at.line}:${at.col}`].filter(Boolean).join(':');
    const doing = executing === undefined ? '' : `executing at <${executing}>: `;
    super(`template: ${where ? `${where}: ` : ''}${doing}${reason}`, {
      cause: options.cause,
      context: { template: name, offset, line: at?.line, col: at?.col },
    });
    this.reason = reason;
    this.offset = offset;
    this.line = at?.line;
    this.col = at?.col;
  }
}

function lineAndColumn(source: string, offset: number): { line: number; col: number } {
  const before = source.slice(0, offset);
  const lastNewline = before.lastIndexOf('\n');
  return { line: before.split('\n').length, col: offset - lastNewline };
}

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

/** A parsed Go text/template. */
export class GoTemplate {
  private constructor(
    readonly source: string,
    readonly name: string | undefined,
    private readonly root: Node[],
  ) {}

  /**
   * Parses `text`; `name` (such as `job_url_template`) only labels error messages.
   * Throws TemplateError on syntax errors and on constructs outside the supported subset.
   */
  static parse(text: string, name?: string): GoTemplate {
    const fail = (reason: string, offset: number): never => {
      throw new TemplateError(reason, { source: text, name, offset });
    };
    const tokens = new Lexer(text, fail).run();
    return new GoTemplate(text, name, new Parser(tokens, text, fail).parseTemplate());
  }

  /** Renders the template over `data` (Go's `$` and initial dot). Throws TemplateError as Go's Execute errors. */
  execute(data: unknown): string {
    return new Executor(this.source, this.name, data).run(this.root);
  }
}

// ───────────────────────────────────────── Lexer ─────────────────────────────────────────

type TokenType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'field'
  | 'identifier'
  | 'keyword'
  | 'nil'
  | 'bool'
  | 'dot'
  | 'variable'
  | 'string'
  | 'rawString'
  | 'number'
  | 'charConstant'
  | 'complex'
  | 'char'
  | 'leftParen'
  | 'rightParen'
  | 'pipe'
  | 'declare'
  | 'assign'
  | 'eof';

interface Token {
  type: TokenType;
  value: string;
  pos: number;
  end: number;
}

type Fail = (reason: string, offset: number) => never;

// `nil`, `true` and `false` are lexed apart from these; the rest are actions Go knows.
const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

/** Go's lexer spaces (lex.go isSpace); they are also what trim markers remove. */
function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

function isAlphaNumeric(ch: string | undefined): boolean {
  return ch !== undefined && (ch === '_' || /^[\p{L}\p{Nd}]$/u.test(ch));
}

/** The character (a whole code point) at `i`. */
function charAt(src: string, i: number): string | undefined {
  const cp = src.codePointAt(i);
  return cp === undefined ? undefined : String.fromCodePoint(cp);
}

/** `{{- ` trims the text before the action; Go needs a space after the dash so `{{-3}}` stays a number. */
function hasLeftTrimMarker(src: string, i: number): boolean {
  return src[i] === '-' && isSpace(src[i + 1]);
}

class Lexer {
  private readonly tokens: Token[] = [];
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly fail: Fail,
  ) {}

  run(): Token[] {
    const { src } = this;
    while (this.pos < src.length) {
      const open = src.indexOf('{{', this.pos);
      if (open < 0) {
        this.emit('text', this.pos, src.length);
        this.pos = src.length;
        break;
      }
      const trimLeft = hasLeftTrimMarker(src, open + 2);
      let textEnd = open;
      if (trimLeft) while (textEnd > this.pos && isSpace(src[textEnd - 1])) textEnd--;
      if (textEnd > this.pos) this.emit('text', this.pos, textEnd);
      const inside = open + 2 + (trimLeft ? 2 : 0);
      // A comment must start right after the delimiter (and its trim marker), as in Go.
      this.pos = src.startsWith('/*', inside) ? this.lexComment(open, inside) : this.lexAction(open, inside);
    }
    this.emit('eof', src.length, src.length);
    return this.tokens;
  }

  private emit(type: TokenType, pos: number, end: number): void {
    this.tokens.push({ type, value: this.src.slice(pos, end), pos, end });
  }

  /** ` -}}` (any Go space before the dash) or `}}`. */
  private rightDelimAt(i: number): { length: number; trim: boolean } | undefined {
    if (isSpace(this.src[i]) && this.src[i + 1] === '-' && this.src.startsWith('}}', i + 2)) return { length: 4, trim: true };
    if (this.src.startsWith('}}', i)) return { length: 2, trim: false };
    return undefined;
  }

  private skipSpaces(i: number): number {
    while (isSpace(this.src[i])) i++;
    return i;
  }

  private lexComment(open: number, inside: number): number {
    const close = this.src.indexOf('*/', inside + 2);
    if (close < 0) this.fail('unclosed comment', open);
    const delim = this.rightDelimAt(close + 2);
    if (!delim) return this.fail('comment ends before closing delimiter', open);
    const after = close + 2 + delim.length;
    return delim.trim ? this.skipSpaces(after) : after;
  }

  /** Scans one action from after its `{{`; returns where the text after its `}}` starts. */
  private lexAction(open: number, inside: number): number {
    const { src, fail } = this;
    this.emit('leftDelim', open, inside);
    let p = inside;
    let parenDepth = 0;
    for (;;) {
      const delim = this.rightDelimAt(p);
      if (delim) {
        if (parenDepth > 0) fail('unclosed left paren', p);
        this.emit('rightDelim', p, p + delim.length);
        p += delim.length;
        return delim.trim ? this.skipSpaces(p) : p;
      }
      const ch = charAt(src, p);
      if (ch === undefined) return fail('unclosed action', open);
      const start = p;
      if (isSpace(ch)) {
        // Leave the space of a ` -}}` to the delimiter.
        while (isSpace(src[p]) && !(src[p + 1] === '-' && src.startsWith('}}', p + 2))) p++;
        this.emit('space', start, p);
        continue;
      }
      switch (ch) {
        case ':':
          if (src[p + 1] !== '=') fail('expected :=', p);
          this.emit('declare', p, (p += 2));
          continue;
        case '=':
          this.emit('assign', p, ++p);
          continue;
        case '|':
          this.emit('pipe', p, ++p);
          continue;
        case '(':
          parenDepth++;
          this.emit('leftParen', p, ++p);
          continue;
        case ')':
          if (--parenDepth < 0) fail('unexpected right paren', p);
          this.emit('rightParen', p, ++p);
          continue;
        case '"':
          p = this.scanQuoted(p, '"', 'unterminated quoted string');
          this.emit('string', start, p);
          continue;
        case "'":
          p = this.scanQuoted(p, "'", 'unterminated character constant');
          this.emit('charConstant', start, p);
          continue;
        case '`': {
          const close = src.indexOf('`', p + 1);
          if (close < 0) fail('unterminated raw quoted string', p);
          p = close + 1;
          this.emit('rawString', start, p);
          continue;
        }
        case '$':
          p = this.scanWord(p + 1, start);
          this.emit('variable', start, p);
          continue;
        case '.':
          if (!/[0-9]/.test(src[p + 1] ?? '')) {
            if (this.atTerminator(p + 1)) {
              this.emit('dot', p, ++p);
            } else {
              p = this.scanWord(p + 1, start);
              this.emit('field', start, p);
            }
            continue;
          }
          p = this.lexNumber(p);
          continue;
      }
      if (ch === '+' || ch === '-' || /[0-9]/.test(ch)) {
        p = this.lexNumber(p);
      } else if (isAlphaNumeric(ch)) {
        p = this.scanWord(p, start);
        const word = src.slice(start, p);
        const type: TokenType = KEYWORDS.has(word) ? 'keyword' : word === 'nil' ? 'nil' : word === 'true' || word === 'false' ? 'bool' : 'identifier';
        this.emit(type, start, p);
      } else if (ch.charCodeAt(0) <= 0x7f && isPrint(ch.charCodeAt(0))) {
        this.emit('char', p, ++p); // Go's grab bag, such as the `,` of `range $i, $e :=`.
      } else {
        fail(`unrecognized character in action: ${formatRune(ch.codePointAt(0)!)}`, p);
      }
    }
  }

  /** Go's atTerminator: what may follow an identifier, so `.X.Y` splits in two and `$x+2` is an error. */
  private atTerminator(i: number): boolean {
    const ch = this.src[i];
    return ch === undefined || isSpace(ch) || '.,|:)(}'.includes(ch);
  }

  private scanWord(p: number, start: number): number {
    for (let ch = charAt(this.src, p); isAlphaNumeric(ch); ch = charAt(this.src, p)) p += ch!.length;
    if (!this.atTerminator(p)) this.fail(`bad character ${formatRune(this.src.codePointAt(p)!)}`, start);
    return p;
  }

  private scanQuoted(p: number, quote: string, unterminated: string): number {
    const start = p;
    for (p++; ; p++) {
      const ch = this.src[p];
      if (ch === '\\') {
        const next = this.src[p + 1];
        if (next === undefined || next === '\n') this.fail(unterminated, start);
        p++;
      } else if (ch === undefined || ch === '\n') {
        this.fail(unterminated, start);
      } else if (ch === quote) {
        return p + 1;
      }
    }
  }

  private lexNumber(start: number): number {
    const first = this.scanNumber(start);
    if (!first.ok) this.fail(`bad number syntax: ${goQuote(this.src.slice(start, first.end))}`, start);
    const sign = this.src[first.end];
    if (sign === '+' || sign === '-') {
      // Complex: 1+2i. No spaces, must end in 'i'.
      const second = this.scanNumber(first.end);
      if (!second.ok || this.src[second.end - 1] !== 'i') this.fail(`bad number syntax: ${goQuote(this.src.slice(start, second.end))}`, start);
      this.emit('complex', start, second.end);
      return second.end;
    }
    this.emit('number', start, first.end);
    return first.end;
  }

  /** Go's scanNumber: deliberately loose; the parser rejects what it lets through. */
  private scanNumber(p: number): { end: number; ok: boolean } {
    const { src } = this;
    const run = (valid: string) => {
      while (src[p] !== undefined && valid.includes(src[p]!)) p++;
    };
    if (src[p] === '+' || src[p] === '-') p++;
    let digits = '0123456789_';
    if (src[p] === '0' && /[xXoObB]/.test(src[p + 1] ?? '')) {
      digits = /[xX]/.test(src[p + 1]!) ? '0123456789abcdefABCDEF_' : /[oO]/.test(src[p + 1]!) ? '01234567_' : '01_';
      p += 2;
    }
    run(digits);
    if (src[p] === '.') {
      p++;
      run(digits);
    }
    if (digits.length === 11 && (src[p] === 'e' || src[p] === 'E')) {
      p++;
      if (src[p] === '+' || src[p] === '-') p++;
      run('0123456789_');
    }
    if (digits.length === 23 && (src[p] === 'p' || src[p] === 'P')) {
      p++;
      if (src[p] === '+' || src[p] === '-') p++;
      run('0123456789_');
    }
    if (src[p] === 'i') p++;
    const next = charAt(src, p);
    if (isAlphaNumeric(next)) return { end: p + next!.length, ok: false };
    return { end: p, ok: true };
  }
}

// ───────────────────────────────────────── Parser ─────────────────────────────────────────

interface Pipe {
  pos: number;
  text: string;
  decl: { name: string; pos: number }[];
  isAssign: boolean;
  cmds: Command[];
}

interface Command {
  pos: number;
  text: string;
  args: Arg[];
}

/** An operand; `text` is its source, for error messages (Go's node String()). */
type Arg = { pos: number; text: string } & (
  | { type: 'field'; idents: string[] }
  | { type: 'variable'; name: string; idents: string[] }
  | { type: 'chain'; node: Arg; idents: string[] }
  | { type: 'identifier'; name: string }
  | { type: 'pipe'; pipe: Pipe }
  | { type: 'dot' }
  | { type: 'nil' }
  | { type: 'bool'; value: boolean }
  | { type: 'number'; value: number }
  | { type: 'string'; value: string }
);

interface Control {
  pos: number;
  pipe: Pipe;
  list: Node[];
  elseList?: Node[];
}

type Node =
  | { type: 'text'; text: string }
  | { type: 'action'; pos: number; pipe: Pipe }
  | ({ type: 'if' } & Control)
  | ({ type: 'with' } & Control)
  | ({ type: 'range' } & Control);

/** `{{end}}` and `{{else}}` end an item list; the control structure that owns the list consumes them. */
type Marker = { type: 'end' | 'else'; pos: number };

interface FunctionSpec {
  min: number;
  max?: number;
}

const FUNCTIONS: Record<string, FunctionSpec> = {
  and: { min: 1 },
  or: { min: 1 },
  not: { min: 1, max: 1 },
  len: { min: 1, max: 1 },
  index: { min: 1 },
  slice: { min: 1 },
  eq: { min: 1 },
  ne: { min: 2, max: 2 },
  lt: { min: 2, max: 2 },
  le: { min: 2, max: 2 },
  gt: { min: 2, max: 2 },
  ge: { min: 2, max: 2 },
  print: { min: 0 },
  println: { min: 0 },
  printf: { min: 1 },
  urlquery: { min: 0 },
};

/** Go builtins left out: html and js escaping have no use in a URL or a Markdown comment, and call needs function values. */
const UNSUPPORTED_FUNCTIONS = new Set(['html', 'js', 'call']);

class Parser {
  private i = 0;
  /** Variables in scope while parsing, as Go's Tree.vars: a use of any other is an error. */
  private readonly vars: string[] = ['$'];

  constructor(
    private readonly tokens: Token[],
    private readonly src: string,
    private readonly fail: Fail,
  ) {}

  parseTemplate(): Node[] {
    const root: Node[] = [];
    while (this.peek().type !== 'eof') {
      const item = this.textOrAction();
      if (item.type === 'end' || item.type === 'else') this.fail(`unexpected {{${item.type}}}`, item.pos);
      root.push(item as Node);
    }
    return root;
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
        default:
          // define, template, block, break, continue
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
        if (UNSUPPORTED_FUNCTIONS.has(text)) this.fail(`unsupported function "${text}"`, pos);
        if (!Object.hasOwn(FUNCTIONS, text)) this.fail(`function "${text}" not defined`, pos);
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

  /** Integers as Go writes them (decimal, 0x, 0o, 0b, legacy 0777 octal, `_` separators); floats are outside the subset. */
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
        this.fail(
          field === undefined
            ? `can't give argument to non-function ${first!.text}`
            : `${field} has arguments but cannot be invoked as function`,
          first!.pos,
        );
      }
      if (first!.type === 'chain' && first!.node.type === 'identifier') this.checkCall(first!.node.name, [], false, first!.pos);
    });
  }

  private checkCall(name: string, args: Arg[], hasFinal: boolean, pos: number): void {
    const spec = FUNCTIONS[name]!;
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
    if (name === 'printf' && format) {
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

// ───────────────────────────────────────── Evaluator ─────────────────────────────────────────

/** Go's invalid reflect.Value: what a missing map key gives. Prints as `<no value>`. */
const NO_VALUE: unique symbol = Symbol('no value');
/** Go's missingVal: no previous command in the pipeline, so no final argument. */
const MISSING: unique symbol = Symbol('missing');

/** An error from a builtin function; the evaluator adds Go's `error calling NAME:` and the position. */
class CallError extends Error {}

type Kind = 'nil' | 'bool' | 'int' | 'float' | 'string' | 'slice' | 'map' | 'struct' | 'func' | 'other';

function kindOf(value: unknown): Kind {
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
      return Array.isArray(value) ? 'slice' : value instanceof Map ? 'map' : 'struct';
    default:
      return 'other';
  }
}

/** The Go type a value stands for, in messages. */
function typeName(value: unknown): string {
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

function isNil(value: unknown): boolean {
  return kindOf(value) === 'nil';
}

/** Go's isTrue: the zero value of its type is false. */
function isTrue(value: unknown): boolean {
  switch (kindOf(value)) {
    case 'nil':
      return false;
    case 'bool':
      return value as boolean;
    case 'int':
    case 'float':
      return value !== 0;
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

interface Variable {
  name: string;
  value: unknown;
}

class Executor {
  private readonly vars: Variable[];
  private out = '';

  constructor(
    private readonly source: string,
    private readonly name: string | undefined,
    private readonly data: unknown,
  ) {
    this.vars = [{ name: '$', value: data }];
  }

  run(root: Node[]): string {
    this.walkList(this.data, root);
    return this.out;
  }

  private fail(reason: string, at: { pos: number; text: string }): never {
    throw new TemplateError(reason, { source: this.source, name: this.name, offset: at.pos, executing: at.text });
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

  /** Arguments to fields and non-functions are rejected while parsing, so only functions see `args` and `final`. */
  private evalCommand(dot: unknown, cmd: Command, final: unknown): unknown {
    const first = cmd.args[0]!;
    if (first.type === 'identifier') return this.call(dot, first.name, cmd.args.slice(1), final, cmd);
    return this.evalArg(dot, first);
  }

  private evalArg(dot: unknown, arg: Arg): unknown {
    switch (arg.type) {
      case 'field':
        return this.evalFieldChain(dot, '', arg.idents, arg);
      case 'variable': {
        const value = this.varValue(arg.name, arg);
        return arg.idents.length > 0 ? this.evalFieldChain(value, arg.name, arg.idents, arg) : value;
      }
      case 'chain':
        return this.evalFieldChain(this.evalArg(dot, arg.node), arg.node.text, arg.idents, arg);
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

  private evalFieldChain(receiver: unknown, path: string, idents: string[], at: Arg): unknown {
    for (const ident of idents) {
      receiver = this.evalField(receiver, ident, path, at);
      path += `.${ident}`;
    }
    return receiver;
  }

  private evalField(receiver: unknown, field: string, path: string, at: Arg): unknown {
    if (receiver === NO_VALUE) return NO_VALUE; // Go: a field of an invalid value is invalid, not an error.
    if (receiver === null || receiver === undefined) return this.fail(`nil pointer evaluating ${path}.${field}`, at);
    if (receiver instanceof Map) return receiver.has(field) ? receiver.get(field) : NO_VALUE;
    if (kindOf(receiver) === 'struct') {
      if (Object.hasOwn(receiver as object, field)) return (receiver as Record<string, unknown>)[field];
      const names = Object.getOwnPropertyNames(receiver);
      const shown = names.length > 30 ? [...names.slice(0, 30), '...'] : names;
      return this.fail(`can't evaluate field ${field} in ${path || '.'} (its fields are ${shown.join(', ') || 'none'})`, at);
    }
    return this.fail(`can't evaluate field ${field} in type ${typeName(receiver)}`, at);
  }

  private call(dot: unknown, name: string, args: Arg[], final: unknown, at: { pos: number; text: string }): unknown {
    if (name === 'and' || name === 'or') {
      // Go 1.18+: evaluate left to right and stop at the argument that decides; return it, not a bool.
      let value: unknown;
      for (const arg of args) {
        value = this.evalArg(dot, arg);
        if (isTrue(value) === (name === 'or')) return value;
      }
      return final === MISSING ? value : final;
    }
    const values = args.map((arg) => this.evalArg(dot, arg));
    if (final !== MISSING) values.push(final);
    if (name === 'printf' && typeof values[0] !== 'string') {
      return this.fail(`wrong type for value; expected string; got ${typeName(values[0])}`, at);
    }
    try {
      return BUILTINS[name]!(values);
    } catch (error) {
      if (error instanceof CallError) return this.fail(`error calling ${name}: ${error.message}`, at);
      throw error;
    }
  }

  /** What an action prints: fmt's %v, with Go's `<no value>` for nil. */
  private printable(value: unknown, at: Pipe): string {
    if (isNil(value)) return '<no value>';
    try {
      return formatValue(value, 'v', PLAIN);
    } catch (error) {
      if (error instanceof CallError) return this.fail(error.message, at);
      throw error;
    }
  }
}

// ───────────────────────────────────────── Builtins (funcs.go) ─────────────────────────────────────────

const BUILTINS: Record<string, (args: unknown[]) => unknown> = {
  eq: ([first, ...rest]) => eq(first, rest),
  ne: ([a, b]) => !eq(a, [b]),
  lt: ([a, b]) => lessThan(a, b),
  le: ([a, b]) => lessThan(a, b) || eq(a, [b]),
  gt: ([a, b]) => !(lessThan(a, b) || eq(a, [b])),
  ge: ([a, b]) => !lessThan(a, b),
  not: ([value]) => !isTrue(value),
  len: ([value]) => length(value),
  index: ([item, ...indexes]) => index(item, indexes),
  slice: ([item, ...indexes]) => slice(item, indexes),
  print: (args) => sprint(args),
  println: (args) => sprintln(args),
  printf: ([format, ...args]) => sprintf(format as string, args),
  urlquery: (args) => queryEscape(evalArgs(args)),
};

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
      truth = first === other;
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
  return (a as number) < (b as number);
}

/** Go compares strings byte by byte, which for UTF-8 is code point order (not JavaScript's UTF-16 order). */
function compareStrings(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
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
  if (map.has(key)) return map.get(key);
  if (map instanceof GoMap) return map.zero;
  const first = map.values().next();
  if (first.done) return undefined;
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

function sortedEntries(map: Map<unknown, unknown>): [unknown, unknown][] {
  return [...map.entries()].sort(([a], [b]) => compareKeys(a, b));
}

/** internal/fmtsort order: numbers by value, strings by bytes. */
function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return compareStrings(typeof a, typeof b);
}

// ───────────────────────────────────────── fmt ─────────────────────────────────────────

interface Flags {
  minus: boolean;
  plus: boolean;
  /** %+v: field names in structs. */
  plusV: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}

const PLAIN: Flags = { minus: false, plus: false, plusV: false, sharp: false, space: false, zero: false };
const VERBS = new Set(['v', 's', 'd', 'q', 't', 'x', 'X', 'c']);
/** Nested values beyond this depth are cyclic in practice; Go prints pointers there instead of following them. */
const MAX_DEPTH = 100;

/** fmt.Sprint: a space between operands when neither side is a string. */
function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((arg, i) => {
    if (i > 0 && typeof arg !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatArg(arg, 'v', PLAIN);
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands, and a newline. */
function sprintln(args: unknown[]): string {
  return `${args.map((arg) => formatArg(arg, 'v', PLAIN)).join(' ')}\n`;
}

/** fmt.Sprintf for the verbs in VERBS, flags `-+# 0`, width and precision. */
function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argNum = 0;
  let i = 0;
  while (i < format.length) {
    const percent = format.indexOf('%', i);
    if (percent < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, percent);
    i = percent + 1;
    const flags: Flags = { ...PLAIN };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === '#') flags.sharp = true;
      else if (c === '0') flags.zero = !flags.minus; // Only allow zero padding to the left.
      else if (c === '+') flags.plus = true;
      else if (c === '-') [flags.minus, flags.zero] = [true, false];
      else if (c === ' ') flags.space = true;
      else break;
    }
    const number = () => {
      const digits = /^[0-9]+/.exec(format.slice(i))?.[0];
      if (digits === undefined) return undefined;
      i += digits.length;
      return Number(digits);
    };
    if (format[i] === '*' || format[i] === '[') throw new CallError(`printf ${format[i] === '*' ? 'width from an argument (*)' : 'argument index ([n])'} is not supported`);
    flags.width = number();
    if (format[i] === '.') {
      i++;
      if (format[i] === '*' || format[i] === '[') throw new CallError('printf precision from an argument is not supported');
      flags.prec = number() ?? 0;
    }
    const verb = charAt(format, i);
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    i += verb.length;
    if (verb === '%') {
      out += '%'; // Percent takes no operand and ignores width and precision.
      continue;
    }
    if (!VERBS.has(verb)) throw new CallError(`printf verb %${verb} is not supported`);
    if (verb === 'v') {
      if (flags.sharp) throw new CallError('printf verb %#v is not supported');
      [flags.plusV, flags.plus] = [flags.plus, false];
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatArg(args[argNum++], verb, flags);
  }
  if (argNum < args.length) {
    const extra = args.slice(argNum).map((arg) => (isNil(arg) ? '<nil>' : `${typeName(arg)}=${formatArg(arg, 'v', PLAIN)}`));
    out += `%!(EXTRA ${extra.join(', ')})`;
  }
  return out;
}

/** print.go printArg for a top-level operand: a nil operand prints `<nil>` only under %v. */
function formatArg(value: unknown, verb: string, flags: Flags): string {
  if (isNil(value)) return verb === 'v' ? pad('<nil>', flags) : `%!${verb}(<nil>)`;
  return formatValue(value, verb, flags);
}

/** print.go printValue: composites are printed element by element with the same verb. */
function formatValue(value: unknown, verb: string, flags: Flags, depth = 0): string {
  if (depth > MAX_DEPTH) throw new CallError('value is nested too deeply to print (is it cyclic?)');
  const nested = (v: unknown) => (isNil(v) ? pad('<nil>', flags) : formatValue(v, verb, flags, depth + 1));
  switch (kindOf(value)) {
    case 'nil':
      return pad('<nil>', flags);
    case 'bool':
      return verb === 'v' || verb === 't' ? pad(String(value), flags) : badVerb(value, verb, flags);
    case 'int':
      return formatInteger(value as number, verb, flags);
    case 'float':
      if (verb === 'v') return formatFloat(value as number, flags);
      if (verb === 'x' || verb === 'X') throw new CallError(`printf %${verb} of a float is not supported`);
      return badVerb(value, verb, flags);
    case 'string':
      return formatString(value as string, verb, flags);
    case 'slice':
      return `[${(value as unknown[]).map(nested).join(' ')}]`;
    case 'map': {
      const entries = sortedEntries(value as Map<unknown, unknown>);
      return `map[${entries.map(([k, v]) => `${nested(k)}:${nested(v)}`).join(' ')}]`;
    }
    case 'struct':
      // Go prints a struct's fields in declaration order, which for our objects is property order.
      return `{${Object.entries(value as object)
        .map(([k, v]) => (verb === 'v' && flags.plusV ? `${k}:` : '') + nested(v))
        .join(' ')}}`;
    default:
      throw new CallError(`can't print a value of type ${typeName(value)}`);
  }
}

/** print.go badVerb: `%!d(string=hello)`. */
function badVerb(value: unknown, verb: string, flags: Flags): string {
  return `%!${verb}(${typeName(value)}=${formatValue(value, 'v', flags)})`;
}

/** format.go pad: to the width in characters, spaces (or zeros) on the left, spaces on the right with `-`. */
function pad(text: string, flags: Flags): string {
  const missing = (flags.width ?? 0) - [...text].length;
  if (missing <= 0) return text;
  return flags.minus ? text + ' '.repeat(missing) : (flags.zero ? '0' : ' ').repeat(missing) + text;
}

function formatInteger(n: number, verb: string, flags: Flags): string {
  switch (verb) {
    case 'v':
    case 'd':
      return fmtInteger(n, 10, false, flags);
    case 'x':
    case 'X':
      return fmtInteger(n, 16, verb === 'X', flags);
    case 'c':
      return pad(runeString(n), flags);
    case 'q':
      return pad(quoteRune(n, flags.plus), flags);
    default:
      return badVerb(n, verb, flags);
  }
}

/** format.go fmtInteger: precision or zero flag give leading zeros, then 0x, then the sign. */
function fmtInteger(n: number, base: number, upper: boolean, flags: Flags): string {
  const negative = n < 0;
  let digits = (Math.abs(n) > Number.MAX_SAFE_INTEGER ? BigInt(Math.abs(n)) : Math.abs(n)).toString(base);
  if (upper) digits = digits.toUpperCase();
  let prec = 0;
  if (flags.prec !== undefined) {
    prec = flags.prec;
    // Precision 0 and value 0 print nothing but padding.
    if (prec === 0 && n === 0) return ' '.repeat(flags.width ?? 0);
  } else if (flags.zero && !flags.minus && flags.width !== undefined) {
    prec = flags.width - (negative || flags.plus || flags.space ? 1 : 0); // Leave room for the sign.
  }
  digits = digits.padStart(prec, '0');
  if (flags.sharp && base === 16) digits = (upper ? '0X' : '0x') + digits;
  const sign = negative ? '-' : flags.plus ? '+' : flags.space ? ' ' : '';
  return pad(sign + digits, { ...flags, zero: false });
}

/** format.go fmtFloat for %v: the shortest 'g' form, with the sign and zero-padding rules of fmt. */
function formatFloat(x: number, flags: Flags): string {
  const num = shortestFloat(x);
  let sign = num[0] === '-' || num[0] === '+' ? num[0] : '+';
  const body = num[0] === '-' || num[0] === '+' ? num.slice(1) : num;
  if (flags.space && sign === '+' && !flags.plus) sign = ' ';
  if (body === 'Inf' || body === 'NaN') {
    if (body === 'NaN' && !flags.space && !flags.plus) sign = '';
    return pad(sign + body, { ...flags, zero: false });
  }
  if (!flags.plus && sign === '+') return pad(body, flags);
  if (flags.zero && !flags.minus && flags.width !== undefined && flags.width > body.length + 1) {
    return sign + '0'.repeat(flags.width - body.length - 1) + body; // The sign goes before the zeros.
  }
  return pad(sign + body, flags);
}

/** strconv.FormatFloat(x, 'g', -1, 64): shortest digits, exponent form when exp < -4 or exp >= 6. */
function shortestFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const negative = x < 0 || Object.is(x, -0);
  const [mantissa, exponent] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', ''); // toExponential() gives the shortest digits that round-trip.
  const exp = Number(exponent);
  let body: string;
  if (exp < -4 || exp >= 6) {
    const expDigits = String(Math.abs(exp)).padStart(2, '0');
    body = `${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${exp < 0 ? '-' : '+'}${expDigits}`;
  } else {
    const point = exp + 1; // Digits before the decimal point.
    const whole = point > 0 ? digits.slice(0, point).padEnd(point, '0') : '0';
    const fraction = point >= digits.length ? '' : point > 0 ? digits.slice(point) : '0'.repeat(-point) + digits;
    body = fraction ? `${whole}.${fraction}` : whole;
  }
  return (negative ? '-' : '') + body;
}

function formatString(s: string, verb: string, flags: Flags): string {
  const truncated = flags.prec === undefined ? s : [...s].slice(0, flags.prec).join('');
  switch (verb) {
    case 'v':
    case 's':
      return pad(truncated, flags);
    case 'q':
      return pad(flags.sharp && canBackquote(truncated) ? `\`${truncated}\`` : goQuote(truncated, flags.plus), flags);
    case 'x':
    case 'X':
      return hexBytes(s, verb === 'X', flags);
    default:
      return badVerb(s, verb, flags);
  }
}

/** format.go fmtSbx: hex of the UTF-8 bytes; `% x` separates them, `#` adds 0x. */
function hexBytes(s: string, upper: boolean, flags: Flags): string {
  let bytes = [...Buffer.from(s, 'utf8')];
  if (flags.prec !== undefined) bytes = bytes.slice(0, flags.prec);
  if (bytes.length === 0) return ' '.repeat(flags.width ?? 0);
  const prefix = upper ? '0X' : '0x';
  const hex = bytes.map((b) => {
    const h = b.toString(16).padStart(2, '0');
    return upper ? h.toUpperCase() : h;
  });
  const text = flags.space ? hex.map((h) => (flags.sharp ? prefix + h : h)).join(' ') : (flags.sharp ? prefix : '') + hex.join('');
  return pad(text, flags);
}

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(String.fromCodePoint(cp));
}

function escapeRune(cp: number, quote: number, asciiOnly: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (cp === quote || cp === 0x5c) return `\\${ch}`;
  if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) return ch;
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };
  if (named[cp]) return named[cp];
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd'; // A lone surrogate is no valid rune.
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

/** strconv.Quote (or QuoteToASCII). */
function goQuote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += escapeRune(ch.codePointAt(0)!, 0x22, asciiOnly);
  return `${out}"`;
}

function validRune(n: number): number {
  return n < 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) ? 0xfffd : n;
}

function runeString(n: number): string {
  return String.fromCodePoint(validRune(n));
}

/** strconv.QuoteRune: `'a'`. */
function quoteRune(n: number, asciiOnly: boolean): string {
  return `'${escapeRune(validRune(n), 0x27, asciiOnly)}'`;
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '`' || cp === 0xfeff || cp === 0x7f || (cp < 0x20 && ch !== '\t') || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  }
  return true;
}

/** `%#U` without the `#` subtleties: `U+0040 '@'`. */
function formatRune(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return isPrint(cp) ? `${hex} '${String.fromCodePoint(cp)}'` : hex;
}
