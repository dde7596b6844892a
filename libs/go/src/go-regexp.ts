import { BowlineError } from '@bowline/observability';

/** A Go RE2 construct that JavaScript's RegExp cannot express faithfully. */
export class RegexpTranslationError extends BowlineError {}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/**
 * Compiles a Go RE2 pattern (as Prow configs write them) into an equivalent JavaScript RegExp.
 *
 * JavaScript on Node 20 has no inline flags, so `(?m)`, `(?s)` and `(?i)` are applied by rewriting
 * what they change: under `m`, `^`/`$` become line-boundary lookarounds; `.` becomes `[^\n]` or
 * `[\s\S]` (Go's `.` excludes only `\n`, JavaScript's also `\r` and U+2028/9); under `i` for part
 * of a pattern, ASCII letters become `[xX]` and classes gain the other case (a leading `(?i)` uses
 * JavaScript's own `i` flag).
 */
export function compileGoRegexp(pattern: string): RegExp {
  const { source, flags } = translateGoRegexp(pattern);
  return new RegExp(source, flags);
}

export function translateGoRegexp(pattern: string): { source: string; flags: string } {
  let out = '';
  let caseInsensitiveEverywhere: boolean | undefined;
  const stack: Flags[] = [];
  let flags: Flags = { i: false, m: false, s: false };
  let i = 0;
  const fail = (what: string): never => {
    throw new RegexpTranslationError(`${what} (in ${JSON.stringify(pattern)})`, { context: { pattern } });
  };
  const noteCase = (atStart: boolean, on: boolean) => {
    if (on && atStart) caseInsensitiveEverywhere = true;
  };
  // Under a partial `(?i)`, letters are folded by hand; with the global flag they need nothing.
  const folds = () => flags.i && !caseInsensitiveEverywhere;

  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) fail('trailing backslash');
      if (next === 'A') out += '^';
      else if (next === 'z') out += '$';
      else if (next === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const literal = pattern.slice(i + 2, end === -1 ? undefined : end);
        out += literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
        i = end === -1 ? pattern.length : end + 2;
        continue;
      } else if (next === 'p' || next === 'P') fail(`Unicode class \\${next} is not supported`);
      else if (next === 'C') fail('\\C (any byte) is not supported');
      else out += `\\${next}`;
      i += 2;
      continue;
    }
    if (c === '[') {
      const { text, end } = translateClass(pattern, i, fail, folds());
      out += text;
      i = end;
      continue;
    }
    if (c === '(') {
      if (pattern.startsWith('(?P<', i)) {
        out += '(?<';
        i += 4;
        stack.push({ ...flags });
        continue;
      }
      const inline = /^\(\?([imsU]*)(?:-([imsU]*))?(\)|:)/.exec(pattern.slice(i));
      if (inline) {
        const [whole, on = '', off = '', kind] = inline;
        if (on.includes('U') || off.includes('U')) fail('the U (ungreedy) flag is not supported');
        const atStart = i === 0 && kind === ')';
        noteCase(atStart, on.includes('i'));
        if (off.includes('i') && caseInsensitiveEverywhere) fail('(?-i) after a leading (?i) is not supported');
        const changed: Flags = {
          i: (flags.i || on.includes('i')) && !off.includes('i'),
          m: (flags.m || on.includes('m')) && !off.includes('m'),
          s: (flags.s || on.includes('s')) && !off.includes('s'),
        };
        if (kind === ')') {
          // `(?m)` changes the flags until the end of the enclosing group.
          flags = changed;
        } else {
          // `(?m:...)` is a non-capturing group with its own flags.
          stack.push({ ...flags });
          flags = changed;
          out += '(?:';
        }
        i += whole.length;
        continue;
      }
      stack.push({ ...flags });
      out += '(';
      i += 1;
      continue;
    }
    if (c === ')') {
      flags = stack.pop() ?? fail('unbalanced )');
      out += ')';
      i += 1;
      continue;
    }
    if (c === '^') out += flags.m ? '(?:^|(?<=\\n))' : '^';
    else if (c === '$') out += flags.m ? '(?=\\n|$)' : '$';
    else if (c === '.') out += flags.s ? '[\\s\\S]' : '[^\\n]';
    else if (c === '/') out += '\\/';
    else if (folds() && /[A-Za-z]/.test(c)) out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
    else out += c;
    i += 1;
  }
  if (stack.length > 0) fail('unbalanced (');
  return { source: out, flags: caseInsensitiveEverywhere ? 'i' : '' };
}

function translateClass(pattern: string, start: number, fail: (what: string) => never, fold = false): { text: string; end: number } {
  let out = '[';
  let extra = '';
  let i = start + 1;
  if (pattern[i] === '^') {
    out += '^';
    i += 1;
  }
  // A `]` first in a class is a literal in Go.
  if (pattern[i] === ']') {
    out += '\\]';
    i += 1;
  }
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === ']') return { text: `${out}${extra}]`, end: i + 1 };
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === 'p' || next === 'P') fail(`Unicode class \\${next} is not supported`);
      out += `\\${next ?? ''}`;
      i += 2;
      continue;
    }
    if (c === '[' && pattern[i + 1] === ':') {
      const close = pattern.indexOf(':]', i + 2);
      if (close !== -1) {
        const name = pattern.slice(i + 2, close);
        const negated = name.startsWith('^');
        const members = POSIX_CLASSES[negated ? name.slice(1) : name];
        if (!members) fail(`unknown character class [:${name}:]`);
        if (negated) fail(`negated character class [:${name}:] is not supported`);
        out += members;
        i = close + 2;
        continue;
      }
    }
    if (c === '[') out += '\\[';
    else out += c;
    if (fold) extra += foldedCounterpart(pattern, i, fail);
    i += 1;
  }
  return fail('unterminated character class');
}

/**
 * The other-case twin of a class member under a partial `(?i)`: a letter's other case, or a
 * letter range's other-case range. A range that mixes letters with other characters is refused.
 */
function foldedCounterpart(pattern: string, i: number, fail: (what: string) => never): string {
  const c = pattern[i]!;
  const isLetter = (x: string | undefined) => x !== undefined && /^[A-Za-z]$/.test(x);
  const swap = (x: string) => (x === x.toLowerCase() ? x.toUpperCase() : x.toLowerCase());
  if (pattern[i + 1] === '-' && pattern[i + 2] !== undefined && pattern[i + 2] !== ']') {
    const to = pattern[i + 2]!;
    if (!isLetter(c) && !isLetter(to)) return '';
    const sameCase = isLetter(c) && isLetter(to) && (c === c.toLowerCase()) === (to === to.toLowerCase());
    if (!sameCase) fail(`range ${c}-${to} under (?i) is not supported`);
    return `${swap(c)}-${swap(to)}`;
  }
  // The end of a range was folded with its start.
  if (pattern[i - 1] === '-' && i - 2 > 0 && pattern[i - 2] !== '[') return '';
  return isLetter(c) ? swap(c) : '';
}
