import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { createLogger } from '@bowline/observability';
import { FakeGitHub, type RecordedRequest } from '@bowline/testing';
import { enableConditionalRequests } from '../src/conditional-requests.js';
import { instrumentGitHub, resilientOctokit, type ResilienceOptions } from '../src/resilience.js';
import { WRITE_BURST } from '../src/write-pacing.js';

// The tests run concurrently: waiting out limits is most of their time. Each uses its own commit
// and its own service name, which is also the identity requests are paced by, so no test's writes
// queue behind another's (writes are paced one a second per identity).
const gh = await FakeGitHub.start();
afterAll(() => gh.close());

const owner = 'acme';
const repo = 'widgets';
// octokit logs every failed request; the failures here are the point of the tests.
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
let nextSha = 1;

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A resilient Octokit on the fake, the lines its logger wrote, and a commit of its own. */
function setUp(service: string, options: Partial<ResilienceOptions> = {}) {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const GitHub = resilientOctokit({ logger: createLogger({ service, destination }), service, ...options });
  const octokit = new GitHub({ auth: 'test-token', baseUrl: gh.url, log: quiet });
  const sha = (nextSha++).toString(16).padStart(40, '0');
  const path = `/repos/${owner}/${repo}/statuses/${sha}`;
  const postStatus = (context = 'ci/test', description = 'Job succeeded.') =>
    octokit.rest.repos.createCommitStatus({ owner, repo, sha, state: 'success', context, description });
  const posts = (): RecordedRequest[] => gh.requestsTo({ method: 'POST', path });
  return { octokit, sha, path, postStatus, posts, lines };
}

/** When GitHub's `x-ratelimit-reset` for a refusal answered at `at` was: the fake counts whole seconds. */
const resetAfter = (at: number): number => (Math.floor(at / 1000) + 1) * 1000;

const rejectionOf = async (call: Promise<unknown>): Promise<{ status?: number; message?: string }> => {
  try {
    await call;
  } catch (error) {
    return error as { status?: number; message?: string };
  }
  throw new Error('expected the call to fail');
};

async function valuesOf(registry: Registry, name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values as Array<{ labels: Record<string, string | number>; value: number }>;
}

