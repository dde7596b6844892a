import { describe, expect, it } from '@jest/globals';
import { pushTo } from '../src/collections.js';

describe('pushTo', () => {
  it('groups values by key in order, adding to the same list in place', () => {
    const groups = new Map<string, number[]>();
    pushTo(groups, 'a', 1);
    const first = groups.get('a');
    pushTo(groups, 'b', 2);
    pushTo(groups, 'a', 3);
    expect([...groups]).toEqual([
      ['a', [1, 3]],
      ['b', [2]],
    ]);
    expect(groups.get('a')).toBe(first);
  });
});
