import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Octokit } from '@octokit/rest';
import { FakeGitHub, type RecordedRequest } from '@bowline/testing';
import { enableConditionalRequests } from '../src/conditional-requests.js';

const owner = 'acme';
const repo = 'widgets';
const files = Array.from({ length: 250 }, (_, i) => `src/file-${i}.ts`);
// octokit logs every failed request; the 404s here are the point of the tests.
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describe('enableConditionalRequests', () => {
  let gh: FakeGitHub;
  let octokit: Octokit;
  let stats: ReturnType<typeof enableConditionalRequests>;

  /** What the fake saw from `since` on: status, path and whether it was conditional. */
  const seenSince = (since: number): Array<{ status: number; path: string; conditional: boolean }> =>
    gh.requests.slice(since).map((r: RecordedRequest) => ({
      status: r.status,
      path: r.path,
      conditional: r.headers['if-none-match'] !== undefined,
    }));

  const addPull = (number: number, headSha: string): void =>
    gh.addPullRequest({ org: owner, repo, number, author: 'alice', headSha, files });

  beforeAll(async () => {
    gh = await FakeGitHub.start();
  });

  afterAll(async () => {
    await gh.close();
  });

  beforeEach(() => {
    octokit = new Octokit({ auth: 'test-token', baseUrl: gh.url, log: quiet });
    stats = enableConditionalRequests(octokit);
    addPull(7, 'a'.repeat(40));
  });

  it('answers a repeated read from its copy once GitHub says 304, at no cost to the quota', async () => {
    const first = await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    const usedAfterFirst = gh.rateLimitUsed();
    const since = gh.requests.length;

    const second = await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });

    expect(seenSince(since)).toEqual([{ status: 304, path: `/repos/${owner}/${repo}/pulls/7`, conditional: true }]);
    expect(second.status).toBe(200);
    expect(second.data).toEqual(first.data);
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(gh.rateLimitUsed()).toBe(usedAfterFirst);
    expect({ hits: stats.hits(), misses: stats.misses() }).toEqual({ hits: 1, misses: 1 });
  });

  it('shows the rate-limit headers of the 304, not those kept from the 200', async () => {
    await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    await octokit.rest.users.getAuthenticated();
    const now = await octokit.rest.users.getAuthenticated();
    const again = await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    expect(again.headers['x-ratelimit-remaining']).toBe(now.headers['x-ratelimit-remaining']);
  });

  it('reads a changed pull request anew: a 200 with the new head', async () => {
    await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    addPull(7, 'b'.repeat(40));
    const since = gh.requests.length;

    const { data } = await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });

    expect(data.head.sha).toBe('b'.repeat(40));
    expect(seenSince(since)).toEqual([expect.objectContaining({ status: 200, conditional: true })]);
    // And the new answer is the one remembered.
    const { data: again } = await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    expect(again.head.sha).toBe('b'.repeat(40));
    expect(gh.requests.at(-1)!.status).toBe(304);
  });

  it('keeps paginate working: each page is remembered, a second pass is all 304s and the same 250 files', async () => {
    const list = (): Promise<Array<{ filename: string }>> =>
      octokit.paginate(octokit.rest.pulls.listFiles, { owner, repo, pull_number: 7, per_page: 100 });
    const first = await list();
    const used = gh.rateLimitUsed();
    const since = gh.requests.length;

    const second = await list();

    expect(second.map((f) => f.filename)).toEqual(files);
    expect(second).toEqual(first);
    expect(seenSince(since).map((r) => r.status)).toEqual([304, 304, 304]);
    expect(gh.rateLimitUsed()).toBe(used);
  });

  it('hands out copies, so a caller changing its answer does not change the next one', async () => {
    const first = await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    first.data.title = 'scribbled on';
    const second = await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    second.data.title = 'scribbled on again';
    const third = await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    expect(third.data.title).toBe('Pull request 7');
    expect(gh.requests.at(-1)!.status).toBe(304);
  });

  it('remembers no error: a 404 is asked again unconditionally and fails again', async () => {
    const since = gh.requests.length;
    for (let i = 0; i < 2; i++) {
      await expect(octokit.rest.pulls.get({ owner, repo, pull_number: 404 })).rejects.toMatchObject({ status: 404 });
    }
    expect(seenSince(since)).toEqual([
      expect.objectContaining({ status: 404, conditional: false }),
      expect.objectContaining({ status: 404, conditional: false }),
    ]);
    expect(stats.hits()).toBe(0);
  });

  it('lets an error through rather than answering from its copy, and keeps the copy for the next read', async () => {
    await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    gh.inject({ method: 'GET', path: `/repos/${owner}/${repo}/pulls/7` }, { status: 502, body: { message: 'Bad Gateway' } });

    await expect(octokit.rest.pulls.get({ owner, repo, pull_number: 7 })).rejects.toMatchObject({ status: 502 });
    const { status } = await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });

    expect(status).toBe(200);
    expect(gh.requests.at(-1)!.status).toBe(304);
  });

  it('keeps at most maxEntries answers, dropping the least recently used', async () => {
    const small = new Octokit({ auth: 'test-token', baseUrl: gh.url, log: quiet });
    enableConditionalRequests(small, { maxEntries: 2 });
    for (const number of [1, 2, 3]) addPull(number, 'c'.repeat(40));
    const get = async (pull_number: number): Promise<boolean> => {
      await small.rest.pulls.get({ owner, repo, pull_number });
      return gh.requests.at(-1)!.status === 304;
    };

    expect([await get(1), await get(2), await get(1)]).toEqual([false, false, true]);
    // 1 was used last, so 3 pushes out 2.
    expect(await get(3)).toBe(false);
    expect([await get(1), await get(3)]).toEqual([true, true]);
    expect(await get(2)).toBe(false);
    expect(gh.requests.at(-1)!.headers['if-none-match']).toBeUndefined();
  });

  it('never makes a write conditional', async () => {
    const since = gh.requests.length;
    for (let i = 0; i < 2; i++) {
      await octokit.rest.issues.createComment({ owner, repo, issue_number: 7, body: 'same words' });
    }
    expect(seenSince(since)).toEqual([
      expect.objectContaining({ status: 201, conditional: false }),
      expect.objectContaining({ status: 201, conditional: false }),
    ]);
  });

  it('keeps other media types of the same URL apart, since GitHub varies on Accept', async () => {
    await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    const since = gh.requests.length;
    await octokit.rest.pulls.get({ owner, repo, pull_number: 7, mediaType: { format: 'diff' } });
    expect(seenSince(since)).toEqual([expect.objectContaining({ status: 200, conditional: false })]);
  });

  it('leaves a request that brings its own If-None-Match alone, 304 included', async () => {
    const { headers } = await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    await expect(
      octokit.rest.pulls.get({ owner, repo, pull_number: 7, headers: { 'if-none-match': headers.etag } }),
    ).rejects.toMatchObject({ status: 304 });
  });

  it('refuses a bound that keeps nothing', () => {
    expect(() => enableConditionalRequests(new Octokit(), { maxEntries: 0 })).toThrow(RangeError);
  });
});