describe('resilientOctokit', () => {
  it.concurrent.each([
    { status: 403 as const },
    { status: 429 as const },
  ])('waits out a primary rate limit ($status) until x-ratelimit-reset, then the status arrives: no error reaches the caller', async ({ status }) => {
    const registry = new Registry();
    const { postStatus, posts, path, lines, sha } = setUp(`primary-${status}`, { registry });
    gh.rateLimit({ method: 'POST', path }, { kind: 'primary', resetInSeconds: 1, times: 2, status });

    const response = await postStatus();

    expect(response.status).toBe(201);
    const seen = posts();
    expect(seen.map((r) => r.status)).toEqual([status, status, 201]);
    // Never before the reset GitHub named.
    expect(seen[1]!.at).toBeGreaterThanOrEqual(resetAfter(seen[0]!.at));
    expect(seen[2]!.at).toBeGreaterThanOrEqual(resetAfter(seen[1]!.at));
    expect(gh.statuses(owner, repo, sha)).toHaveLength(1);

    const warnings = lines.filter((l) => l.msg.startsWith('GitHub primary rate limit'));
    expect(warnings).toEqual([
      expect.objectContaining({ level: 40, route: 'POST /repos/{owner}/{repo}/statuses/{sha}', repo: `${owner}/${repo}`, retryCount: 0 }),
      expect.objectContaining({ level: 40, route: 'POST /repos/{owner}/{repo}/statuses/{sha}', retryCount: 1 }),
    ]);
    for (const warning of warnings) expect(warning.waitSeconds).toBeGreaterThanOrEqual(1);
    expect(await valuesOf(registry, 'bowline_github_rate_limited_total')).toEqual([
      { labels: { service: `primary-${status}`, kind: 'primary', action: 'wait' }, value: 2 },
    ]);
  });

  it.concurrent.each([
    { status: 403 as const },
    { status: 429 as const },
  ])('waits out a secondary rate limit ($status) for retry-after, then the status arrives', async ({ status }) => {
    const { postStatus, posts, path, lines } = setUp(`secondary-${status}`);
    gh.rateLimit({ method: 'POST', path }, { kind: 'secondary', retryAfterSeconds: 1, times: 2, status });

    const response = await postStatus();

    expect(response.status).toBe(201);
    const seen = posts();
    expect(seen.map((r) => r.status)).toEqual([status, status, 201]);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
    expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(950);
    expect(lines.filter((l) => l.msg.startsWith('GitHub secondary rate limit')).map((l) => l.waitSeconds)).toEqual([1, 1]);
  });

  it.concurrent('delivers all of 10 statuses posted at once while limited, each once, paced one write a second', async () => {
    const { postStatus, posts, path, sha } = setUp('ten-at-once');
    gh.rateLimit({ method: 'POST', path }, { kind: 'primary', resetInSeconds: 1, times: 2 });
    const contexts = Array.from({ length: 10 }, (_, i) => `ci/job-${i}`);

    const responses = await Promise.all(contexts.map((context) => postStatus(context)));

    expect(responses.map((r) => r.status)).toEqual(contexts.map(() => 201));
    expect(
      gh
        .statuses(owner, repo, sha)
        .map((s) => s.context)
        .sort(),
    ).toEqual([...contexts].sort());
    const seen = posts();
    expect(seen.filter((r) => r.status === 403)).toHaveLength(2);
    expect(seen.filter((r) => r.status === 201)).toHaveLength(10);
    // The write pace when none is set: one mutating request a second, as GitHub asks (docs: Best
    // practices for using the REST API, "Pause between mutative requests").
    // Measured over the whole run: the fake records when it answered, not when the request left.
    expect(seen.at(-1)!.at - seen[0]!.at).toBeGreaterThanOrEqual((seen.length - 1) * 950);
  }, 30_000);

  it.concurrent('with a write interval, sends a burst of WRITE_BURST statuses at once and paces the rest one an interval', async () => {
    const { postStatus, posts } = setUp('burst-then-pace', { writeIntervalMs: 1000 });
    const contexts = Array.from({ length: WRITE_BURST + 2 }, (_, i) => `ci/job-${i}`);
    const started = Date.now();

    const responses = await Promise.all(contexts.map((context) => postStatus(context)));

    expect(responses.map((r) => r.status)).toEqual(contexts.map(() => 201));
    const at = posts().map((r) => r.at - started);
    expect(at).toHaveLength(WRITE_BURST + 2);
    // The burst is not held back an interval behind each other: paced a second apart, its last
    // would come 9 s after the first (the bound is loose for a loaded machine).
    expect(at[WRITE_BURST - 1]!).toBeLessThan(4_500);
    // The bucket is then empty: one token an interval, so GitHub's ~80 a minute is never passed.
    expect(at[WRITE_BURST]!).toBeGreaterThanOrEqual(950);
    expect(at[WRITE_BURST + 1]!).toBeGreaterThanOrEqual(1_950);
  }, 30_000);

  it.concurrent.each([
    { kind: 'primary' as const, status: 403 as const, limit: { resetInSeconds: 120 } },
    { kind: 'secondary' as const, status: 429 as const, limit: { retryAfterSeconds: 120 } },
  ])('fails fast with GitHub’s $status when a $kind limit lasts longer than maxRateLimitWaitMs, for the caller to retry later', async ({ kind, status, limit }) => {
    const registry = new Registry();
    const service = `give-up-${kind}`;
    const { postStatus, posts, path, lines } = setUp(service, { registry, maxRateLimitWaitMs: 1000 });
    gh.rateLimit({ method: 'POST', path }, { kind, status, times: 1, ...limit });

    const started = Date.now();
    const error = await rejectionOf(postStatus());

    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.status).toBe(status);
    // Not retried as a server error either: a 429 is the rate-limit policy's to judge.
    expect(posts().map((r) => r.status)).toEqual([status]);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 40, limit: kind, route: 'POST /repos/{owner}/{repo}/statuses/{sha}', maxWaitSeconds: 1, msg: expect.stringContaining('not waiting') }),
    );
    expect(await valuesOf(registry, 'bowline_github_rate_limited_total')).toEqual([{ labels: { service, kind, action: 'fail' }, value: 1 }]);
  });

  it.concurrent('stops waiting after five waits for a limit that does not lift', async () => {
    const { postStatus, posts, path, lines } = setUp('never-lifts');
    // A reset already due: the plugin computes a wait of about a second, every time.
    gh.rateLimit({ method: 'POST', path }, { kind: 'primary', resetInSeconds: 0, times: 10 });

    const error = await rejectionOf(postStatus());

    expect(error.status).toBe(403);
    expect(posts()).toHaveLength(6);
    expect(lines.at(-1)).toEqual(expect.objectContaining({ retryCount: 5, msg: expect.stringContaining('still limited after 5 waits') }));
  }, 30_000);

  it.concurrent('retries a 502 and the status arrives', async () => {
    const { postStatus, posts, path } = setUp('bad-gateway');
    gh.inject({ method: 'POST', path }, { status: 502, times: 1 });

    const response = await postStatus();

    expect(response.status).toBe(201);
    const seen = posts();
    expect(seen.map((r) => r.status)).toEqual([502, 201]);
    // The server-error backoff: (retries so far + 1)² seconds.
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it.concurrent('gives up on server errors after `retries` retries, with the last error', async () => {
    const { postStatus, posts, path } = setUp('still-bad-gateway', { retries: 1 });
    gh.inject({ method: 'POST', path }, { status: 502, times: 5 });

    const error = await rejectionOf(postStatus());

    expect(error.status).toBe(502);
    expect(posts().map((r) => r.status)).toEqual([502, 502]);
  });

  it.concurrent.each([
    { status: 404, what: 'a pull request that does not exist' },
    { status: 422, what: 'a status GitHub finds invalid' },
    { status: 403, what: 'a refusal that is not a rate limit' },
    { status: 409, what: 'a conflict, which plugin-retry alone would retry' },
  ])('does not retry a $status ($what): one request, the error at once', async ({ status }) => {
    const { octokit, postStatus, path, posts } = setUp(`client-error-${status}`);
    let call: Promise<unknown>;
    let sent: () => RecordedRequest[];
    if (status === 404) {
      call = octokit.rest.pulls.get({ owner, repo, pull_number: 404_404 });
      sent = () => gh.requestsTo({ path: `/repos/${owner}/${repo}/pulls/404404` });
    } else if (status === 422) {
      // GitHub rejects a description over 140 characters rather than cutting it.
      call = postStatus('ci/test', 'x'.repeat(141));
      sent = posts;
    } else {
      gh.inject({ method: 'POST', path }, { status, times: 1, body: { message: status === 403 ? 'Resource not accessible by integration' : 'Conflict' } });
      call = postStatus();
      sent = posts;
    }

    const error = await rejectionOf(call);

    expect(error.status).toBe(status);
    expect(sent().map((r) => r.status)).toEqual([status]);
  });

  it('refuses settings that cannot work', () => {
    const logger = createLogger({ service: 'test', level: 'silent' });
    expect(() => resilientOctokit({ logger, service: 's', retries: -1 })).toThrow(RangeError);
    expect(() => resilientOctokit({ logger, service: 's', maxRateLimitWaitMs: Number.NaN })).toThrow(RangeError);
  });
});

