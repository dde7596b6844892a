import { describe, expect, it } from '@jest/globals';
import { BowlineError } from '@bowline/observability';
import { GoMap, GoTemplate, TemplateError } from '../src/index.js';

const data = {
  Name: 'unit',
  Count: 3,
  Zero: 0,
  Empty: '',
  Yes: true,
  No: false,
  Nothing: null,
  List: ['a', 'b', 'c'],
  None: [],
  Nums: [1, 2, 3],
  Matrix: [
    [1, 2],
    [3, 4],
  ],
  // Inserted out of order: Go prints and ranges over maps in sorted key order.
  Labels: new Map([
    ['tier', 'front'],
    ['app', 'web'],
  ]),
  Tags: new GoMap([['a', '1']], ''),
  Nested: { Inner: { Value: 'deep' } },
  Pulls: [
    { Number: 7, Author: 'alice' },
    { Number: 9, Author: 'bob' },
  ],
  Ratio: 0.25,
  Big: 1234567.5,
  Type: 'presubmit',
  Number: 7,
  Job: 'unit',
};

function render(text: string, input: unknown = data): string {
  return GoTemplate.parse(text).execute(input);
}

function parseError(text: string): TemplateError {
  try {
    GoTemplate.parse(text);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} not to parse`);
}

function executeError(text: string, input: unknown = data): TemplateError {
  const template = GoTemplate.parse(text);
  try {
    template.execute(input);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`);
}

