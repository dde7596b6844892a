import { describe, expect, it } from '@jest/globals';
import { compileGoRegexp, RegexpTranslationError } from '../src/go-regexp.js';

describe('Go RE2 patterns compiled for JavaScript', () => {
  it.each([
    // [pattern, text, matches]
    ['(?m)^/test all,?($|\\s.*)', 'looks good\n/test all', true],
    ['(?m)^/test all,?($|\\s.*)', 'please /test all', false],
    ['^/test all', 'looks good\n/test all', false],
    ['((?m)^/test( all| gcp),?(\\s+|$))', 'lgtm\n/test gcp\nthanks', true],
    ['((?m)^/test( all| gcp),?(\\s+|$))', '/test gcpx', false],
    ['(?m)^/test( | .* )unit,?($|\\s.*)', '/test lint unit', true],
    ['(?m)^/test( | .* )unit,?($|\\s.*)', '/test unittest', false],
    ['(?i)^/TEST', '/test', true],
    ['(?s)a.b', 'a\nb', true],
    ['a.b', 'a\nb', false],
    ['a.b', 'a\rb', true],
    ['\\Aabc\\z', 'abc', true],
    ['\\Aabc\\z', 'abc\n', false],
    ['(?P<word>\\w+)!', 'hi!', true],
    ['[[:digit:]]+', 'x42', true],
    ['[[:alpha:]]', '123', false],
    ['^(pkg/cmd/server/bootstrappolicy)|^(cmd/service-catalog)', 'cmd/service-catalog/main.go', true],
    ['main', 'main-2', true],
    ['release-.*', 'release-3.9', true],
    ['\\Qa.b\\E', 'axb', false],
    ['\\Qa.b\\E', 'a.b', true],
    // A partial (?i) folds ASCII letters by hand.
    ['a(?i)bc', 'aBC', true],
    ['a(?i)bc', 'ABC', false],
    ['x((?i)[a-c]+)y', 'xAbCy', true],
    ['x((?i)[a-c]+)y', 'xAbCY', false],
    ['(?i:ok)-TO', 'OK-TO', true],
    ['(?i:ok)-TO', 'OK-to', false],
  ])('%s on %j matches: %s', (pattern, text, expected) => {
    expect(compileGoRegexp(pattern).test(text)).toBe(expected);
  });

  it('keeps capture group names written the Go way', () => {
    expect(compileGoRegexp('(?P<job>[a-z]+)').exec('unit')?.groups?.job).toBe('unit');
  });

  it.each([
    ['a(?i)[0-z]', 'range 0-z under (?i)'],
    ['(?U)a+', 'ungreedy'],
    ['\\pL', 'Unicode class'],
    ['[[:bogus:]]', 'unknown character class'],
    ['(ab', 'unbalanced'],
    ['[ab', 'unterminated'],
  ])('refuses %s, naming the construct (%s)', (pattern, words) => {
    expect(() => compileGoRegexp(pattern)).toThrow(RegexpTranslationError);
    expect(() => compileGoRegexp(pattern)).toThrow(words);
  });
});
