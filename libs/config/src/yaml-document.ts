import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { Field } from './fields.js';
import type { ConfigProblem } from './problems.js';

export type Path = (string | number)[];
export type Raw = Record<string, unknown>;

const YAML_11_BOOLEANS: Record<string, boolean> = Object.fromEntries([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON'].map((w) => [w, true]),
  ...['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'].map((w) => [w, false]),
]);

/** One YAML file: its values type-checked against the config's field descriptions, with positions. */
export class DocumentReader {
  readonly value: Raw;
  private readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    text: string,
    root: Field,
    private readonly problems: ConfigProblem[],
    private readonly warnings: ConfigProblem[],
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true });
    for (const error of this.doc.errors) {
      const pos = error.linePos?.[0] ?? { line: 0, col: 0 };
      problems.push({ file, line: pos.line, col: pos.col, field: '(yaml)', message: error.message.split('\n')[0] ?? '' });
    }
    const js: unknown = this.doc.errors.length > 0 ? {} : (this.doc.toJS() ?? {});
    this.value = (this.check(root, js, []) as Raw | undefined) ?? {};
  }

  problem(path: Path, message: string): void {
    this.problems.push(this.locate(path, message));
  }

  warn(path: Path, message: string): void {
    this.warnings.push(this.locate(path, message));
  }

  line(path: Path): number {
    return this.locate(path, '').line;
  }

  private locate(path: Path, message: string): ConfigProblem {
    // The field's own node, or its nearest parent present in the file.
    for (let end = path.length; end >= 0; end -= 1) {
      const node = this.doc.getIn(path.slice(0, end), true);
      if (isNode(node) && node.range) {
        const { line, col } = this.lines.linePos(node.range[0]);
        return { file: this.file, line, col, field: formatPath(path), message };
      }
    }
    return { file: this.file, line: 1, col: 1, field: formatPath(path), message };
  }

  /** The value if it has the field's type (recursively), else `undefined` and a problem. */
  private check(field: Field, value: unknown, path: Path): unknown {
    if (value === undefined || value === null) return undefined;
    const wrong = (expected: string): undefined => {
      this.problem(path, `must be ${expected}, not ${JSON.stringify(value)}`);
      return undefined;
    };
    switch (field.type) {
      case 'string':
        if (field.orNumber && typeof value === 'number' && Number.isInteger(value)) return String(value);
        if (typeof value !== 'string') return wrong('a string');
        if (field.enum && !field.enum.includes(value)) return wrong(`one of ${field.enum.join(', ')}`);
        if (field.pattern && !new RegExp(field.pattern).test(value)) return wrong(field.patternText ?? `a string matching ${field.pattern}`);
        return value;
      case 'boolean':
        if (typeof value === 'boolean') return value;
        // Prow's Go YAML library reads YAML 1.1, where `yes`, `on`, `y` … are booleans too.
        if (typeof value === 'string' && value in YAML_11_BOOLEANS) return YAML_11_BOOLEANS[value];
        return wrong('true or false');
      case 'integer':
        if (typeof value !== 'number' || !Number.isInteger(value)) return wrong('a whole number');
        if (field.minimum !== undefined && value < field.minimum) {
          this.problem(path, field.minimum === 0 ? 'must not be negative' : `must be at least ${field.minimum}`);
          return undefined;
        }
        return value;
      case 'list':
        if (!Array.isArray(value)) return wrong('a list');
        return value.map((item, i) => this.check(field.items, item, [...path, i]));
      case 'map': {
        if (typeof value !== 'object' || Array.isArray(value)) return wrong('a mapping');
        const out: Raw = {};
        for (const [key, item] of Object.entries(value)) {
          if (field.keyPattern && !new RegExp(field.keyPattern).test(key)) this.problem([...path, key], `key "${key}" must look like org/repo`);
          else out[key] = this.check(field.values, item, [...path, key]);
        }
        return out;
      }
      case 'object': {
        if (typeof value !== 'object' || Array.isArray(value)) return wrong('a mapping');
        const out: Raw = {};
        for (const [key, item] of Object.entries(value)) {
          const sub = field.fields[key];
          if (sub) out[key] = this.check(sub, item, [...path, key]);
          else if (field.open) out[key] = item;
          else this.problem([...path, key], `unknown field "${key}" (known: ${Object.keys(field.fields).join(', ')})`);
        }
        for (const key of field.required ?? []) {
          if (out[key] === undefined) this.problem([...path, key], 'is required');
        }
        return out;
      }
      case 'any':
        return value;
    }
  }
}

function formatPath(path: Path): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}