describe('Go templates render as Go text/template does', () => {
  it.each([
    ['prints text around a field', 'job {{.Name}}!', 'job unit!'],
    ['walks a chain of fields', '{{.Nested.Inner.Value}}', 'deep'],
    ['keeps $ as the data inside with', '{{with .Nested}}{{$.Name}}/{{.Inner.Value}}{{end}}', 'unit/deep'],
    ['reads a field of a parenthesised pipeline', '{{(index .Pulls 1).Author}}', 'bob'],
    ['reads a field of a variable', '{{$p := index .Pulls 0}}{{$p.Number}}', '7'],
    ['prints integers in decimal and booleans as words', '{{.Count}} {{.Yes}} {{.No}}', '3 true false'],
    // fmt %v: slices as [a b], structs as {v1 v2} in field order, maps as map[k:v] sorted by key.
    ['prints slices, structs and maps as fmt %v', '{{.List}} {{.Nums}} {{index .Pulls 0}} {{.Labels}}', '[a b c] [1 2 3] {7 alice} map[app:web tier:front]'],
    // strconv 'g' shortest: exponent form once the exponent reaches 6 (or is below -4).
    ['prints floats as Go %v does', '{{.Ratio}} {{.Big}}', '0.25 1.2345675e+06'],
    ['prints <no value> for a missing map key', '{{.Labels.missing}}', '<no value>'],
    ['prints <no value> for nil', '{{.Nothing}}', '<no value>'],
    ['drops comments', 'a{{/* a comment */}}b', 'ab'],
    ['prints integer literals written the Go ways', '{{0x1F}} {{0o17}} {{017}} {{1_000}} {{-3}}', '31 15 15 1000 -3'],
    ['unquotes Go string escapes', String.raw`{{"tab\there\u00e9\x41"}}`, 'tab\thereéA'],
    ['keeps raw strings as written', '{{`a\\nb`}}', 'a\\nb'],
    ['passes the previous value as the last argument', '{{.Name | printf "%s-%s" "job"}}', 'job-unit'],
  ])('%s', (_name, text, expected) => {
    expect(render(text)).toBe(expected);
  });

  describe('trim markers', () => {
    it.each([
      ['trim spaces, tabs and newlines on both sides', 'a  \n\t{{- .Name -}}\n\n  b', 'aunitb'],
      ['trim around comments too', 'a \n{{- /* note */ -}}\n b', 'ab'],
      // lex.go: the marker is "- " after {{ (and " -" before }}), so {{-3}} is the number -3.
      ['need a space after the dash', '{{.Count}} {{-3}}', '3 -3'],
      ['leave spaces alone where there is no marker', 'a {{ .Name }} b', 'a unit b'],
    ])('%s', (_name, text, expected) => {
      expect(render(text)).toBe(expected);
    });

    it('let a template span lines and still render one line', () => {
      const text = [
        'https://ci.example.com/{{- if eq .Type "presubmit" -}}',
        '  pr/{{ .Number }}',
        '{{- else -}}',
        '  branch',
        '{{- end -}}',
        '  /{{ .Job }}/',
      ].join('\n');
      expect(render(text)).toBe('https://ci.example.com/pr/7/unit/');
      expect(render(text, { ...data, Type: 'periodic' })).toBe('https://ci.example.com/branch/unit/');
    });
  });

  describe('control structures', () => {
    it.each([
      ['if, else if and else take the first true branch', '{{if eq .Count 1}}one{{else if eq .Count 3}}three{{else}}many{{end}}', 'three'],
      // exec.go isTrue: the zero value of any type is false, and so are empty slices and maps.
      ['if treats "", 0, nil and empty slices as false', '{{if .Empty}}a{{else}}b{{end}}{{if .Zero}}a{{else}}b{{end}}{{if .Nothing}}a{{else}}b{{end}}{{if .None}}a{{else}}b{{end}}{{if .Labels}}c{{end}}', 'bbbbc'],
      ['with sets dot and falls to else when empty', '{{with .Nested.Inner}}{{.Value}}{{end}} {{with .Empty}}x{{else}}empty{{end}}', 'deep empty'],
      ['else with tries the next value (Go 1.23)', '{{with .Empty}}a{{else with .Name}}{{.}}{{else}}c{{end}}', 'unit'],
      ['range walks a slice', '{{range .List}}{{.}},{{end}}', 'a,b,c,'],
      ['range over nothing takes the else branch', '{{range .None}}x{{else}}none{{end}}', 'none'],
      ['range declares index and element', '{{range $i, $e := .List}}{{$i}}={{$e}} {{end}}', '0=a 1=b 2=c '],
      ['range with one variable gets the element', '{{range $e := .Pulls}}{{$e.Author}} {{end}}', 'alice bob '],
      ['range over a map goes in key order', '{{range $k, $v := .Labels}}{{$k}}:{{$v}};{{end}}', 'app:web;tier:front;'],
      ['range over an integer counts from 0 (Go 1.22)', '{{range 3}}{{.}}{{end}}', '012'],
      ['an assignment changes the variable outside the if', '{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}', '2'],
      ['a declaration inside if shadows until end', '{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}', '21'],
    ])('%s', (_name, text, expected) => {
      expect(render(text)).toBe(expected);
    });
  });

  describe('functions', () => {
    it.each([
      // funcs.go eq: `eq a b c` is a == b || a == c.
      ['eq compares the first argument with each of the others', '{{eq .Name "lint" "unit"}} {{eq .Count 1 2}}', 'true false'],
      ['ne, lt, le, gt and ge compare basic values', '{{ne .Name "x"}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}', 'true true true true false'],
      ['eq with a missing map key is false, not an error', '{{eq .Labels.missing "x"}}', 'false'],
      ['eq accepts nil, and nil equals nil', '{{eq .Nothing nil}} {{eq .Name nil}}', 'true false'],
      // Go 1.18: and/or return the argument that decides, not a boolean.
      ['and returns the first false argument, or the last', '{{and 1 0 2}}|{{and 1 2}}|{{and .Yes .Name}}', '0|2|unit'],
      ['or returns the first true argument, or the last', '{{or 0 "" "x" 3}}|{{or 0 ""}}', 'x|'],
      ['and and or stop at the deciding argument', '{{or .Name (index .None 5)}}|{{and .Empty (index .None 5)}}', 'unit|'],
      ['not negates truth', '{{not .Empty}} {{not .Name}}', 'true false'],
      ['len counts elements, entries, and the bytes of a string', '{{len .List}} {{len .Labels}} {{len "héllo"}}', '3 2 6'],
      ['index takes elements and map values, several levels deep', '{{index .List 1}} {{index .Labels "app"}} {{index .Matrix 1 0}}', 'b web 3'],
      // funcs.go index: a missing key gives the zero value of the map's value type.
      ['index of a missing key gives the zero value', '[{{index .Tags "nope"}}][{{index .Labels "nope"}}]', '[][]'],
      ['slice cuts slices and strings', '{{slice .List 1}} {{slice "hello" 1 3}} {{slice .List}}', '[b c] el [a b c]'],
      ['urlquery escapes as url.QueryEscape', '{{"a b&c/d?é" | urlquery}} {{urlquery "x" "y"}}', 'a+b%26c%2Fd%3F%C3%A9 xy'],
      // fmt.Sprint adds a space between operands only when neither is a string.
      ['print spaces operands as fmt.Sprint', '{{print 1 2 "a" "b" 3}}', '1 2ab3'],
      ['println spaces all operands and ends the line', '{{println 1 "a" .Count}}', '1 a 3\n'],
      ['print shows nil as <nil>', '{{print nil .Nothing}}', '<nil> <nil>'],
    ])('%s', (_name, text, expected) => {
      expect(render(text)).toBe(expected);
    });
  });

  describe('printf', () => {
    it.each([
      ['%s %d %v %t %%', '{{printf "%s|%d|%v|%t|%%" "s" 42 .List true}}', 's|42|[a b c]|true|%'],
      ['%q quotes strings and runes', '{{printf "%q %q" `a"b` 65}}', `"a\\"b" 'A'`],
      ['%x and %X write hex of integers and of string bytes', '{{printf "%x %X %x %#x % x" 255 "hi" -255 255 "hi"}}', 'ff 6869 -ff 0xff 68 69'],
      ['width, zero padding and left alignment', '{{printf "%05d|%-6s|%6s|%+d|%.2s|%c" 42 "ab" "cd" 5 "hello" 65}}', '00042|ab    |    cd|+5|he|A'],
      // format.go fmtInteger: with a precision, the 0 flag pads with spaces.
      ['a precision wins over the zero flag', '{{printf "%08.3d" -5}}', '    -005'],
      ['%+v names struct fields', '{{printf "%+v" (index .Pulls 0)}}', '{Number:7 Author:alice}'],
      ['verbs apply to each element of a slice', '{{printf "%d %q" .Nums .List}}', '[1 2 3] ["a" "b" "c"]'],
      // print.go: wrong verbs, missing and extra operands are reported in the output, not as errors.
      ['a wrong verb or a missing operand shows in the output', '{{printf "%d|%s|%t" "x" 5}}', '%!d(string=x)|%!s(int=5)|%!t(MISSING)'],
      ['extra operands show at the end', '{{printf "%s" "a" 1 true}}', 'a%!(EXTRA int=1, bool=true)'],
      ['nil prints as <nil> with %v only', '{{printf "%v|%d" .Nothing .Nothing}}', '<nil>|%!d(<nil>)'],
    ])('%s', (_name, text, expected) => {
      expect(render(text)).toBe(expected);
    });
  });
});

