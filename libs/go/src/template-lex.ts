import { charAt, formatRune, goQuote, isPrint } from './fmt.js';

// Go's text/template lexer (text/template/parse/lex.go): the text between actions, and the tokens of each action.

export type TokenType =
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

export interface Token {
  type: TokenType;
  value: string;
  pos: number;
  end: number;
}

export type Fail = (reason: string, offset: number) => never;

// `nil`, `true` and `false` are lexed apart from these; the rest are actions Go knows.
const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

/** Go's lexer spaces (lex.go isSpace); they are also what trim markers remove. */
function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

function isAlphaNumeric(ch: string | undefined): boolean {
  return ch !== undefined && (ch === '_' || /^[\p{L}\p{Nd}]$/u.test(ch));
}

/** `{{- ` trims the text before the action; Go needs a space after the dash so `{{-3}}` stays a number. */
function hasLeftTrimMarker(src: string, i: number): boolean {
  return src[i] === '-' && isSpace(src[i + 1]);
}

export class Lexer {
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