describe('instrumentGitHub', () => {
  it.concurrent('counts calls by route template and answer, and keeps the last x-ratelimit-remaining', async () => {
    const registry = new Registry();
    const service = 'metrics';
    const { octokit, postStatus } = setUp(service);
    // A second instance on the same registry (another identity) re-uses the metrics.
    const other = setUp(service).octokit;
    instrumentGitHub(octokit, { registry, service });
    instrumentGitHub(other, { registry, service });
    gh.addPullRequest({ org: owner, repo, number: 7, author: 'alice', headSha: 'a'.repeat(40), files: Array.from({ length: 5 }, (_, i) => `f${i}.ts`) });

    await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    await other.request('GET /repos/acme/widgets/pulls/7');
    await rejectionOf(octokit.rest.pulls.get({ owner, repo, pull_number: 999 }));
    await postStatus();
    // Pages after the first follow GitHub's Link header: expanded URLs with a query.
    const files = await octokit.paginate(octokit.rest.pulls.listFiles, { owner, repo, pull_number: 7, per_page: 2 });
    expect(files).toHaveLength(5);
    const last = await octokit.rest.users.getAuthenticated();

    const counts = await valuesOf(registry, 'bowline_github_requests_total');
    expect(counts).toEqual(
      expect.arrayContaining([
        { labels: { service, route: 'GET /repos/{owner}/{repo}/pulls/{pull_number}', code: '200' }, value: 2 },
        { labels: { service, route: 'GET /repos/{owner}/{repo}/pulls/{pull_number}', code: '404' }, value: 1 },
        { labels: { service, route: 'POST /repos/{owner}/{repo}/statuses/{sha}', code: '201' }, value: 1 },
        { labels: { service, route: 'GET /repos/{owner}/{repo}/pulls/{pull_number}/files', code: '200' }, value: 3 },
        { labels: { service, route: 'GET /user', code: '200' }, value: 1 },
      ]),
    );
    expect(counts).toHaveLength(5);
    const timed = (await valuesOf(registry, 'bowline_github_request_seconds')).filter((v) => (v as { metricName?: string }).metricName === 'bowline_github_request_seconds_count');
    expect(timed.map((v) => [v.labels.route, v.value])).toEqual(
      expect.arrayContaining([
        ['GET /repos/{owner}/{repo}/pulls/{pull_number}', 3],
        ['GET /repos/{owner}/{repo}/pulls/{pull_number}/files', 3],
      ]),
    );
    expect(await valuesOf(registry, 'bowline_github_rate_limit_remaining')).toEqual([
      { labels: { service }, value: Number(last.headers['x-ratelimit-remaining']) },
    ]);
  });

  it.concurrent('sees a conditional GET’s 304 when it wraps the instance before enableConditionalRequests', async () => {
    const registry = new Registry();
    const service = 'metrics-304';
    const { octokit } = setUp(service);
    instrumentGitHub(octokit, { registry, service });
    enableConditionalRequests(octokit);
    gh.addPullRequest({ org: owner, repo, number: 8, author: 'alice', headSha: 'b'.repeat(40) });

    await octokit.rest.pulls.get({ owner, repo, pull_number: 8 });
    const again = await octokit.rest.pulls.get({ owner, repo, pull_number: 8 });

    expect(again.status).toBe(200);
    expect((await valuesOf(registry, 'bowline_github_requests_total')).map((v) => [v.labels.code, v.value])).toEqual([
      ['200', 1],
      ['304', 1],
    ]);
  });
});
