import { describe, expect, it } from '@jest/globals';
import { GoFloat64, GoMap, GoTemplate, TemplateError, TemplateSet, type TemplateOptions } from '../src/index.js';

// What Go's text/template has beyond a single template over plain data: sets of associated
// templates, function tables (template.Funcs), methods, func values, and template.Option.

class Counter {
  constructor(readonly N: number) {}

  Plus(k: number): number {
    return this.N + k;
  }

  Fail(): never {
    throw new Error('boom');
  }
}

const data = {
  Name: 'unit',
  Nothing: null,
  Labels: new GoMap([['app', 'web']], ''),
  Counter: new Counter(40),
  Add: (a: number, b: number) => a + b,
  F: new GoFloat64(3),
  Million: new GoFloat64(1234567),
};

function render(text: string, options: TemplateOptions = {}, input: unknown = data): string {
  return GoTemplate.parse(text, options).execute(input);
}

function failure(run: () => unknown): TemplateError {
  try {
    run();
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('expected a TemplateError');
}

describe('associated templates, as Go defines and calls them', () => {
  it.each([
    ['template runs a defined template with the dot it is given', '{{define "T"}}[{{.}}]{{end}}{{template "T" .Name}}{{template "T"}}', '[unit][<no value>]'],
    ['block defines a template and runs it in place', '{{block "B" .Name}}<{{.}}>{{end}}!', '<unit>!'],
    ['a defined template sees only its own $', '{{define "T"}}{{$.Name}}{{end}}{{template "T" .Labels}}', '<no value>'],
  ])('%s', (_name, text, expected) => {
    expect(render(text)).toBe(expected);
  });

  it('lets a later text redefine a block, as a page and its override do', () => {
    const set = new TemplateSet();
    set.parse('page', '{{block "title" .}}default{{end}} page');
    set.parse('override', '{{define "title"}}custom {{.Name}}{{end}}');
    expect(set.execute('page', data)).toBe('custom unit page');
    expect(set.names().sort()).toEqual(['override', 'page', 'title']);
  });

  it('keeps the variables of the text out of a definition', () => {
    expect(failure(() => GoTemplate.parse('{{$x := 1}}{{define "T"}}{{$x}}{{end}}')).reason).toBe('undefined variable "$x"');
  });

  it('says which template failed, and where in its text', () => {
    const set = new TemplateSet();
    set.parse('file', 'a\n{{define "T"}}\n  {{.Missing}}{{end}}{{template "T" .}}');
    expect(() => set.execute('file', { Name: 'x' })).toThrow('template: file:3:5: executing "T" at <.Missing>: can\'t evaluate field Missing in . (its fields are Name)');
  });

  it.each([
    ['a template no text defines', '{{template "nope"}}', 'template "nope" not defined'],
    ['templates calling themselves without end', '{{define "T"}}{{template "T"}}{{end}}{{template "T"}}', 'exceeded maximum template depth (1000)'],
  ])('fails on %s', (_name, text, reason) => {
    expect(failure(() => render(text)).reason).toBe(reason);
  });

  it('refuses a define that is not at the top level', () => {
    expect(failure(() => GoTemplate.parse('{{if true}}{{define "T"}}{{end}}{{end}}')).reason).toBe('unexpected <define> in command');
  });
});

describe('functions', () => {
  const funcs = {
    upper: (s: string) => s.toUpperCase(),
    join: { min: 1, fn: (sep: string, ...parts: string[]) => parts.join(sep) },
    kind: (value: unknown) => (value === undefined ? 'nil' : typeof value),
    explode: () => {
      throw new Error('kaboom');
    },
    len: (_value: unknown) => 'mine',
  };

  it.each([
    ['are called by name with their arguments and the piped value', '{{upper .Name}} {{.Name | upper}} {{join "-" "a" "b" .Name}}', 'UNIT UNIT a-b-unit'],
    ['replace a builtin of the same name, as template.Funcs does', '{{len .Name}}', 'mine'],
    ['get nil for a missing key, as Go passes an interface{} parameter', '{{kind .Labels.missing}} {{kind .Name}}', 'nil string'],
  ])('%s', (_name, text, expected) => {
    expect(render(text, { funcs })).toBe(expected);
  });

  it.each([
    ['{{upper "a" "b"}}', 'wrong number of args for upper: want 1 got 2'],
    ['{{join}}', 'wrong number of args for join: want at least 1 got 0'],
    ['{{lower .Name}}', 'function "lower" not defined'],
  ])('are counted and looked up when parsing: %s', (text, reason) => {
    expect(failure(() => GoTemplate.parse(text, { funcs })).reason).toBe(reason);
  });

  it('fail the template with what they throw, and keep it as the cause', () => {
    const error = failure(() => render('{{explode}}', { funcs }));
    expect(error.reason).toBe('error calling explode: kaboom');
    expect((error.cause as Error).message).toBe('kaboom');
  });

  it.each([
    ['html escapes as HTMLEscapeString', `{{html "<a href=\\"x\\">'&'</a>"}}`, '&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;'],
    ['js escapes as JSEscapeString', `{{js "it's <b>\\"x\\"</b> = \\\\ \\t"}}`, "it\\'s \\u003Cb\\u003E\\\"x\\\"\\u003C/b\\u003E \\u003D \\\\ \\u0009"],
    ['call calls a func value with its arguments', '{{call .Add 1 2}}', '3'],
  ])('Go builtin %s', (_name, text, expected) => {
    expect(render(text)).toBe(expected);
  });

  it.each([
    ['{{call .Name}}', 'error calling call: non-function .Name of type string'],
    ['{{call .Nothing}}', 'error calling call: call of nil'],
    ['{{call .Add 1}}', 'error calling call: wrong number of args for .Add: got 1 want 2'],
  ])('call refuses %s', (text, reason) => {
    expect(failure(() => render(text)).reason).toBe(reason);
  });
});

describe('methods', () => {
  it.each([
    ['are called with their arguments', '{{.Counter.Plus 2}}', '42'],
    ['take the piped value last', '{{2 | .Counter.Plus}}', '42'],
    ['sit beside fields', '{{.Counter.N}}', '40'],
  ])('%s', (_name, text, expected) => {
    expect(render(text)).toBe(expected);
  });

  it.each([
    ['{{.Counter.Plus}}', 'wrong number of args for Plus: want 1 got 0'],
    ['{{.Counter.Fail}}', 'error calling Fail: boom'],
    ['{{.Counter.N 1}}', 'N has arguments but cannot be invoked as function'],
    ['{{.Labels.app 1}}', 'app is not a method but has arguments'],
  ])('fail as Go does: %s', (text, reason) => {
    expect(failure(() => render(text)).reason).toBe(reason);
  });
});

describe('options', () => {
  const nilZero = new GoMap<unknown>([['a', 1]], undefined);

  it.each([
    ['default', '{{.Labels.missing}}', '<no value>'],
    ['zero', '[{{.Labels.missing}}]', '[]'],
  ] as const)('missingkey=%s gives Go’s value for a missing key', (missingKey, text, expected) => {
    expect(render(text, { missingKey })).toBe(expected);
  });

  it.each([
    ['error', '{{.Labels.missing}}', 'map has no entry for key "missing"'],
    ['zero', '{{.M.missing.b}}', 'nil pointer evaluating .M.missing.b'],
  ] as const)('missingkey=%s fails %s', (missingKey, text, reason) => {
    expect(failure(() => render(text, { missingKey }, { ...data, M: nilZero })).reason).toBe(reason);
  });

  it('tells of each missing key read as a field', () => {
    const missing: string[] = [];
    render('{{.Labels.app}}{{.Labels.x}}{{index .Labels "y"}}', { onMissingKey: (map, key) => missing.push(`${map === data.Labels}:${key}`) });
    expect(missing).toEqual(['true:x']);
  });

  it('lets the caller refuse what an action prints', () => {
    const onPrint = (value: unknown): void => {
      if (value === undefined) throw new Error('printing nil');
    };
    expect(render('{{.Name}}', { onPrint })).toBe('unit');
    expect(failure(() => render('{{.Labels.missing}}', { onPrint })).message).toBe('template: 1:3: executing at <.Labels.missing>: printing nil');
  });
});

describe('float64s that hold whole numbers', () => {
  it('print and compare as float64s, not ints', () => {
    expect(render('{{.F}} {{.Million}} {{eq .F .F}} {{lt .F .Million}} {{if .F}}true{{end}}')).toBe('3 1.234567e+06 true true true');
    expect(failure(() => render('{{eq .F 3}}')).reason).toBe('error calling eq: incompatible types for comparison: float64 and int');
  });
});