describe('errors while executing', () => {
  it.each([
    ['a misspelt field', '{{.Spec.Jbo}}', { Spec: { Job: 'unit' } }, "can't evaluate field Jbo in .Spec (its fields are Job)"],
    ['a field of nil', '{{.Spec.Refs.Org}}', { Spec: { Refs: null } }, 'nil pointer evaluating .Spec.Refs.Org'],
    ['a field of a string', '{{.Name.First}}', data, "can't evaluate field First in type string"],
    ['an index past the end', '{{index .List 5}}', data, 'error calling index: index out of range: 5'],
    // funcs.go indexArg accepts x == len; reflect then panics, and Go reports the panic.
    ['an index at the length', '{{index .List 3}}', data, 'error calling index: reflect: slice index out of range'],
    ['len of a number', '{{len .Count}}', data, 'error calling len: len of type int'],
    ['eq of an int and a string', '{{eq .Count "3"}}', data, 'error calling eq: incompatible types for comparison: int and string'],
    ['lt of booleans', '{{lt .Yes .No}}', data, 'error calling lt: invalid type for comparison'],
    ['eq with nothing to compare', '{{eq .Count}}', data, 'error calling eq: missing argument for comparison'],
    ['range over a string', '{{range .Name}}{{end}}', data, "range can't iterate over unit"],
    ['printf with a number for a format', '{{printf .Count}}', data, 'wrong type for value; expected string; got int'],
  ])('reports %s', (_name, text, input, reason) => {
    const error = executeError(text, input);
    expect(error.reason).toBe(reason);
    expect(error).toBeInstanceOf(BowlineError);
  });

  // Like Go, the position is the failing expression's; columns count from 1 (Go's from 0).
  it('says where, as Go does: name, line and column, and the expression', () => {
    const template = GoTemplate.parse('ok\n  {{.Spec.Jbo}}', 'job_url_template');
    expect(() => template.execute({ Spec: { Job: 'unit' } })).toThrow(
      "template: job_url_template:2:5: executing at <.Spec.Jbo>: can't evaluate field Jbo in .Spec (its fields are Job)",
    );
  });

  it('parses a misspelt field, because only the data can tell', () => {
    expect(() => GoTemplate.parse('{{.Spec.Jbo}}')).not.toThrow();
  });
});

