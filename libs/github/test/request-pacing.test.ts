import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { rateLimitOf, SECONDARY_FALLBACK_SECONDS, type RateLimit } from '../src/rate-limits.js';
import { MAX_IN_FLIGHT, RequestPacer } from '../src/request-pacing.js';
import { isServerError, serverRetryDelayMs } from '../src/server-retries.js';
import { paceFor, requestKind, WRITE_BURST, type RequestKind } from '../src/write-pacing.js';

// The pieces of the request hook on their own, where a clock of the test's own makes the timings
// exact; request-hook.test.ts runs them together against the test GitHub.

describe('requestKind', () => {
  it.each<[string, string, RequestKind]>([
    ['GET', '/repos/{owner}/{repo}/pulls/{pull_number}', 'read'],
    ['HEAD', '/repos/acme/widgets', 'read'],
    ['GET', '/search/issues', 'search'],
    ['POST', '/repos/{owner}/{repo}/statuses/{sha}', 'write'],
    ['POST', '/repos/{owner}/{repo}/issues/{issue_number}/labels', 'write'],
    ['PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}', 'write'],
    ['DELETE', '/repos/acme/widgets/issues/comments/12', 'write'],
    ['POST', '/repos/{owner}/{repo}/issues/{issue_number}/comments', 'notifying-write'],
    ['POST', '/repos/acme/widgets/issues/7/comments', 'notifying-write'],
    ['POST', '/repos/acme/widgets/pulls/7/reviews', 'notifying-write'],
    ['PUT', '/repos/acme/widgets/pulls/7/merge', 'notifying-write'],
    ['POST', '/repos/acme/widgets/issues', 'notifying-write'],
  ])('%s %s is a %s', (method, path, kind) => {
    expect(requestKind(method, path)).toBe(kind);
  });
});

describe('rateLimitOf', () => {
  const now = 1_700_000_000_000;
  const refusal = (status: number, headers: Record<string, string>) => ({ status, response: { headers } });
  it.each<[string, unknown, RateLimit | undefined]>([
    ['a 403 with retry-after: secondary, that long', refusal(403, { 'retry-after': '7', 'x-ratelimit-remaining': '4000' }), { kind: 'secondary', waitSeconds: 7 }],
    ['a 429 with retry-after: secondary', refusal(429, { 'retry-after': '2' }), { kind: 'secondary', waitSeconds: 2 }],
    ['a 429 with neither header: secondary, a minute', refusal(429, {}), { kind: 'secondary', waitSeconds: SECONDARY_FALLBACK_SECONDS }],
    [
      'a 403 with x-ratelimit-remaining 0: primary, until the reset and a second',
      refusal(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 30), 'x-ratelimit-resource': 'core' }),
      { kind: 'primary', waitSeconds: 31, resource: 'core' },
    ],
    ['a primary limit whose reset has passed: a second', refusal(429, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 - 5) }), { kind: 'primary', waitSeconds: 0 }],
    ['a search quota spent: primary, of the search resource', refusal(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000), 'x-ratelimit-resource': 'search' }), { kind: 'primary', waitSeconds: 1, resource: 'search' }],
    ['a 403 with neither header: a refusal, no limit', refusal(403, { 'x-ratelimit-remaining': '4000' }), undefined],
    ['a 500: no limit', refusal(500, { 'retry-after': '1' }), undefined],
    ['an error with no status: no limit', new Error('socket hang up'), undefined],
  ])('%s', (_, error, expected) => {
    expect(rateLimitOf(error, now)).toEqual(expected);
  });
});

describe('server retries', () => {
  it.each([
    [500, true],
    [502, true],
    [503, true],
    [404, false],
    [429, false],
    [undefined, false],
  ])('a %s is retried: %s', (status, retried) => {
    expect(isServerError({ status })).toBe(retried);
  });

  it('waits 1, 4, 9 units before the first, second and third retry', () => {
    expect([0, 1, 2].map((n) => serverRetryDelayMs(n, 1000))).toEqual([1000, 4000, 9000]);
  });
});

