import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { BowlineError } from '@bowline/observability';
import { LabelSelectorError, parseLabelSelector, selectorsOverlap } from '../src/index.js';

// metal3's config is among libs/config's fixtures of real Prow configs.
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'config', 'test', 'fixtures');

interface Metal3Config {
  deck: { external_agent_logs: { selector: string }[] };
  jenkins_operators: { label_selector: string }[];
  presubmits: Record<string, { name: string; labels: Record<string, string> }[]>;
}

describe('the label selectors of metal3-io/project-infra', () => {
  const config = parse(readFileSync(join(fixtures, 'metal3-jenkins.yaml'), 'utf8')) as Metal3Config;
  const operatorSelector = parseLabelSelector(config.jenkins_operators[0]!.label_selector);
  const ociSelector = parseLabelSelector(config.deck.external_agent_logs[0]!.selector);
  const job = config.presubmits['metal3-io/baremetal-operator']![0]!;

  it('reads the default operator as "no jenkins_operator label" and deck as "the oci operator"', () => {
    expect(operatorSelector.requirements).toEqual([{ key: 'jenkins_operator', operator: '!', values: [] }]);
    expect(ociSelector.requirements).toEqual([{ key: 'jenkins_operator', operator: '=', values: ['oci'] }]);
  });

  it('leaves the job labelled for the oci Jenkins to the oci operator, not the default one', () => {
    expect(job.labels).toEqual({ jenkins_operator: 'oci' });
    expect(operatorSelector.matches(job.labels)).toBe(false);
    expect(ociSelector.matches(job.labels)).toBe(true);
  });

  it('gives an unlabelled job to the default operator only', () => {
    const labels = { 'created-by-prow': 'true', 'prow.k8s.io/type': 'presubmit', 'prow.k8s.io/job': job.name };
    expect(operatorSelector.matches(labels)).toBe(true);
    expect(ociSelector.matches(labels)).toBe(false);
  });

  it('finds that the two can never claim the same job', () => {
    expect(selectorsOverlap(operatorSelector, ociSelector)).toBe(false);
  });
});

describe('label selectors matched against label sets', () => {
  it.each([
    // [selector, labels, matches]
    ['', {}, true],
    ['', { a: '1' }, true],
    ['   ', { a: '1' }, true],
    ['!jenkins_operator', {}, true],
    ['!jenkins_operator', { jenkins_operator: 'oci' }, false],
    ['!jenkins_operator', { jenkins_operator: '' }, false],
    ['jenkins_operator=oci', { jenkins_operator: 'oci' }, true],
    ['jenkins_operator=oci', { jenkins_operator: 'nordix' }, false],
    ['jenkins_operator=oci', {}, false],
    ['jenkins_operator==oci', { jenkins_operator: 'oci' }, true],
    ['jenkins_operator==oci', { jenkins_operator: 'OCI' }, false],
    ['jenkins_operator!=oci', {}, true],
    ['jenkins_operator!=oci', { jenkins_operator: 'nordix' }, true],
    ['jenkins_operator!=oci', { jenkins_operator: 'oci' }, false],
    ['env in (prod,staging)', { env: 'staging' }, true],
    ['env in (prod,staging)', { env: 'dev' }, false],
    ['env in (prod,staging)', {}, false],
    ['env notin (prod,staging)', {}, true],
    ['env notin (prod,staging)', { env: 'dev' }, true],
    ['env notin (prod,staging)', { env: 'prod' }, false],
    ['tier', { tier: '' }, true],
    ['tier', {}, false],
    ['a=', { a: '' }, true],
    ['a=', { a: 'x' }, false],
    ['x in (foo,,baz)', { x: '' }, true],
    ['x in (foo,,baz)', { x: 'bar' }, false],
    ['x notin ()', { x: '' }, false],
    ['x notin ()', { x: 'a' }, true],
    ['replicas>5', { replicas: '6' }, true],
    ['replicas>5', { replicas: '5' }, false],
    ['replicas>5', { replicas: 'six' }, false],
    ['replicas>5', {}, false],
    ['replicas<5', { replicas: '4' }, true],
    ['replicas<5', { replicas: '05' }, false],
    ['replicas<5', { replicas: '-1' }, true],
    ['replicas<5', { replicas: '9223372036854775808' }, false],
    ['a=1,b=2', { a: '1', b: '2', c: '3' }, true],
    ['a=1,b=2', { a: '1' }, false],
    [' a = 1 ,\tb in ( x , y ) ', { a: '1', b: 'y' }, true],
    [' a = 1 ,\tb in ( x , y ) ', { a: '1', b: 'z' }, false],
    ['prow.k8s.io/type=periodic', { 'prow.k8s.io/type': 'periodic' }, true],
    ['prow.k8s.io/type=periodic', { type: 'periodic' }, false],
    ['in in (in,notin)', { in: 'notin' }, true],
    ['in in (in,notin)', { in: 'out' }, false],
    ['!constructor', {}, true],
    ['constructor', {}, false],
  ])('%j on %j matches: %s', (text, labels, expected) => {
    expect(parseLabelSelector(text).matches(labels as Record<string, string>)).toBe(expected);
  });
});