describe('errors while parsing', () => {
  it.each([
    ['{{range .List}}{{break}}{{end}}', 'unsupported action "break"'],
    ['{{range .List}}{{continue}}{{end}}', 'unsupported action "continue"'],
    ['{{lower .Name}}', 'function "lower" not defined'],
    ['{{printf "%6.2f" 1}}', 'printf verb %f is not supported'],
    ['{{printf "%*d" 3 1}}', 'printf width from an argument (*) is not supported'],
    ['{{1.5}}', 'unsupported number 1.5: only integers are supported'],
    ['{{08}}', 'bad number syntax: "08"'],
    ["{{'a'}}", "unsupported character constant 'a': write the number or a string"],
    ['{{if true}}{{$z := 1}}{{end}}{{$z}}', 'undefined variable "$z"'],
    ['{{$y = 1}}', 'undefined variable "$y"'],
    ['{{ne 1}}', 'wrong number of args for ne: want 2 got 1'],
    ['{{not}}', 'wrong number of args for not: want 1 got 0'],
    ['{{index}}', 'wrong number of args for index: want at least 1 got 0'],
    ['{{$ 1}}', "can't give argument to non-function $"],
    ['{{"a" | "b"}}', 'non executable command in pipeline stage 2'],
    ['{{nil}}', 'nil is not a command'],
    ['{{printf nil}}', 'cannot assign nil to string'],
    ['{{}}', 'missing value for command'],
    ['{{if}}x{{end}}', 'missing value for if'],
    [String.raw`{{"\q"}}`, String.raw`invalid syntax in string "\q"`],
    ['{{.Name @}}', 'unexpected "@" in operand'],
    ['{{if .Name}}{{end x}}', 'unexpected "x" in end'],
    ['{{(.Name}}', 'unclosed left paren'],
    ['{{.Name)}}', 'unexpected right paren'],
    ['{{.Name-}}', "bad character U+002D '-'"],
    ['{{/* never closed', 'unclosed comment'],
    ['{{/* c */ .Name}}', 'comment ends before closing delimiter'],
    ['{{"open}}', 'unterminated quoted string'],
    ['{{else}}', 'unexpected {{else}}'],
    ['{{range $i, $e, $x := .List}}{{end}}', 'too many declarations in range'],
    ['{{$a, $b := .List}}', 'too many declarations in command'],
  ])('rejects %s: %s', (text, reason) => {
    expect(parseError(text).reason).toBe(reason);
  });

  it.each([
    ['an unterminated action', 'Job {{.Spec.Job', 'unclosed action', 1, 5],
    ['an unbalanced end', 'line one\n{{if .X}}a{{end}}{{end}}', 'unexpected {{end}}', 2, 18],
    ['a missing end', 'x\n  {{if .X}}\n  open', 'unexpected EOF: {{if}} has no matching {{end}}', 2, 3],
    ['a second else', '{{range .List}}{{else}}a{{else}}b{{end}}', 'expected end; found {{else}}', 1, 25],
  ])('places %s at its line and column', (_name, text, reason, line, col) => {
    const error = parseError(text);
    expect(error.reason).toBe(reason);
    expect([error.line, error.col]).toEqual([line, col]);
  });

  it('names the template and the position in the message', () => {
    expect(() => GoTemplate.parse('{{.Spec.Job', 'job_url_template')).toThrow('template: job_url_template:1:1: unclosed action');
  });
});

describe('a parsed template', () => {
  it('keeps its source and renders again with other data', () => {
    const template = GoTemplate.parse('{{.Name}}');
    expect(template.source).toBe('{{.Name}}');
    expect(template.execute({ Name: 'a' })).toBe('a');
    expect(template.execute({ Name: 'b' })).toBe('b');
  });
});
