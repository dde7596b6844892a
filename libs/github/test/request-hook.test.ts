import { afterAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { createLogger } from '@bowline/observability';
import { FakeGitHub, type RecordedRequest } from '@bowline/testing';
import { resilientOctokit, type ResilienceOptions } from '../src/resilience.js';
import { WRITE_BURST } from '../src/write-pacing.js';
import { MAX_IN_FLIGHT } from '../src/request-pacing.js';

// Bowline's request hook (resilience.ts) against the test GitHub, one scenario a row. Each row has
// its own identity (service name) and repository, so the rows run side by side without pacing or
// holding each other; the timings asserted are lower bounds the pace guarantees, and upper bounds
// only where the alternative (no burst, no concurrency) would be several times slower.
const gh = await FakeGitHub.start();
afterAll(() => gh.close());

const owner = 'acme';
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const logger = createLogger({ service: 'request-hook-test', level: 'silent' });
let nextRepo = 1;

/** A resilient client of its own identity, on a repository of its own with one pull request. */
function scene(options: Partial<ResilienceOptions> = {}) {
  const n = nextRepo++;
  const repo = `hook-${n}`;
  const sha = n.toString(16).padStart(40, '0');
  gh.addPullRequest({ org: owner, repo, number: 1, author: 'alice', headSha: sha });
  const GitHub = resilientOctokit({ logger, service: `request-hook-${n}`, ...options });
  // When each request left the client, seen from inside the hook's `request`: what pacing decides.
  // The fake's own record is when it answered, which a slow answer moves.
  const sent: Sent[] = [];
  const recordingFetch = (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const { pathname } = new URL(String(url));
    sent.push({ at: Date.now(), method: init?.method ?? 'GET', path: pathname, body: typeof init?.body === 'string' ? init.body : '' });
    return fetch(url, init);
  };
  const octokit = new GitHub({ auth: 'test-token', baseUrl: gh.url, log: quiet, request: { fetch: recordingFetch } });
  const statusesPath = `/repos/${owner}/${repo}/statuses/${sha}`;
  const commentsPath = `/repos/${owner}/${repo}/issues/1/comments`;
  const pullPath = (number = 1) => `/repos/${owner}/${repo}/pulls/${number}`;
  return {
    octokit,
    repo,
    statusesPath,
    commentsPath,
    pullPath,
    postStatus: (context: string) => octokit.rest.repos.createCommitStatus({ owner, repo, sha, state: 'pending', context }),
    comment: (body: string) => octokit.rest.issues.createComment({ owner, repo, issue_number: 1, body }),
    getPull: (number = 1) => octokit.rest.pulls.get({ owner, repo, pull_number: number }),
    seen: (path: string | RegExp, method?: string): RecordedRequest[] => gh.requestsTo({ path, ...(method ? { method } : {}) }),
    rateLimited: async (): Promise<number> => {
      const metric = options.registry?.getSingleMetric('bowline_github_rate_limited_total');
      return metric ? (await metric.get()).values.reduce((sum, v) => sum + v.value, 0) : 0;
    },
    sentTo: (path: string, method: string): Sent[] => sent.filter((r) => r.path === path && r.method === method),
    sentMatching: (path: RegExp, method: string): Sent[] => sent.filter((r) => path.test(r.path) && r.method === method),
    sentContexts: (): string[] => sent.filter((r) => r.path === statusesPath).map((r) => (JSON.parse(r.body) as { context: string }).context),
  };
}
type Scene = ReturnType<typeof scene>;

interface Sent {
  at: number;
  method: string;
  path: string;
  body: string;
}

const failureOf = async (call: Promise<unknown>): Promise<{ status?: number }> => {
  try {
    await call;
  } catch (error) {
    return error as { status?: number };
  }
  throw new Error('expected the call to fail');
};

const waitUntil = (what: string, done: () => boolean): Promise<void> => waitUntilAsync(what, async () => done());

const waitUntilAsync = async (what: string, done: () => Promise<boolean>): Promise<void> => {
  for (const deadline = Date.now() + 10_000; !(await done()); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** When GitHub's `x-ratelimit-reset` for a refusal answered at `at` was: the fake counts whole seconds. */
const resetAfter = (at: number): number => (Math.floor(at / 1000) + 1) * 1000;

interface Row {
  name: string;
  options: Partial<ResilienceOptions>;
  run: (s: Scene) => Promise<void>;
}

const writes: Row[] = [
  {
    name: 'sends a burst of WRITE_BURST writes at once, then one an interval',
    options: { writeIntervalMs: 400 },
    run: async (s) => {
      const started = Date.now();
      await Promise.all(Array.from({ length: WRITE_BURST + 3 }, (_, i) => s.postStatus(`ci/${i}`)));
      expect(s.seen(s.statusesPath, 'POST').map((r) => r.status)).toEqual(Array(WRITE_BURST + 3).fill(201));
      const at = s.sentTo(s.statusesPath, 'POST').map((r) => r.at - started);
      // The burst leaves together; one an interval would put the tenth at 3.6 s.
      expect(at[WRITE_BURST - 1]! - at[0]!).toBeLessThan(400);
      // Then the k-th write past the burst waits for the k-th token, k intervals after the burst.
      // (A stalled event loop may let two go together once their tokens are both due, never sooner.)
      for (let k = 1; k <= 3; k += 1) expect(at[WRITE_BURST + k - 1]!).toBeGreaterThanOrEqual(k * 400);
    },
  },
  {
    name: 'spaces comment creation three intervals apart, and a write asked after a waiting comment passes it',
    options: { writeIntervalMs: 100 },
    run: async (s) => {
      const first = s.comment('first');
      const second = s.comment('second');
      const after = s.postStatus('ci/after-second');
      const third = s.comment('third');
      await Promise.all([first, second, after, third]);
      expect(s.seen(s.commentsPath, 'POST').map((r) => r.status)).toEqual([201, 201, 201]);
      const comments = s.sentTo(s.commentsPath, 'POST').map((r) => r.at);
      expect(comments[1]! - comments[0]!).toBeGreaterThanOrEqual(295);
      expect(comments[2]! - comments[1]!).toBeGreaterThanOrEqual(295);
      // Tokens were there for the status at once: it did not wait for the second comment's spacing.
      expect(s.sentTo(s.statusesPath, 'POST')[0]!.at).toBeLessThan(comments[1]!);
    },
  },
  {
    name: 'sends the writes of one identity in the order they were asked for',
    options: { writeIntervalMs: 100 },
    run: async (s) => {
      const contexts = Array.from({ length: WRITE_BURST + 6 }, (_, i) => `ci/${String(i).padStart(2, '0')}`);
      await Promise.all(contexts.map((context) => s.postStatus(context)));
      expect(s.sentContexts()).toEqual(contexts);
      // Past the burst each write has an interval to itself, so GitHub sees those in that order too
      // (the burst's arrive together, in whatever order the connections deliver them).
      const paced = new Set(contexts.slice(WRITE_BURST));
      const seen = s.seen(s.statusesPath, 'POST').map((r) => (JSON.parse(r.body) as { context: string }).context);
      expect(seen.filter((context) => paced.has(context))).toEqual(contexts.slice(WRITE_BURST));
    },
  },
  {
    name: 'paces nothing at an interval of 0: writes and comments leave together',
    options: { writeIntervalMs: 0 },
    run: async (s) => {
      const asked = [s.comment('one'), s.postStatus('ci/a'), s.comment('two'), s.postStatus('ci/b'), s.comment('three')];
      await Promise.all(asked);
      expect(s.seen(s.statusesPath, 'POST')).toHaveLength(2);
      expect(s.seen(s.commentsPath, 'POST')).toHaveLength(3);
      // All five leave in the one turn of the event loop they were asked in (no timer between
      // them); paced even at 100 ms, the third comment would leave 600 ms after the first.
      const sent = [...s.sentTo(s.commentsPath, 'POST'), ...s.sentTo(s.statusesPath, 'POST')].map((r) => r.at);
      expect(Math.max(...sent) - Math.min(...sent)).toBeLessThan(100);
    },
  },
  {
    name: `lets at most ${MAX_IN_FLIGHT} requests of an identity be in flight, the rest in the order asked`,
    options: { writeIntervalMs: 0 },
    run: async (s) => {
      const count = 25;
      const delayMs = 400;
      for (let n = 2; n <= count; n += 1) gh.addPullRequest({ org: owner, repo: s.repo, number: n, author: 'alice', headSha: 'e'.repeat(40) });
      gh.inject({ method: 'GET', path: new RegExp(`^/repos/${owner}/${s.repo}/pulls/\\d+$`) }, { delayMs, times: count });
      const started = Date.now();
      await Promise.all(Array.from({ length: count }, (_, i) => s.getPull(i + 1)));
      const pulls = new RegExp(`^/repos/${owner}/${s.repo}/pulls/(\\d+)$`);
      const sent = s.sentMatching(pulls, 'GET').map((r) => ({ at: r.at - started, pull: Number(pulls.exec(r.path)![1]) }));
      const answered = s.seen(pulls, 'GET').map((r) => r.at - started).sort((a, b) => a - b);
      // Ten leave together, in the turn they were asked in, before any answer could be back.
      expect(sent[MAX_IN_FLIGHT - 1]!.at - sent[0]!.at).toBeLessThan(delayMs);
      // The eleventh only once one of the first ten was answered; the rest in the order asked.
      expect(sent[MAX_IN_FLIGHT]!.at).toBeGreaterThanOrEqual(delayMs);
      expect(answered[MAX_IN_FLIGHT]!).toBeGreaterThanOrEqual(2 * delayMs);
      expect(answered[2 * MAX_IN_FLIGHT]!).toBeGreaterThanOrEqual(3 * delayMs);
      expect(sent.slice(MAX_IN_FLIGHT).map((r) => r.pull)).toEqual(Array.from({ length: count - MAX_IN_FLIGHT }, (_, i) => MAX_IN_FLIGHT + 1 + i));
    },
  },
];

const limits: Row[] = [
  {
    name: 'waits out a primary limit until the reset, and holds the identity’s other requests until then too',
    options: { writeIntervalMs: 0, registry: new Registry() },
    run: async (s) => {
      gh.rateLimit({ method: 'POST', path: s.statusesPath }, { kind: 'primary', resetInSeconds: 1, times: 1 });
      const limited = s.postStatus('ci/limited');
      // Once the client has judged the refusal (counted it), not merely once the fake sent it.
      await waitUntilAsync('the refusal judged', async () => (await s.rateLimited()) === 1);
      const refusedAt = s.seen(s.statusesPath, 'POST')[0]!.at;
      await Promise.all([limited, s.getPull()]);
      expect(s.seen(s.statusesPath, 'POST').map((r) => r.status)).toEqual([403, 201]);
      expect(s.seen(s.statusesPath, 'POST')[1]!.at).toBeGreaterThanOrEqual(resetAfter(refusedAt));
      expect(s.seen(s.pullPath(), 'GET')[0]!.at).toBeGreaterThanOrEqual(resetAfter(refusedAt));
    },
  },
  {
    name: 'gives up on a primary limit longer than maxRateLimitWaitMs at once, and holds nothing else',
    options: { writeIntervalMs: 0, maxRateLimitWaitMs: 1000 },
    run: async (s) => {
      gh.rateLimit({ method: 'POST', path: s.statusesPath }, { kind: 'primary', resetInSeconds: 120, times: 1 });
      const started = Date.now();
      expect((await failureOf(s.postStatus('ci/limited'))).status).toBe(403);
      expect((await s.getPull()).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(s.seen(s.statusesPath, 'POST').map((r) => r.status)).toEqual([403]);
    },
  },
  {
    name: 'waits out a secondary limit for retry-after, holding back only the request that met it',
    options: { writeIntervalMs: 0 },
    run: async (s) => {
      gh.rateLimit({ method: 'POST', path: s.statusesPath }, { kind: 'secondary', status: 429, retryAfterSeconds: 1, times: 1 });
      const limited = s.postStatus('ci/limited');
      await waitUntil('the refusal', () => s.seen(s.statusesPath, 'POST').length === 1);
      await s.getPull();
      await limited;
      const [refused, retried] = s.seen(s.statusesPath, 'POST');
      expect([refused!.status, retried!.status]).toEqual([429, 201]);
      expect(retried!.at - refused!.at).toBeGreaterThanOrEqual(950);
      // The read asked after the refusal left before the retry did.
      expect(s.sentTo(s.pullPath(), 'GET')[0]!.at).toBeLessThan(s.sentTo(s.statusesPath, 'POST')[1]!.at);
    },
  },
];

const serverErrors: Row[] = [
  {
    name: 'retries a 5xx after 1, 4 … units of retryBaseMs, and the write arrives',
    options: { writeIntervalMs: 0, retryBaseMs: 50 },
    run: async (s) => {
      gh.inject({ method: 'POST', path: s.statusesPath }, { status: 503, body: { message: 'Service Unavailable' }, times: 2 });
      expect((await s.postStatus('ci/retried')).status).toBe(201);
      const seen = s.seen(s.statusesPath, 'POST');
      expect(seen.map((r) => r.status)).toEqual([503, 503, 201]);
      expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(45);
      expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(195);
    },
  },
  {
    name: 'fails with the last 5xx once `retries` retries are spent',
    options: { writeIntervalMs: 0, retries: 2, retryBaseMs: 10 },
    run: async (s) => {
      gh.inject({ method: 'GET', path: s.pullPath() }, { status: 502, body: { message: 'Bad Gateway' }, times: 5 });
      expect((await failureOf(s.getPull())).status).toBe(502);
      expect(s.seen(s.pullPath(), 'GET').map((r) => r.status)).toEqual([502, 502, 502]);
    },
  },
  ...[400, 401, 403, 404, 409, 410, 422].map(
    (status): Row => ({
      name: `does not retry a ${status}: one request, the error at once`,
      options: { writeIntervalMs: 0, retryBaseMs: 10 },
      run: async (s) => {
        gh.inject({ method: 'POST', path: s.statusesPath }, { status, body: { message: 'refused' }, times: 1 });
        expect((await failureOf(s.postStatus('ci/refused'))).status).toBe(status);
        expect(s.seen(s.statusesPath, 'POST').map((r) => r.status)).toEqual([status]);
      },
    }),
  ),
];

describe('the request hook against the test GitHub', () => {
  describe('pacing', () => {
    it.concurrent.each(writes)('$name', ({ options, run }) => run(scene(options)), 30_000);
  });
  describe('rate limits', () => {
    it.concurrent.each(limits)('$name', ({ options, run }) => run(scene(options)), 30_000);
  });
  describe('server errors', () => {
    it.concurrent.each(serverErrors)('$name', ({ options, run }) => run(scene(options)), 30_000);
  });
});