describe('label selectors parsed into requirements', () => {
  it.each([
    // [selector, requirements]
    ['', []],
    ['!a', [{ key: 'a', operator: '!', values: [] }]],
    ['a', [{ key: 'a', operator: 'exists', values: [] }]],
    ['b=2,a in (z,y,y)', [{ key: 'a', operator: 'in', values: ['y', 'z'] }, { key: 'b', operator: '=', values: ['2'] }]],
    ['a==1,a!=2', [{ key: 'a', operator: '==', values: ['1'] }, { key: 'a', operator: '!=', values: ['2'] }]],
    ['a notin (,x)', [{ key: 'a', operator: 'notin', values: ['', 'x'] }]],
    ['a>10,a<20', [{ key: 'a', operator: 'gt', values: ['10'] }, { key: 'a', operator: 'lt', values: ['20'] }]],
  ])('reads %j as %j', (text, requirements) => {
    const selector = parseLabelSelector(text);
    expect(selector.requirements).toEqual(requirements);
    expect(selector.empty).toBe(requirements.length === 0);
    expect(selector.text).toBe(text);
  });
});

describe('label selectors accepted at the limits of keys and values', () => {
  it.each([
    ['x'.repeat(63)],
    [`${'a'.repeat(253)}/name`],
    [`key=${'v'.repeat(63)}`],
    ['A_b.c-D=X_y.z-9'],
    ['example.com/MyName'],
    ['a>0'],
    ['a<9223372036854775807'],
  ])('accepts %j', (text) => {
    expect(parseLabelSelector(text).empty).toBe(false);
  });
});

describe('label selectors refused with apimachinery wording', () => {
  it.each([
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a=b=c', "found '=', expected: ',' or 'end of string'"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    ['a,', "found '', expected: identifier after ','"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['!!a', "unable to parse requirement: found '!', expected: identifier"],
    ['a ~ b', "unable to parse requirement: found '~', expected: in, notin, =, ==, !=, gt, lt"],
    ['a in', "unable to parse requirement: found '' expected: '('"],
    ['a in (b', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a in (b c)', "unable to parse requirement: found 'c', expected: ',' or ')'"],
    ['a in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['a in (,=)', "unable to parse requirement: found '=', expected: ',', or identifier"],
    ['a=(b)', "unable to parse requirement: found '(', expected: identifier"],
    ['a>b', "values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer"],
    ['a>', "for 'Gt', 'Lt' operators, the value must be an integer"],
    ['a<9223372036854775808', "for 'Gt', 'Lt' operators, the value must be an integer"],
    ['a>-1', 'values[0][a]: Invalid value: "-1": a valid label must be an empty string or consist of alphanumeric characters'],
    ['a=b_', 'Invalid value: "b_": a valid label must be an empty string'],
    [`a=${'v'.repeat(64)}`, 'must be no more than 63 characters'],
    ['-a=b', 'key: Invalid value: "-a": name part must consist of alphanumeric characters'],
    ['Example.com/a', 'prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters'],
    ['/a', 'prefix part must be non-empty'],
    ['a/', 'name part must be non-empty'],
    ['a/b/c', 'a qualified name must consist of alphanumeric characters'],
    ['x'.repeat(64), 'name part must be no more than 63 characters'],
    [`${'a'.repeat(254)}/name`, 'prefix part must be no more than 253 characters'],
    ['é=1', 'key: Invalid value: "é": name part must consist'],
  ])('refuses %j: %s', (text, message) => {
    expect(() => parseLabelSelector(text)).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector(text)).toThrow(message);
  });

  it('names the selector in a BowlineError', () => {
    let caught: unknown;
    try {
      parseLabelSelector('a=b c');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BowlineError);
    expect((caught as LabelSelectorError).message).toBe(
      `invalid label selector "a=b c": found 'c', expected: ',' or 'end of string'`,
    );
    expect((caught as LabelSelectorError).context).toEqual({ selector: 'a=b c' });
  });
});

describe('whether two selectors could claim the same job', () => {
  it.each([
    // [a, b, overlap]
    ['master=a', 'master=b', false],
    ['master=a', 'master=a', true],
    ['master=a', 'master==a', true],
    ['!jenkins_operator', 'jenkins_operator=oci', false],
    ['!jenkins_operator', 'jenkins_operator!=oci', true],
    ['!jenkins_operator', 'jenkins_operator notin (oci)', true],
    ['!jenkins_operator', 'jenkins_operator', false],
    ['!jenkins_operator', '', true],
    ['', '', true],
    ['a=1', 'b=2', true],
    ['env in (a,b)', 'env in (b,c)', true],
    ['env in (a,b)', 'env in (c,d)', false],
    ['env in (a,b)', 'env notin (a,b)', false],
    ['env in (a,b)', 'env notin (a)', true],
    ['env=a', 'env!=a', false],
    ['env', 'env!=a', true],
    ['x>5', 'x<6', false],
    ['x>5', 'x<7', true],
    ['x>5', 'x in (7,a)', true],
    ['x>5', 'x=a', false],
    ['x<0', 'x', false],
    // "06" is 6 too, so excluding the spelling "6" leaves the number free.
    ['x>5,x notin (6)', 'x<7', true],
    // One selector that can match nothing overlaps nothing.
    ['a=1,a=2', '', false],
  ])('%j and %j overlap: %s', (a, b, expected) => {
    expect(selectorsOverlap(parseLabelSelector(a), parseLabelSelector(b))).toBe(expected);
    expect(selectorsOverlap(parseLabelSelector(b), parseLabelSelector(a))).toBe(expected);
  });
});
