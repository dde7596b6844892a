import { describe, expect, it } from '@jest/globals';
import { TemplateError } from '@bowline/go';
import { parseConfigTemplate } from '../src/templates.js';

function parseError(text: string): TemplateError {
  try {
    parseConfigTemplate(text);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} not to parse`);
}

// Go's whole language is in @bowline/go; a config's templates keep to the part they always had.
describe("a config's templates", () => {
  it.each([
    ['{{define "x"}}y{{end}}', 'unsupported action "define"'],
    ['{{template "x" .}}', 'unsupported action "template"'],
    ['{{block "x" .}}y{{end}}', 'unsupported action "block"'],
    ['{{html .Name}}', 'unsupported function "html"'],
    ['{{.Name | js}}', 'unsupported function "js"'],
    ['{{call .F}}', 'unsupported function "call"'],
    ['{{if false}}{{html .Name}}{{end}}', 'unsupported function "html"'],
    // A ProwJob's view has no methods, so arguments after a field are a mistake the text shows.
    ['{{.Name "x"}}', 'Name has arguments but cannot be invoked as function'],
    ['{{"x" | .Name}}', 'Name has arguments but cannot be invoked as function'],
  ])('reject %s: %s', (text, reason) => {
    expect(parseError(text).reason).toBe(reason);
  });

  it('are run on a sample ProwJob, so a misspelt field fails when the config loads', () => {
    expect(parseError('{{.Spec.Jbo}}').reason).toMatch(/^can't evaluate field Jbo in \.Spec/);
    expect(parseConfigTemplate('{{.Spec.Job}}').source).toBe('{{.Spec.Job}}');
  });
});
