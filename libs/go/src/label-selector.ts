import { BowlineError } from '@bowline/observability';

/** A `label_selector` that Kubernetes' labels.Parse would refuse; the message keeps its wording. */
export class LabelSelectorError extends BowlineError {}

/** apimachinery's selection.Operator values. */
export type LabelOperator = 'exists' | '!' | '=' | '==' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface Requirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** Sorted and without duplicates, as apimachinery's sets.String.List() gives them. */
  readonly values: readonly string[];
}

export interface LabelSelector {
  matches(labels: Record<string, string>): boolean;
  /** The selector as written. */
  readonly text: string;
  /** True when the selector has no requirements and so matches every label set. */
  readonly empty: boolean;
  /** ANDed; sorted by key, as apimachinery sorts them. */
  requirements: Requirement[];
}

type Token =
  | 'end'
  | 'identifier'
  | 'in'
  | 'notin'
  | '('
  | ')'
  | ','
  | '!'
  | '='
  | '=='
  | '!='
  | '>'
  | '<';

interface Scanned {
  readonly token: Token;
  readonly literal: string;
}

const WHITESPACE = new Set([' ', '\t', '\r', '\n']);
const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);

/** apimachinery's Lexer: special symbols (longest of `==`/`!=`), else a run of other characters. */
function scan(text: string): Scanned[] {
  const items: Scanned[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && WHITESPACE.has(text[i]!)) i++;
    if (i >= text.length) {
      items.push({ token: 'end', literal: '' });
      return items;
    }
    const pair = text.slice(i, i + 2);
    if (pair === '==' || pair === '!=') {
      items.push({ token: pair, literal: pair });
      i += 2;
    } else if (SPECIAL.has(text[i]!)) {
      items.push({ token: text[i] as Token, literal: text[i]! });
      i++;
    } else {
      const start = i;
      while (i < text.length && !WHITESPACE.has(text[i]!) && !SPECIAL.has(text[i]!)) i++;
      const literal = text.slice(start, i);
      items.push({ token: literal === 'in' || literal === 'notin' ? literal : 'identifier', literal });
    }
  }
}

// Wording from k8s.io/apimachinery/pkg/util/validation.
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const QUALIFIED_NAME_MESSAGE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character " +
  "(e.g. 'MyName',  or 'my.name',  or '123-abc', " +
  "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and " +
  "end with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and " +
  "end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is " +
  "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const maxLength = (n: number) => `must be no more than ${n} characters`;
