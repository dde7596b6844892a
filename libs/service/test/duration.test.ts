import { describe, expect, it } from '@jest/globals';
import { formatDuration, parseDuration } from '../src/env.js';

describe('formatDuration', () => {
  it.each([
    [48 * 3_600_000, '48h'],
    [90 * 60_000, '1h30m'],
    [125_000, '2m5s'],
    [1000, '1s'],
    [750, '750ms'],
    [0, '0ms'],
    [3_601_400, '1h1s'],
  ])('writes %d ms as %s, which parseDuration reads back', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(Math.round(ms >= 1000 ? Math.round(ms / 1000) * 1000 : ms));
  });
});

describe('Go durations as Prow writes them', () => {
  it.each([
    ['10s', 10_000],
    ['1h', 3_600_000],
    ['168h', 604_800_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'a week', '10', '5d'])('%j is refused', (text) => {
    expect(() => parseDuration(text)).toThrow('is not a duration');
  });
});
