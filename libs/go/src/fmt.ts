import { CallError } from './template-error.js';
import { isNil, kindOf, numberValue, sortedEntries, typeName } from './go-value.js';

/*
 * The part of Go's fmt that templates print with (print.go, format.go) and strconv's quoting:
 * %v for actions and `print`, and `printf` with the verbs in VERBS. A verb or flag outside them is
 * a CallError, so a template using one fails instead of printing something else.
 */

export interface Flags {
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

export const PLAIN: Flags = { minus: false, plus: false, plusV: false, sharp: false, space: false, zero: false };
const VERBS = new Set(['v', 's', 'd', 'q', 't', 'x', 'X', 'c']);
/** Nested values beyond this depth are cyclic in practice; Go prints pointers there instead of following them. */
const MAX_DEPTH = 100;

/** fmt.Sprint: a space between operands when neither side is a string. */
export function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((arg, i) => {
    if (i > 0 && typeof arg !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatArg(arg, 'v', PLAIN);
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands, and a newline. */
export function sprintln(args: unknown[]): string {
  return `${args.map((arg) => formatArg(arg, 'v', PLAIN)).join(' ')}\n`;
}

/** fmt.Sprintf for the verbs in VERBS, flags `-+# 0`, width and precision. */
export function sprintf(format: string, args: unknown[]): string {
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
export function formatValue(value: unknown, verb: string, flags: Flags, depth = 0): string {
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
      if (verb === 'v') return formatFloat(numberValue(value), flags);
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

/** The character (a whole code point) at `i`. */
export function charAt(src: string, i: number): string | undefined {
  const cp = src.codePointAt(i);
  return cp === undefined ? undefined : String.fromCodePoint(cp);
}

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(cp: number): boolean {
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
export function goQuote(s: string, asciiOnly = false): string {
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
export function formatRune(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return isPrint(cp) ? `${hex} '${String.fromCodePoint(cp)}'` : hex;
}