describe('RequestPacer', () => {
  // Fake timers move Date.now and fire the pacer's one timer, so a pace of seconds takes none.
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** A pacer, and the order its requests were let go in: at once (`ask` says true) or later. */
  function pacerFor(writeIntervalMs: number | undefined) {
    const pacer = new RequestPacer(paceFor(writeIntervalMs));
    const released: string[] = [];
    const ask = (name: string, kind: RequestKind, again = false): boolean => {
      const wait = pacer.admit(kind, again);
      if (!wait) {
        released.push(name);
        return true;
      }
      void wait.then(() => released.push(name));
      return false;
    };
    return { pacer, released, ask, advance: (ms: number) => jest.advanceTimersByTimeAsync(ms) };
  }

  it('admits a request with nothing to wait for where it is asked: no promise, no timer', () => {
    const { pacer, ask } = pacerFor(1000);
    expect(Array.from({ length: WRITE_BURST }, (_, i) => ask(`write ${i}`, 'write'))).toEqual(Array(WRITE_BURST).fill(true));
    expect(jest.getTimerCount()).toBe(0);
    expect(ask('an eleventh in flight', 'read')).toBe(false);
    for (let i = 0; i < WRITE_BURST; i += 1) pacer.done();
  });

  it.each([
    { interval: 0, atOnce: 30, then: [] as number[], what: 'an interval of 0 paces nothing' },
    { interval: 1000, atOnce: WRITE_BURST, then: [1000, 1000], what: 'a burst of WRITE_BURST, then one an interval' },
    { interval: 100, atOnce: WRITE_BURST, then: [100, 100, 100], what: 'a shorter interval, the same burst' },
    { interval: undefined, atOnce: 1, then: [1000, 1000], what: 'unset: one a second, no burst' },
  ])('$what', async ({ interval, atOnce, then }) => {
    const { pacer, released, ask, advance } = pacerFor(interval);
    const names = Array.from({ length: atOnce + then.length }, (_, i) => `w${i}`);
    for (const name of names) if (ask(name, 'write')) pacer.done();
    await advance(0);
    expect(released).toEqual(names.slice(0, atOnce));
    for (const [i, gap] of then.entries()) {
      await advance(gap - 1);
      expect(released).toHaveLength(atOnce + i);
      await advance(1);
      expect(released).toEqual(names.slice(0, atOnce + i + 1));
      pacer.done();
    }
  });

  it('spaces comments three intervals apart, in order, and lets a write asked after a waiting comment pass it', async () => {
    const { released, ask, advance } = pacerFor(100);
    ask('comment 1', 'notifying-write');
    ask('comment 2', 'notifying-write');
    ask('status', 'write');
    ask('comment 3', 'notifying-write');
    await advance(0);
    expect(released).toEqual(['comment 1', 'status']);
    await advance(299);
    expect(released).toEqual(['comment 1', 'status']);
    await advance(1);
    expect(released).toEqual(['comment 1', 'status', 'comment 2']);
    await advance(300);
    expect(released).toEqual(['comment 1', 'status', 'comment 2', 'comment 3']);
  });

  it('holds a write behind a waiting comment when the write has no token either', async () => {
    const { pacer, released, ask, advance } = pacerFor(100);
    ask('comment 1', 'notifying-write');
    pacer.done();
    for (let i = 1; i < WRITE_BURST; i += 1) if (ask(`w${i}`, 'write')) pacer.done();
    ask('comment 2', 'notifying-write');
    ask('status', 'write');
    await advance(99);
    expect(released.slice(WRITE_BURST)).toEqual([]);
    await advance(1);
    // One token came: the status takes it; the comment before it still waits for its spacing.
    expect(released.slice(WRITE_BURST)).toEqual(['status']);
    await advance(200);
    expect(released.slice(WRITE_BURST)).toEqual(['status', 'comment 2']);
  });

  it('puts a request going again after a wait at the front of its line', async () => {
    const { pacer, released, ask, advance } = pacerFor(1000);
    for (let i = 0; i < WRITE_BURST; i += 1) if (ask(`w${i}`, 'write')) pacer.done();
    ask('asked later', 'write');
    ask('going again', 'write', true);
    await advance(1000);
    expect(released.slice(WRITE_BURST)).toEqual(['going again']);
    await advance(1000);
    expect(released.slice(WRITE_BURST)).toEqual(['going again', 'asked later']);
  });

  it(`keeps at most ${MAX_IN_FLIGHT} in flight and lets the rest go first asked, first served`, async () => {
    const { pacer, released, ask, advance } = pacerFor(0);
    for (let i = 0; i < MAX_IN_FLIGHT + 3; i += 1) ask(`r${i}`, i % 2 === 0 ? 'read' : 'write');
    await advance(0);
    expect(released).toHaveLength(MAX_IN_FLIGHT);
    pacer.done();
    pacer.done();
    await advance(0);
    expect(released.slice(MAX_IN_FLIGHT)).toEqual([`r${MAX_IN_FLIGHT}`, `r${MAX_IN_FLIGHT + 1}`]);
  });

  it('holds every request of the identity while a primary limit lasts, then lets them go in order', async () => {
    const { pacer, released, ask, advance } = pacerFor(0);
    pacer.holdUntil(Date.now() + 5_000);
    expect(ask('read', 'read')).toBe(false);
    expect(ask('write', 'write')).toBe(false);
    await advance(4_999);
    expect(released).toEqual([]);
    await advance(1);
    expect(released).toEqual(['read', 'write']);
  });
});