// Lengths are counted in bytes, as Go's len().
const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/** validation.IsQualifiedName: `[prefix/]name`, the prefix a DNS subdomain. */
function qualifiedNameProblems(key: string): string[] {
  const parts = key.split('/');
  const problems: string[] = [];
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix === '') problems.push('prefix part must be non-empty');
    else {
      if (byteLength(prefix) > 253) problems.push(`prefix part ${maxLength(253)}`);
      if (!DNS1123_SUBDOMAIN.test(prefix)) problems.push(`prefix part ${DNS1123_SUBDOMAIN_MESSAGE}`);
    }
  } else {
    return [
      `a qualified name ${QUALIFIED_NAME_MESSAGE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name === '') problems.push('name part must be non-empty');
  else if (byteLength(name) > 63) problems.push(`name part ${maxLength(63)}`);
  if (!QUALIFIED_NAME.test(name)) problems.push(`name part ${QUALIFIED_NAME_MESSAGE}`);
  return problems;
}

function labelValueProblems(value: string): string[] {
  const problems: string[] = [];
  if (byteLength(value) > 63) problems.push(maxLength(63));
  if (!LABEL_VALUE.test(value)) problems.push(LABEL_VALUE_MESSAGE);
  return problems;
}

const INT64 = /^[+-]?[0-9]+$/;
const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

/** strconv.ParseInt(s, 10, 64), or undefined where it returns an error. */
export function parseInt64(text: string): bigint | undefined {
  if (!INT64.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

class Parser {
  private position = 0;

  constructor(private readonly items: Scanned[]) {}

  /** In a value position `in` and `notin` are plain identifiers (`x in (in)`), as apimachinery's Values context. */
  private lookahead(asValue = true): Scanned {
    const item = this.items[this.position]!;
    const keyword = item.token === 'in' || item.token === 'notin';
    return asValue && keyword ? { token: 'identifier', literal: item.literal } : item;
  }

  private consume(asValue = true): Scanned {
    const item = this.lookahead(asValue);
    this.position++;
    return item;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const { token, literal } = this.lookahead();
      if (token === 'end') return requirements;
      if (token !== 'identifier' && token !== '!') {
        throw new Error(`found '${literal}', expected: !, identifier, or 'end of string'`);
      }
      requirements.push(this.parseRequirementInContext());
      const after = this.consume();
      if (after.token === 'end') return requirements;
      if (after.token !== ',') throw new Error(`found '${after.literal}', expected: ',' or 'end of string'`);
      const next = this.lookahead();
      if (next.token !== 'identifier' && next.token !== '!') {
        throw new Error(`found '${next.literal}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirementInContext(): Requirement {
    try {
      return this.parseRequirement();
    } catch (error) {
      throw new Error(`unable to parse requirement: ${(error as Error).message}`, { cause: error });
    }
  }

  private parseRequirement(): Requirement {
    let negated = false;
    let { token, literal: key } = this.consume();
    if (token === '!') {
      negated = true;
      ({ token, literal: key } = this.consume());
    }
    if (token !== 'identifier') throw new Error(`found '${key}', expected: identifier`);
    const keyProblems = qualifiedNameProblems(key);
    if (keyProblems.length > 0) {
      throw new Error(`key: Invalid value: ${JSON.stringify(key)}: ${keyProblems.join('; ')}`);
    }
    const next = this.lookahead().token;
    // `!key` ends here; what follows it (`!key=x`) is then refused as a missing ','.
    if (negated) return { key, operator: '!', values: [] };
    if (next === 'end' || next === ',') return { key, operator: 'exists', values: [] };

    const operator = this.parseOperator();
    const values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    return checkRequirement(key, operator, values);
  }

  private parseOperator(): LabelOperator {
    const { token, literal } = this.consume(false);
    switch (token) {
      case 'in':
      case 'notin':
      case '=':
      case '==':
      case '!=':
        return token;
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        throw new Error(`found '${literal}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }

  private parseValues(): Set<string> {
    const open = this.consume();
    if (open.token !== '(') throw new Error(`found '${open.literal}' expected: '('`);
    const first = this.lookahead();
    if (first.token === ')') {
      // "()" is the set holding the empty value.
      this.consume();
      return new Set(['']);
    }
    if (first.token !== 'identifier' && first.token !== ',') {
      throw new Error(`found '${first.literal}', expected: ',', ')' or identifier`);
    }
    const values = this.parseIdentifiersList();
    const close = this.consume();
    if (close.token !== ')') throw new Error(`found '${close.literal}', expected: ')'`);
    return values;
  }

  /** `a,b`, where an empty item (`(,a)`, `(a,,b)`, `(a,)`) is the empty value. */
  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const { token, literal } = this.consume();
      if (token === 'identifier') {
        values.add(literal);
        const next = this.lookahead();
        if (next.token === ',') continue;
        if (next.token === ')') return values;
        throw new Error(`found '${next.literal}', expected: ',' or ')'`);
      }
      if (token !== ',') throw new Error(`found '${literal}', expected: ',', or identifier`);
      if (values.size === 0) values.add('');
      const next = this.lookahead().token;
      if (next === ')') {
        values.add('');
        return values;
      }
      if (next === ',') {
        this.consume();
        values.add('');
      }
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.lookahead();
    // `key=` with nothing after it asks for the empty value.
    if (next.token === 'end' || next.token === ',') return new Set(['']);
    const { token, literal } = this.consume();
    if (token !== 'identifier') throw new Error(`found '${literal}', expected: identifier`);
    return new Set([literal]);
  }
}

/** NewRequirement's checks on values: gt/lt need an integer, every value must be a label value. */
function checkRequirement(key: string, operator: LabelOperator, valueSet: Set<string>): Requirement {
  const values = [...valueSet].sort();
  const problems: string[] = [];
  if (operator === 'gt' || operator === 'lt') {
    values.forEach((value, i) => {
      if (parseInt64(value) === undefined) {
        const detail = "for 'Gt', 'Lt' operators, the value must be an integer";
        problems.push(`values[${i}]: Invalid value: ${JSON.stringify(value)}: ${detail}`);
      }
    });
  }
  values.forEach((value, i) => {
    const valueProblems = labelValueProblems(value);
    if (valueProblems.length > 0) {
      problems.push(`values[${i}][${key}]: Invalid value: ${JSON.stringify(value)}: ${valueProblems.join('; ')}`);
    }
  });
  if (problems.length === 1) throw new Error(problems[0]);
  if (problems.length > 1) throw new Error(`[${problems.join(', ')}]`);
  return { key, operator, values };
}

function matchesRequirement(requirement: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = has ? labels[requirement.key]! : undefined;
  switch (requirement.operator) {
    case 'exists':
      return has;
    case '!':
      return !has;
    case '=':
    case '==':
    case 'in':
      return has && requirement.values.includes(value!);
    // A missing label is "not equal" and "not in", as in apimachinery.
    case '!=':
    case 'notin':
      return !has || !requirement.values.includes(value!);
    case 'gt':
    case 'lt': {
      if (!has) return false;
      const actual = parseInt64(value!);
      const bound = parseInt64(requirement.values[0]!);
      if (actual === undefined || bound === undefined) return false;
      return requirement.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

/**
 * Parses a Kubernetes label selector with the grammar and checks of
 * k8s.io/apimachinery/pkg/labels.Parse, which Prow uses for `jenkins_operators[].label_selector`.
 * The empty selector matches everything.
 */
export function parseLabelSelector(text: string): LabelSelector {
  let requirements: Requirement[];
  try {
    requirements = new Parser(scan(text)).parse();
  } catch (error) {
    throw new LabelSelectorError(`invalid label selector ${JSON.stringify(text)}: ${(error as Error).message}`, {
      cause: error,
      context: { selector: text },
    });
  }
  // A stable sort by key, as apimachinery's sort.Sort(ByKey) gives a deterministic order.
  requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    text,
    empty: requirements.length === 0,
    requirements,
    matches(labels: Record<string, string>): boolean {
      return requirements.every((requirement) => matchesRequirement(requirement, labels));
    },
  };
}
