import { describe, expect, it } from '@jest/globals';
import { TemplateError } from '@bowline/go';
import { helmValue } from './helm-functions.js';
import { Capabilities, coalesceValues, helmTemplates, mergeUserValues, type Values } from './render-chart.js';

// The renderer stands in for helm here, so the Go and Helm behaviours the chart leans on are pinned.

describe('the template renderer', () => {
  // The data is given as values are: read from YAML, as Helm holds them.
  const render = (text: string, data: unknown): string => helmTemplates().parse('t', text).execute(helmValue(data));
  const capabilities = new Capabilities(['monitoring.coreos.com/v1/ServiceMonitor']);

  it.each([
    ['trims around {{- and -}}', 'a  \n {{- "b" -}} \n c', {}, 'abc'],
    ['takes the first true branch of if / else if / else', '{{ if .a }}A{{ else if .b }}B{{ else }}C{{ end }}', { a: 0, b: 'x' }, 'B'],
    ['ranges over a map in key order', '{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}', { b: 2, a: 1 }, 'a=1;b=2;'],
    ['prints a float64 of a million as Go does', '{{ .n }} {{ .m }}', { n: 1234567, m: 8888 }, '1.234567e+06 8888'],
    ['defaults an empty value', '{{ .x | default "d" }}', { x: '' }, 'd'],
    ['includes a define with nindent', '{{- define "l" }}a: 1\nb: 2{{ end }}x:{{ include "l" . | nindent 2 }}', {}, 'x:\n  a: 1\n  b: 2'],
    ['calls a method with arguments, as .Capabilities.APIVersions.Has', '{{ .C.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor" }} {{ and true (.C.APIVersions.Has "route.openshift.io/v1/Route") }}', { C: capabilities }, 'true false'],
    ['digs a nested value, or gives the default where a key is missing', '{{ dig "a" "b" 1 . }} {{ dig "a" "c" 2 . }} {{ dig "x" "y" "none" . }}', { a: { b: 'B' } }, 'B 2 none'],
    ['tells whether a map has a key, even one holding an empty value', '{{ hasKey . "a" }} {{ hasKey . "b" }}', { a: '' }, 'true false'],
  ])('%s', (_what, text, data, expected) => {
    expect(render(text, data)).toBe(expected);
  });

  it.each([
    ['compares a float64 value with an int literal, as Helm fails to', '{{ if gt .n 1 }}{{ end }}', { n: 2 }, 'incompatible types'],
    ['reads a field of a missing value', '{{ .a.b }}', {}, 'nil pointer evaluating'],
    ['calls a function it does not know', '{{ frobnicate 1 }}', {}, 'not defined'],
    ['digs through something that is not a map', '{{ dig "a" "b" 1 . }}', { a: 'text' }, 'dig: b of string'],
    ['fails, with the message the chart gives', '{{ fail "bowline.natsReplicas: too many" }}', {}, 'execution error: bowline.natsReplicas: too many'],
  ])('fails when a template %s', (_what, text, data, message) => {
    expect(() => render(text, data)).toThrow(TemplateError);
    expect(() => render(text, data)).toThrow(message);
  });
});

describe("Helm's merge of values", () => {
  const defaults: Values = { podSecurityContext: { runAsUser: 65532, fsGroup: 65532 }, image: { tag: '' } };

  it.each([
    ['drops a map of defaults the user sets to null', [{ podSecurityContext: null }], { image: { tag: '' } }],
    ['keeps the defaults under a map the user sets to {}', [{ podSecurityContext: {} }], defaults],
    ['drops a single default set to null deep in a map', [{ podSecurityContext: { fsGroup: null } }], { podSecurityContext: { runAsUser: 65532 }, image: { tag: '' } }],
    // helm merges the -f files first, a later one winning, and only then coalesces with values.yaml.
    ['lets a later file give back a map an earlier one nulled, merged with the defaults', [{ podSecurityContext: null }, { podSecurityContext: { fsGroup: 7 } }], { podSecurityContext: { runAsUser: 65532, fsGroup: 7 }, image: { tag: '' } }],
    ['lets a later file null what an earlier one set', [{ image: { tag: 'x' } }, { podSecurityContext: null }], { image: { tag: 'x' } }],
  ])('%s', (_what, files, expected) => {
    expect(coalesceValues(defaults, (files as Values[]).reduce(mergeUserValues, {}))).toEqual(expected);
  });
});
