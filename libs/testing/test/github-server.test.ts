import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Octokit } from '@octokit/rest';
import { FakeGitHub, type FakeDelivery } from '../src/github-server.js';
import { freePort } from '../src/ports.js';
import { examplePayload, signBody } from '../src/webhooks.js';

const sha = 'a'.repeat(40);
// octokit logs every failed request; the failures here are the point of the tests.
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** What a failed octokit call carries, read without depending on RequestError's class identity. */
async function failure(call: Promise<unknown>): Promise<{ status: number; message: string; headers: Record<string, string> }> {
  try {
    await call;
  } catch (error) {
    const e = error as { status: number; message: string; response?: { headers: Record<string, string> } };
    return { status: e.status, message: e.message, headers: e.response?.headers ?? {} };
  }
  throw new Error('expected the call to fail');
}

describe('FakeGitHub', () => {
  let gh: FakeGitHub;
  let octokit: Octokit;

  beforeAll(async () => {
    gh = await FakeGitHub.start();
    octokit = new Octokit({ auth: 'test-token', baseUrl: gh.url, log: quiet });
    gh.addPullRequest({
      org: 'acme',
      repo: 'widgets',
      number: 7,
      author: 'alice',
      headSha: sha,
      headRef: 'feature',
      title: 'Add widgets',
      labels: ['size/S'],
      files: Array.from({ length: 251 }, (_, i) => `src/file-${i}.ts`),
    });
    gh.addOrgMember('acme', 'alice');
    gh.addCollaborator('acme/widgets', 'bob');
  });

  afterAll(async () => {
    await gh.close();
  });

  it('tells who the token belongs to', async () => {
    const { data } = await octokit.rest.users.getAuthenticated();
    expect(data).toMatchObject({ login: 'bowline-bot', type: 'Bot' });
  });

  it('serves a pull request shaped like GitHub’s', async () => {
    const { data } = await octokit.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 7 });
    expect(data).toMatchObject({
      number: 7,
      state: 'open',
      draft: false,
      merged: false,
      title: 'Add widgets',
      user: { login: 'alice' },
      head: { sha, ref: 'feature', repo: { full_name: 'acme/widgets' } },
      base: { ref: 'main', repo: { name: 'widgets', full_name: 'acme/widgets', owner: { login: 'acme' } } },
      labels: [{ name: 'size/S' }],
      html_url: 'https://github.com/acme/widgets/pull/7',
    });
    expect(data.base.sha).toMatch(/^[0-9a-f]{40}$/);
  });

  it('says whether a pull request can merge as GitHub does: null until known, then true or false', async () => {
    gh.addPullRequest({ org: 'acme', repo: 'gizmos', number: 1, author: 'alice', headSha: sha });
    gh.addPullRequest({ org: 'acme', repo: 'gizmos', number: 2, author: 'alice', headSha: sha, mergeable: false });
    expect((await octokit.rest.pulls.get({ owner: 'acme', repo: 'gizmos', pull_number: 1 })).data.mergeable).toBeNull();
    expect((await octokit.rest.pulls.get({ owner: 'acme', repo: 'gizmos', pull_number: 2 })).data.mergeable).toBe(false);
  });

  it('finds merged pull requests by org and author with GET /search/issues, and refuses qualifiers it does not play', async () => {
    for (const number of [1, 2]) gh.addPullRequest({ org: 'acme', repo: 'sprockets', number, author: 'carol', headSha: sha, merged: true });
    gh.addPullRequest({ org: 'acme', repo: 'sprockets', number: 3, author: 'carol', headSha: sha });
    gh.addPullRequest({ org: 'other', repo: 'sprockets', number: 1, author: 'carol', headSha: sha, merged: true });

    const { data } = await octokit.rest.search.issuesAndPullRequests({ q: 'type:pr is:merged org:acme author:carol' });
    expect(data.total_count).toBe(2);
    expect(data.items.map((item) => [item.number, item.state, item.pull_request?.merged_at !== null])).toEqual([
      [1, 'closed', true],
      [2, 'closed', true],
    ]);
    expect((await failure(octokit.rest.search.issuesAndPullRequests({ q: 'is:merged label:bug' }))).status).toBe(422);
  });

  it('shows a GitHub App account (name[bot]) as a Bot', async () => {
    gh.addPullRequest({ org: 'acme', repo: 'gizmos', number: 3, author: 'renovate[bot]', headSha: sha });
    expect((await octokit.rest.pulls.get({ owner: 'acme', repo: 'gizmos', pull_number: 3 })).data.user).toMatchObject({ login: 'renovate[bot]', type: 'Bot' });
  });

  it('answers 404 with GitHub’s body for a pull request it does not know', async () => {
    const error = await failure(octokit.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 8 }));
    expect(error.status).toBe(404);
    expect(error.message).toContain('Not Found');
  });

  it('pages the files of a pull request so octokit’s paginate collects all 251', async () => {
    const before = gh.requestsTo({ path: '/repos/acme/widgets/pulls/7/files' }).length;
    const files = await octokit.paginate(octokit.rest.pulls.listFiles, { owner: 'acme', repo: 'widgets', pull_number: 7, per_page: 100 });
    expect(files).toHaveLength(251);
    expect(files[0]).toMatchObject({ filename: 'src/file-0.ts', status: 'modified', changes: 2 });
    expect(files[250]!.filename).toBe('src/file-250.ts');
    expect(gh.requestsTo({ path: '/repos/acme/widgets/pulls/7/files' }).length - before).toBe(3);
  });

  it('links the pages the way GitHub does', async () => {
    const response = await fetch(`${gh.url}/repos/acme/widgets/pulls/7/files?per_page=100&page=2`, {
      headers: { authorization: 'token test-token' },
    });
    const link = response.headers.get('link') ?? '';
    expect(link).toContain(`<${gh.url}/repos/acme/widgets/pulls/7/files?per_page=100&page=1>; rel="prev"`);
    expect(link).toContain(`<${gh.url}/repos/acme/widgets/pulls/7/files?per_page=100&page=3>; rel="next"`);
    expect(link).toContain(`<${gh.url}/repos/acme/widgets/pulls/7/files?per_page=100&page=3>; rel="last"`);
    expect(link).toContain(`<${gh.url}/repos/acme/widgets/pulls/7/files?per_page=100&page=1>; rel="first"`);
  });

  it('pages 30 at a time when per_page is not given, and never more than 100', async () => {
    const first = await octokit.rest.pulls.listFiles({ owner: 'acme', repo: 'widgets', pull_number: 7 });
    expect(first.data).toHaveLength(30);
    const capped = await octokit.rest.pulls.listFiles({ owner: 'acme', repo: 'widgets', pull_number: 7, per_page: 500 });
    expect(capped.data).toHaveLength(100);
  });

  it.each([
    { who: 'an org member', login: 'alice', status: 204 },
    { who: 'an outsider', login: 'mallory', status: 404 },
  ])('answers the membership check for $who with $status', async ({ login, status }) => {
    const call = octokit.rest.orgs.checkMembershipForUser({ org: 'acme', username: login });
    if (status === 204) expect((await call).status).toBe(204);
    else expect((await failure(call)).status).toBe(404);
  });

  it.each([
    { who: 'a collaborator', login: 'bob', status: 204 },
    { who: 'an org member who is no collaborator', login: 'alice', status: 404 },
  ])('answers the collaborator check for $who with $status', async ({ login, status }) => {
    const call = octokit.rest.repos.checkCollaborator({ owner: 'acme', repo: 'widgets', username: login });
    if (status === 204) expect((await call).status).toBe(204);
    else expect((await failure(call)).status).toBe(404);
  });

  it('adds and removes labels, including names with a slash', async () => {
    const added = await octokit.rest.issues.addLabels({ owner: 'acme', repo: 'widgets', issue_number: 7, labels: ['do-not-merge/hold', 'lgtm'] });
    expect(added.data.map((l) => l.name)).toEqual(['size/S', 'do-not-merge/hold', 'lgtm']);

    const removed = await octokit.rest.issues.removeLabel({ owner: 'acme', repo: 'widgets', issue_number: 7, name: 'do-not-merge/hold' });
    expect(removed.data.map((l) => l.name)).toEqual(['size/S', 'lgtm']);
    expect(gh.labels('acme', 'widgets', 7)).toEqual(['size/S', 'lgtm']);

    const error = await failure(octokit.rest.issues.removeLabel({ owner: 'acme', repo: 'widgets', issue_number: 7, name: 'absent' }));
    expect(error.status).toBe(404);
  });

  it('accepts labels sent as a bare array', async () => {
    const response = await fetch(`${gh.url}/repos/acme/widgets/issues/7/labels`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-token', 'content-type': 'application/json' },
      body: JSON.stringify(['approved']),
    });
    expect(response.status).toBe(200);
    expect(gh.labels('acme', 'widgets', 7)).toContain('approved');
  });

  it('creates, lists, edits and deletes comments', async () => {
    const seeded = gh.addComment('acme', 'widgets', 7, 'alice', '/test all');
    const created = await octokit.rest.issues.createComment({ owner: 'acme', repo: 'widgets', issue_number: 7, body: 'first report' });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ body: 'first report', user: { login: 'bowline-bot' } });
    expect(created.data.id).toBeGreaterThan(seeded.id);

    const listed = await octokit.paginate(octokit.rest.issues.listComments, { owner: 'acme', repo: 'widgets', issue_number: 7 });
    expect(listed.map((c) => [c.user?.login, c.body])).toEqual([
      ['alice', '/test all'],
      ['bowline-bot', 'first report'],
    ]);

    const edited = await octokit.rest.issues.updateComment({ owner: 'acme', repo: 'widgets', comment_id: created.data.id, body: 'second report' });
    expect(edited.data.body).toBe('second report');
    expect(gh.comments('acme', 'widgets', 7).map((c) => c.body)).toEqual(['/test all', 'second report']);

    const deleted = await octokit.rest.issues.deleteComment({ owner: 'acme', repo: 'widgets', comment_id: created.data.id });
    expect(deleted.status).toBe(204);
    expect(gh.comments('acme', 'widgets', 7).map((c) => c.body)).toEqual(['/test all']);

    const error = await failure(octokit.rest.issues.updateComment({ owner: 'acme', repo: 'widgets', comment_id: created.data.id, body: 'x' }));
    expect(error.status).toBe(404);
  });

  it('pages comments when there are more than fit on one page', async () => {
    gh.addPullRequest({ org: 'acme', repo: 'chatty', number: 1, author: 'alice', headSha: sha });
    for (let i = 0; i < 45; i += 1) gh.addComment('acme', 'chatty', 1, 'alice', `comment ${i}`);
    const listed = await octokit.paginate(octokit.rest.issues.listComments, { owner: 'acme', repo: 'chatty', issue_number: 1 });
    expect(listed.map((c) => c.body)).toEqual(Array.from({ length: 45 }, (_, i) => `comment ${i}`));
  });

  it('lists statuses newest first and combines the latest of each context', async () => {
    const create = (context: string, state: 'pending' | 'success' | 'failure') =>
      octokit.rest.repos.createCommitStatus({ owner: 'acme', repo: 'widgets', sha, state, context, description: `${context} ${state}`, target_url: `https://ci/${context}` });

    const first = await create('unit', 'pending');
    expect(first.status).toBe(201);
    expect(first.data).toMatchObject({ state: 'pending', context: 'unit', description: 'unit pending', target_url: 'https://ci/unit', creator: { login: 'bowline-bot' } });
    await create('e2e', 'pending');
    await create('unit', 'success');
    await create('e2e', 'failure');

    const listed = await octokit.rest.repos.listCommitStatusesForRef({ owner: 'acme', repo: 'widgets', ref: sha });
    expect(listed.data.map((s) => `${s.context}:${s.state}`)).toEqual(['e2e:failure', 'unit:success', 'e2e:pending', 'unit:pending']);
    expect(gh.statuses('acme', 'widgets', sha).map((s) => `${s.context}:${s.state}`)).toEqual(['unit:pending', 'e2e:pending', 'unit:success', 'e2e:failure']);

    const combined = await octokit.rest.repos.getCombinedStatusForRef({ owner: 'acme', repo: 'widgets', ref: 'feature' });
    expect(combined.data).toMatchObject({ state: 'failure', sha, total_count: 2 });
    expect(combined.data.statuses.map((s) => `${s.context}:${s.state}`)).toEqual(['e2e:failure', 'unit:success']);
  });

  it('gives a status without a context the context "default"', async () => {
    const other = 'b'.repeat(40);
    await octokit.rest.repos.createCommitStatus({ owner: 'acme', repo: 'widgets', sha: other, state: 'success' });
    expect(gh.statuses('acme', 'widgets', other)).toMatchObject([{ context: 'default', state: 'success', description: null, target_url: null }]);
  });

  it.each([
    ['a state GitHub does not know', { state: 'triggered' }, 'state'],
    ['a description over 140 characters', { state: 'pending', description: 'x'.repeat(141) }, 'description'],
  ])('refuses a status with %s with 422 Validation Failed', async (_case, input, field) => {
    const response = await fetch(`${gh.url}/repos/acme/widgets/statuses/${sha}`, {
      method: 'POST',
      headers: { authorization: 'token test-token', 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { message: string; errors: Array<{ field: string }> };
    expect(body.message).toBe('Validation Failed');
    expect(body.errors.map((e) => e.field)).toEqual([field]);
  });

  it('shows a 422 to octokit as an error naming the field', async () => {
    const error = await failure(
      octokit.rest.repos.createCommitStatus({ owner: 'acme', repo: 'widgets', sha, state: 'triggered' as 'pending' }),
    );
    expect(error.status).toBe(422);
    expect(error.message).toContain('Validation Failed');
    expect(error.message).toContain('state');
  });

  it('refuses a token it does not know with 401 and still records the request', async () => {
    const stranger = new Octokit({ auth: 'wrong-token', baseUrl: gh.url, log: quiet });
    const error = await failure(stranger.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 7 }));
    expect(error.status).toBe(401);
    expect(error.message).toContain('Bad credentials');
    expect(gh.requests.at(-1)).toMatchObject({ path: '/repos/acme/widgets/pulls/7', status: 401 });
  });

  it('answers 404 for a route it does not play', async () => {
    const error = await failure(octokit.request('GET /repos/{owner}/{repo}/releases', { owner: 'acme', repo: 'widgets' }));
    expect(error.status).toBe(404);
  });

  it('counts the quota down in the rate-limit headers', async () => {
    const first = await octokit.rest.users.getAuthenticated();
    const second = await octokit.rest.users.getAuthenticated();
    expect(first.headers['x-ratelimit-limit']).toBe('5000');
    expect(first.headers['x-ratelimit-resource']).toBe('core');
    expect(Number(second.headers['x-ratelimit-remaining'])).toBe(Number(first.headers['x-ratelimit-remaining']) - 1);
    expect(Number(second.headers['x-ratelimit-used'])).toBe(5000 - Number(second.headers['x-ratelimit-remaining']));
    expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
  });

  describe('conditional requests', () => {
    const pullUrl = (): string => `${gh.url}/repos/acme/widgets/pulls/7`;
    const get = (url: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(url, { headers: { authorization: 'token test-token', ...headers } });

    it('tags every 200 it answers to a GET, the same tag while nothing changes', async () => {
      const first = await get(pullUrl());
      const second = await get(pullUrl());
      expect(first.status).toBe(200);
      expect(first.headers.get('etag')).toMatch(/^W\/"[0-9a-f]{64}"$/);
      expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    });

    it('answers 304 with no body when the tag still matches, and charges no quota for it', async () => {
      const fresh = await get(pullUrl());
      const etag = fresh.headers.get('etag')!;
      const usedBefore = gh.rateLimitUsed();

      const notModified = await get(pullUrl(), { 'if-none-match': etag });
      expect(notModified.status).toBe(304);
      expect(await notModified.text()).toBe('');
      expect(notModified.headers.get('etag')).toBe(etag);
      expect(notModified.headers.get('x-ratelimit-remaining')).toBe(fresh.headers.get('x-ratelimit-remaining'));
      expect(notModified.headers.get('x-ratelimit-limit')).toBe('5000');
      expect(gh.rateLimitUsed()).toBe(usedBefore);
      expect(gh.requests.at(-1)).toMatchObject({ method: 'GET', path: '/repos/acme/widgets/pulls/7', status: 304 });
    });

    it.each([
      ['a tag it never gave', 'W/"0000"'],
      ['the tag of another URL', 'fetched from /user'],
      ['an empty header', ''],
    ])('answers 200 and charges the quota for %s', async (_case, given) => {
      const etag = given === 'fetched from /user' ? (await get(`${gh.url}/user`)).headers.get('etag')! : given;
      const usedBefore = gh.rateLimitUsed();
      const response = await get(pullUrl(), { 'if-none-match': etag });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ number: 7 });
      expect(gh.rateLimitUsed()).toBe(usedBefore + 1);
    });

    it('compares weakly, accepts a list of tags and `*`, as RFC 9110 has If-None-Match do', async () => {
      const etag = (await get(pullUrl())).headers.get('etag')!;
      const strong = etag.replace(/^W\//, '');
      expect((await get(pullUrl(), { 'if-none-match': strong })).status).toBe(304);
      expect((await get(pullUrl(), { 'if-none-match': `"other", ${etag}` })).status).toBe(304);
      expect((await get(pullUrl(), { 'if-none-match': '*' })).status).toBe(304);
    });

    it('gives a page its own tag, since the query is part of what was asked', async () => {
      const files = `${gh.url}/repos/acme/widgets/pulls/7/files`;
      const page1 = (await get(`${files}?per_page=100&page=1`)).headers.get('etag')!;
      const page2 = await get(`${files}?per_page=100&page=2`, { 'if-none-match': page1 });
      expect(page2.status).toBe(200);
      expect(page2.headers.get('etag')).not.toBe(page1);
    });

    it('stops matching once the pull request changes', async () => {
      gh.addPullRequest({ org: 'acme', repo: 'tagged', number: 1, author: 'alice', headSha: 'b'.repeat(40) });
      const url = `${gh.url}/repos/acme/tagged/pulls/1`;
      const before = (await get(url)).headers.get('etag')!;
      gh.addPullRequest({ org: 'acme', repo: 'tagged', number: 1, author: 'alice', headSha: 'c'.repeat(40) });

      const after = await get(url, { 'if-none-match': before });
      expect(after.status).toBe(200);
      expect(after.headers.get('etag')).not.toBe(before);
      expect(((await after.json()) as { head: { sha: string } }).head.sha).toBe('c'.repeat(40));
    });

    it('tags neither errors nor answers other than 200', async () => {
      const missing = await get(`${gh.url}/repos/acme/widgets/pulls/999`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('etag')).toBeNull();
      const member = await get(`${gh.url}/orgs/acme/members/alice`);
      expect(member.status).toBe(204);
      expect(member.headers.get('etag')).toBeNull();
    });

    it('counts every request that is not a 304 in rateLimitUsed, writes included', async () => {
      const usedBefore = gh.rateLimitUsed();
      await octokit.rest.users.getAuthenticated();
      await octokit.rest.repos.createCommitStatus({ owner: 'acme', repo: 'widgets', sha, state: 'pending', context: 'quota' });
      expect(gh.rateLimitUsed()).toBe(usedBefore + 2);
    });
  });

  it('answers an injected fault once, then normally again', async () => {
    gh.inject({ method: 'GET', path: '/repos/acme/widgets/pulls/7' }, { status: 500, body: { message: 'Server Error' } });
    expect((await failure(octokit.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 7 }))).status).toBe(500);
    expect((await octokit.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 7 })).status).toBe(200);
  });

  describe('rate limits', () => {
    it('answers a primary rate limit as GitHub does: 403, no quota left, and when it comes back', async () => {
      gh.rateLimit({ path: '/user' }, { kind: 'primary', resetInSeconds: 30 });
      const response = await fetch(`${gh.url}/user`, { headers: { authorization: 'token test-token' } });
      expect(response.status).toBe(403);
      expect(response.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(response.headers.get('x-ratelimit-limit')).toBe('5000');
      const reset = Number(response.headers.get('x-ratelimit-reset'));
      expect(reset - Date.now() / 1000).toBeGreaterThan(28);
      expect(reset - Date.now() / 1000).toBeLessThanOrEqual(31);
      expect(await response.json()).toMatchObject({ message: 'API rate limit exceeded for user ID 1.' });

      const after = await fetch(`${gh.url}/user`, { headers: { authorization: 'token test-token' } });
      expect(after.status).toBe(200);
    });

    it('answers a secondary rate limit as GitHub does: 429 with retry-after and quota left', async () => {
      gh.rateLimit({ method: 'POST', path: /\/statuses\// }, { kind: 'secondary', status: 429, retryAfterSeconds: 7, times: 2 });
      const post = () =>
        fetch(`${gh.url}/repos/acme/widgets/statuses/${sha}`, {
          method: 'POST',
          headers: { authorization: 'token test-token', 'content-type': 'application/json' },
          body: JSON.stringify({ state: 'pending' }),
        });
      for (let i = 0; i < 2; i += 1) {
        const response = await post();
        expect(response.status).toBe(429);
        expect(response.headers.get('retry-after')).toBe('7');
        expect(Number(response.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0);
        expect(((await response.json()) as { message: string }).message).toMatch(/secondary rate limit/);
      }
      expect((await post()).status).toBe(201);
    });

    // @octokit/plugin-throttling is not installed here. It classifies an error as a secondary
    // limit when its message matches /\bsecondary rate\b/i, and as a primary one when the response
    // has `x-ratelimit-remaining: "0"` (src/index.ts in octokit/plugin-throttling.js), so these
    // assert those exact traits on what octokit itself reports.
    it('makes octokit report a secondary limit in the terms plugin-throttling looks for', async () => {
      gh.rateLimit({ path: '/user' }, { kind: 'secondary', retryAfterSeconds: 3 });
      const error = await failure(octokit.rest.users.getAuthenticated());
      expect(error.status).toBe(403);
      expect(error.message).toMatch(/\bsecondary rate\b/i);
      expect(Number(error.headers['retry-after'])).toBe(3);
    });

    it('makes octokit report a primary limit in the terms plugin-throttling looks for', async () => {
      gh.rateLimit({ path: '/user' }, { kind: 'primary', resetInSeconds: 2 });
      const error = await failure(octokit.rest.users.getAuthenticated());
      expect(error.status).toBe(403);
      expect(error.message).not.toMatch(/\bsecondary rate\b/i);
      expect(error.headers['x-ratelimit-remaining']).toBe('0');
      const retryAfter = Math.ceil((Number(error.headers['x-ratelimit-reset']) * 1000 - Date.now()) / 1000) + 1;
      expect(retryAfter).toBeGreaterThanOrEqual(2);
      expect(retryAfter).toBeLessThanOrEqual(4);
    });
  });
});

const APP_ID = 4242;
const SECRET = 'hook-secret';
const INSTALLATION_ID = 77;
const undecodableJwt = 'A JSON web token could not be decoded';

/**
 * An App JWT made the way octokit's universal-github-app-jwt makes one: `iat` 30 s in the past
 * against clock drift, `exp` the 10 minutes GitHub allows after it. `claims` override those.
 */
function signAppJwt(privateKey: KeyObject, claims: Record<string, unknown> = {}, header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' }): string {
  const iat = Math.floor(Date.now() / 1000) - 30;
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode({ iat, exp: iat + 600, iss: APP_ID, ...claims })}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
}

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** A real webhook endpoint: the n-th delivery (from 1) gets `answer(n)`, or no answer at all. */
async function startReceiver(answer: (n: number) => number | 'hang', port = 0): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = answer(received.length);
      if (status === 'hang') return;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(`delivery ${received.length}: ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A comment delivery as an App gets it: GitHub adds the installation the event came through. */
function commentPayload(body: string): Record<string, unknown> {
  const payload = examplePayload('issue_comment', 'created');
  payload.comment.body = body;
  payload.installation = { id: INSTALLATION_ID, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNzc=' };
  return payload;
}

function nextLink(link: string | undefined): URL | undefined {
  const target = /<([^>]+)>;\s*rel="next"/.exec(link ?? '')?.[1];
  return target === undefined ? undefined : new URL(target);
}

describe('FakeGitHub as a GitHub App sending webhooks', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  let receiver: Receiver;
  let gh: FakeGitHub;
  let octokit: Octokit;
  const asApp = (jwt: string | undefined): Octokit => new Octokit({ auth: jwt, baseUrl: gh.url, log: quiet });

  beforeAll(async () => {
    // Down for the first delivery, then back: the outage the redelivery task exists for.
    receiver = await startReceiver((n) => (n === 1 ? 503 : 202));
    gh = await FakeGitHub.start({ app: { id: APP_ID, publicKey: publicPem }, webhook: { url: receiver.url, secret: SECRET } });
    octokit = asApp(signAppJwt(privateKey));
  });

  afterAll(async () => {
    await gh.close();
    await receiver.close();
  });

  it('records a refused delivery, then an accepted one, signed so the receiver can verify both', async () => {
    const refused = await gh.sendWebhook('issue_comment', commentPayload('/test all'));
    const accepted = await gh.sendWebhook('issue_comment', commentPayload('/retest'));

    expect(refused).toMatchObject({
      status: 'Invalid HTTP Response: 503',
      status_code: 503,
      redelivery: false,
      event: 'issue_comment',
      action: 'created',
      installation_id: INSTALLATION_ID,
      repository_id: 186853002,
      throttled_at: null,
    });
    expect(refused.delivered_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(accepted).toMatchObject({ status: 'OK', status_code: 202, redelivery: false });
    expect(accepted.guid).not.toBe(refused.guid);
    expect(gh.deliveries().map((d) => d.id)).toEqual([refused.id, accepted.id]);

    for (const [i, delivery] of [refused, accepted].entries()) {
      const { headers, body } = receiver.received[i]!;
      expect(headers['x-hub-signature-256']).toBe(signBody(body, SECRET));
      expect(headers).toMatchObject({
        'content-type': 'application/json',
        'x-github-event': 'issue_comment',
        'x-github-delivery': delivery.guid,
        'x-github-hook-installation-target-type': 'integration',
        'x-github-hook-installation-target-id': String(APP_ID),
      });
      expect(headers['x-github-hook-id']).toMatch(/^\d+$/);
      expect(headers['user-agent']).toMatch(/^GitHub-Hookshot\//);
      expect(JSON.parse(body)).toEqual(delivery.request.payload);
    }
  });

  it('lists deliveries newest first, a page at a time, through the cursors octokit follows', async () => {
    for (let i = 0; i < 3; i += 1) await gh.sendWebhook('issue_comment', commentPayload(`/test ${i}`));
    const newestFirst = gh.deliveries().map((d) => d.id).reverse();
    expect(newestFirst).toHaveLength(5);

    const first = await octokit.rest.apps.listWebhookDeliveries({ per_page: 2 });
    expect(first.data.map((d) => d.id)).toEqual(newestFirst.slice(0, 2));
    // The list carries the summary only; the request and response come with the single delivery.
    expect(Object.keys(first.data[0]!).sort()).toEqual(
      ['action', 'delivered_at', 'duration', 'event', 'guid', 'id', 'installation_id', 'redelivery', 'repository_id', 'status', 'status_code', 'throttled_at'],
    );
    const next = nextLink(first.headers.link);
    expect(next?.pathname).toBe('/app/hook/deliveries');
    expect(next?.searchParams.get('cursor')).toMatch(/^v1_\d+$/);
    expect(next?.searchParams.get('per_page')).toBe('2');
    expect(next?.searchParams.has('page')).toBe(false);

    const before = gh.requestsTo({ path: '/app/hook/deliveries' }).length;
    const all = await octokit.paginate(octokit.rest.apps.listWebhookDeliveries, { per_page: 2 });
    expect(all.map((d) => d.id)).toEqual(newestFirst);
    const pages = gh.requestsTo({ path: '/app/hook/deliveries' }).slice(before);
    expect(pages.map((r) => r.query.get('cursor'))).toEqual([null, expect.stringMatching(/^v1_/), expect.stringMatching(/^v1_/)]);
  });

  it('leaves the Link header out on the last page', async () => {
    const response = await octokit.rest.apps.listWebhookDeliveries({ per_page: 100 });
    expect(response.data).toHaveLength(5);
    expect(response.headers.link).toBeUndefined();
  });

  it('shows one delivery with the request it sent and the response it got', async () => {
    const refused = gh.deliveries()[0]!;
    const { data } = await octokit.rest.apps.getWebhookDelivery({ delivery_id: refused.id });
    expect(data).toMatchObject({
      id: refused.id,
      guid: refused.guid,
      status: 'Invalid HTTP Response: 503',
      status_code: 503,
      url: receiver.url,
      request: {
        headers: { 'X-GitHub-Delivery': refused.guid, 'X-GitHub-Event': 'issue_comment', 'Content-Type': 'application/json' },
        payload: { action: 'created', comment: { body: '/test all' } },
      },
      response: { headers: { 'content-type': 'text/plain' }, payload: 'delivery 1: 503' },
    });
  });

  it('redelivers a failed delivery after answering 202: same guid, signed again, recorded as a redelivery', async () => {
    const failed = (await octokit.paginate(octokit.rest.apps.listWebhookDeliveries, { per_page: 100 })).filter((d) => d.status !== 'OK');
    expect(failed.map((d) => d.status_code)).toEqual([503]);
    const sentBefore = receiver.received.length;

    const response = await octokit.rest.apps.redeliverWebhookDelivery({ delivery_id: Number(failed[0]!.id) });
    expect(response.status).toBe(202);
    expect(response.data).toEqual({});
    await gh.settled();

    expect(receiver.received).toHaveLength(sentBefore + 1);
    const again = receiver.received.at(-1)!;
    expect(again.headers['x-github-delivery']).toBe(failed[0]!.guid);
    expect(again.headers['x-hub-signature-256']).toBe(signBody(again.body, SECRET));
    expect(again.body).toBe(receiver.received[0]!.body);
    expect(gh.deliveries().at(-1)).toMatchObject({ guid: failed[0]!.guid, redelivery: true, status: 'OK', status_code: 202 });
    expect(gh.deliveries()[0]).toMatchObject({ id: failed[0]!.id, redelivery: false, status_code: 503 });
  });

  it('signs a redelivery with the secret the webhook has now', async () => {
    gh.setWebhook({ url: receiver.url, secret: 'rotated-secret' });
    try {
      await octokit.rest.apps.redeliverWebhookDelivery({ delivery_id: gh.deliveries()[1]!.id });
      await gh.settled();
      const again = receiver.received.at(-1)!;
      expect(again.headers['x-hub-signature-256']).toBe(signBody(again.body, 'rotated-secret'));
    } finally {
      gh.setWebhook({ url: receiver.url, secret: SECRET });
    }
  });

  it('answers 404 for a delivery it does not have, and sends nothing', async () => {
    const sentBefore = receiver.received.length;
    expect((await failure(octokit.rest.apps.getWebhookDelivery({ delivery_id: 999_999 }))).status).toBe(404);
    expect((await failure(octokit.rest.apps.redeliverWebhookDelivery({ delivery_id: 999_999 }))).status).toBe(404);
    await gh.settled();
    expect(receiver.received).toHaveLength(sentBefore);
  });

  it('accepts the App id in the JWT as a string as well as a number', async () => {
    const response = await asApp(signAppJwt(privateKey, { iss: String(APP_ID) })).rest.apps.listWebhookDeliveries();
    expect(response.status).toBe(200);
  });

  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const now = (): number => Math.floor(Date.now() / 1000);
  const undecodable = 'A JSON web token could not be decoded';
  it.each<[string, () => string | undefined, string]>([
    ['a JWT signed with another key', () => signAppJwt(otherKey), undecodable],
    ['a JWT naming another App', () => signAppJwt(privateKey, { iss: 9999 }), undecodable],
    ['a JWT whose header does not say RS256', () => signAppJwt(privateKey, {}, { alg: 'HS256', typ: 'JWT' }), undecodable],
    ['a JWT without an issuer', () => signAppJwt(privateKey, { iss: undefined }), "Missing 'issuer' claim ('iss') in assertion"],
    ['a JWT naming the App by something that is not an id', () => signAppJwt(privateKey, { iss: 'bowline' }), "'Issuer' claim ('iss') must be an Integer"],
    [
      'an expired JWT',
      () => signAppJwt(privateKey, { iat: now() - 700, exp: now() - 100 }),
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
    ],
    [
      'a JWT issued in the future',
      () => signAppJwt(privateKey, { iat: now() + 120, exp: now() + 300 }),
      "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
    ],
    ['a JWT valid for more than 10 minutes', () => signAppJwt(privateKey, { iat: now(), exp: now() + 660 }), "'Expiration time' claim ('exp') is too far in the future"],
    ['a personal token', () => 'test-token', undecodable],
    ['no credentials', () => undefined, undecodable],
  ])('refuses %s on the App routes with 401', async (_case, credentials, message) => {
    const error = await failure(asApp(credentials()).rest.apps.listWebhookDeliveries());
    expect(error.status).toBe(401);
    expect(error.message).toContain(message);
    expect(gh.requests.at(-1)).toMatchObject({ path: '/app/hook/deliveries', status: 401 });
  });

  it('still injects faults and rate limits on the App routes', async () => {
    const recorded = gh.deliveries().length;
    gh.inject({ method: 'POST', path: /\/attempts$/ }, { status: 500, body: { message: 'Server Error' } });
    expect((await failure(octokit.rest.apps.redeliverWebhookDelivery({ delivery_id: gh.deliveries()[0]!.id }))).status).toBe(500);
    await gh.settled();
    expect(gh.deliveries()).toHaveLength(recorded);

    gh.rateLimit({ path: '/app/hook/deliveries' }, { kind: 'secondary', retryAfterSeconds: 2 });
    const limited = await failure(octokit.rest.apps.listWebhookDeliveries());
    expect(limited.status).toBe(403);
    expect(limited.message).toMatch(/\bsecondary rate\b/i);
  });

  it('refuses a status filter other than success or failure with 422', async () => {
    const error = await failure(octokit.request('GET /app/hook/deliveries', { status: 'broken' as 'failure' }));
    expect(error.status).toBe(422);
  });

  describe('when the receiver is down', () => {
    let port: number;
    let down: FakeGitHub;
    let back: Receiver | undefined;

    beforeAll(async () => {
      port = await freePort();
      down = await FakeGitHub.start({ app: { id: APP_ID, publicKey: publicPem }, webhook: { url: `http://127.0.0.1:${port}/hook`, secret: SECRET } });
    });

    afterAll(async () => {
      await down.close();
      await back?.close();
    });

    it('records a refused connection as status_code 0, then heals once failed guids are redelivered', async () => {
      const sent = [await down.sendWebhook('issue_comment', commentPayload('/test all')), await down.sendWebhook('issue_comment', commentPayload('/retest'))];
      for (const delivery of sent) expect(delivery).toMatchObject({ status: 'failed to connect to host', status_code: 0 });
      const app = new Octokit({ auth: signAppJwt(privateKey), baseUrl: down.url, log: quiet });
      // The documented `status=failure` range is 400-599, so a filter on it misses the deliveries
      // that never got an answer; a redelivery task must look at every delivery.
      expect((await app.rest.apps.listWebhookDeliveries({ status: 'failure' })).data).toEqual([]);

      back = await startReceiver(() => 202, port);
      // What the hook service's periodic task does: every guid without an OK attempt goes again.
      const listed = await app.paginate(app.rest.apps.listWebhookDeliveries, { per_page: 1 });
      const delivered = new Set(listed.filter((d) => d.status === 'OK').map((d) => d.guid));
      const retry = new Map(listed.filter((d) => !delivered.has(d.guid)).map((d) => [d.guid, Number(d.id)]));
      for (const id of retry.values()) await app.rest.apps.redeliverWebhookDelivery({ delivery_id: id });
      await down.settled();

      expect(back.received.map((r) => r.headers['x-github-delivery']).sort()).toEqual(sent.map((d) => d.guid).sort());
      const healed = down.deliveries().filter((d: FakeDelivery) => d.redelivery);
      const byGuid = (a: FakeDelivery, b: FakeDelivery): number => a.guid.localeCompare(b.guid);
      expect(healed.sort(byGuid).map((d) => [d.guid, d.status, d.status_code])).toEqual(sent.sort(byGuid).map((d) => [d.guid, 'OK', 202]));
    });
  });

  it('counts a receiver slower than the timeout as a failed delivery with status_code 0', async () => {
    const slow = await startReceiver(() => 'hang');
    const impatient = await FakeGitHub.start({
      webhookTimeoutMs: 200,
      app: { id: APP_ID, publicKey: publicPem },
      webhook: { url: slow.url, secret: SECRET },
    });
    try {
      const delivery = await impatient.sendWebhook('ping', { zen: 'Keep it logically awesome.', hook_id: 1 });
      expect(delivery).toMatchObject({ status: 'timed out', status_code: 0, action: null, installation_id: null, repository_id: null });
      expect(delivery.duration).toBeGreaterThanOrEqual(0.19);

      // The 202 comes back while the redelivery still waits on the receiver; settled() waits for it.
      const app = new Octokit({ auth: signAppJwt(privateKey), baseUrl: impatient.url, log: quiet });
      expect((await app.rest.apps.redeliverWebhookDelivery({ delivery_id: delivery.id })).status).toBe(202);
      expect(impatient.deliveries()).toHaveLength(1);
      await impatient.settled();
      expect(impatient.deliveries().map((d) => [d.guid, d.redelivery, d.status])).toEqual([
        [delivery.guid, false, 'timed out'],
        [delivery.guid, true, 'timed out'],
      ]);
      expect(slow.received).toHaveLength(2);
    } finally {
      await impatient.close();
      await slow.close();
    }
  });
});

describe('FakeGitHub with the App installed on accounts', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const TTL_MS = 60 * 60_000;
  // The fake's clock runs ahead of the real one by `ahead`, to expire tokens without waiting.
  let ahead = 0;
  let gh: FakeGitHub;
  const app = (): Octokit => {
    const iat = Math.floor((Date.now() + ahead) / 1000) - 30;
    return new Octokit({ auth: signAppJwt(privateKey, { iat, exp: iat + 600 }), baseUrl: gh.url, log: quiet });
  };
  const asToken = (token: string): Octokit => new Octokit({ auth: token, baseUrl: gh.url, log: quiet });
  const mint = async (installationId: number): Promise<string> =>
    (await app().rest.apps.createInstallationAccessToken({ installation_id: installationId })).data.token;

  beforeAll(async () => {
    gh = await FakeGitHub.start({ app: { id: APP_ID, publicKey: publicPem }, clock: () => Date.now() + ahead });
    gh.addInstallation({ id: 11, account: 'acme' });
    gh.addInstallation({ id: 12, account: 'alice', accountType: 'User' });
    gh.addPullRequest({ org: 'acme', repo: 'widgets', number: 7, author: 'alice', headSha: sha });
    gh.addPullRequest({ org: 'globex', repo: 'gadgets', number: 3, author: 'bob', headSha: sha });
  });

  afterAll(async () => {
    await gh.close();
  });

  it('shows the App, with the slug its bot writes under, to its JWT', async () => {
    const { data } = await app().rest.apps.getAuthenticated();
    expect(data).toMatchObject({ id: APP_ID, slug: 'bowline-app', name: 'bowline-app', owner: { login: 'bowline' } });
    expect(gh.appBotLogin).toBe('bowline-app[bot]');
  });

  it('finds an installation by repository, organisation or user, 404 where there is none', async () => {
    const acme = { id: 11, account: { login: 'acme', type: 'Organization' }, app_id: APP_ID, app_slug: 'bowline-app', target_type: 'Organization' };
    expect((await app().rest.apps.getRepoInstallation({ owner: 'acme', repo: 'widgets' })).data).toMatchObject(acme);
    expect((await app().rest.apps.getOrgInstallation({ org: 'ACME' })).data).toMatchObject(acme);
    expect((await app().rest.apps.getUserInstallation({ username: 'acme' })).data).toMatchObject(acme);
    // A user's account is no organisation: only the user and repository look-ups find it.
    expect((await app().rest.apps.getUserInstallation({ username: 'alice' })).data).toMatchObject({ id: 12, account: { login: 'alice', type: 'User' } });
    expect((await failure(app().rest.apps.getOrgInstallation({ org: 'alice' }))).status).toBe(404);
    expect((await failure(app().rest.apps.getOrgInstallation({ org: 'globex' }))).status).toBe(404);
    expect((await failure(app().rest.apps.getRepoInstallation({ owner: 'globex', repo: 'gadgets' }))).status).toBe(404);
  });

  it('wants the App JWT for the look-ups and for minting tokens, not a token', async () => {
    const bot = asToken('test-token');
    expect(await failure(bot.rest.apps.getOrgInstallation({ org: 'acme' }))).toMatchObject({ status: 401, message: expect.stringContaining(undecodableJwt) });
    expect((await failure(bot.rest.apps.createInstallationAccessToken({ installation_id: 11 }))).status).toBe(401);
  });

  it('mints an hour-long token that opens its account and writes as <slug>[bot]', async () => {
    const before = Date.now();
    const response = await app().rest.apps.createInstallationAccessToken({ installation_id: 11 });
    expect(response.status).toBe(201);
    expect(response.data.token).toMatch(/^ghs_[A-Za-z0-9]{36}$/);
    expect(response.data.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Whole seconds, so up to a second short of the hour from when it was minted.
    expect(Date.parse(response.data.expires_at)).toBeGreaterThan(before + TTL_MS - 1000);
    expect(Date.parse(response.data.expires_at)).toBeLessThanOrEqual(Date.now() + TTL_MS);
    expect(gh.tokenInstallation(response.data.token)).toBe(11);

    const installation = asToken(response.data.token);
    expect((await installation.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 7 })).data.number).toBe(7);
    const { data: comment } = await installation.rest.issues.createComment({ owner: 'acme', repo: 'widgets', issue_number: 7, body: 'hi' });
    expect(comment.user).toMatchObject({ login: 'bowline-app[bot]', type: 'Bot', html_url: 'https://github.com/apps/bowline-app' });
    const { data: status } = await installation.rest.repos.createCommitStatus({ owner: 'acme', repo: 'widgets', sha, state: 'pending', context: 'ci' });
    expect(status.creator?.login).toBe('bowline-app[bot]');
    // The bot user's token still writes as the bot user.
    const { data: own } = await asToken('test-token').rest.issues.createComment({ owner: 'acme', repo: 'widgets', issue_number: 7, body: 'me' });
    expect(own.user?.login).toBe('bowline-bot');
  });

  it('answers 403 "Resource not accessible by integration" outside the installation’s account, and on /user', async () => {
    const installation = asToken(await mint(11));
    for (const call of [installation.rest.pulls.get({ owner: 'globex', repo: 'gadgets', pull_number: 3 }), installation.rest.users.getAuthenticated()]) {
      expect(await failure(call)).toMatchObject({ status: 403, message: expect.stringContaining('Resource not accessible by integration') });
    }
  });

  it('refuses a token with 401 "Bad credentials" once it has expired', async () => {
    const installation = asToken(await mint(11));
    try {
      // `expires_at` has whole seconds (up to 1 s before mint + TTL), and the mint took some time:
      // 2 s before the TTL is inside the token's life however the mint fell within its second.
      ahead = TTL_MS - 2000;
      expect((await installation.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 7 })).status).toBe(200);
      ahead = TTL_MS;
      expect(await failure(installation.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 7 }))).toMatchObject({
        status: 401,
        message: expect.stringContaining('Bad credentials'),
      });
    } finally {
      ahead = 0;
    }
  });

  it('lasts as long as installationTokenTtlMs says', async () => {
    const brief = await FakeGitHub.start({ app: { id: APP_ID, publicKey: publicPem }, installationTokenTtlMs: 3000 });
    try {
      brief.addInstallation({ id: 11, account: 'acme' });
      const { data } = await new Octokit({ auth: signAppJwt(privateKey), baseUrl: brief.url, log: quiet }).rest.apps.createInstallationAccessToken({ installation_id: 11 });
      expect(Date.parse(data.expires_at) - Date.now()).toBeLessThanOrEqual(3000);
      expect(Date.parse(data.expires_at) - Date.now()).toBeGreaterThan(1000);
    } finally {
      await brief.close();
    }
  });

  it('revokes the tokens of an installation removed, and mints none for it', async () => {
    gh.addInstallation({ id: 13, account: 'initech' });
    const token = await mint(13);
    gh.removeInstallation(13);
    expect((await failure(asToken(token).rest.orgs.checkMembershipForUser({ org: 'initech', username: 'alice' }))).status).toBe(401);
    expect((await failure(app().rest.apps.createInstallationAccessToken({ installation_id: 13 }))).status).toBe(404);
    expect((await failure(app().rest.apps.getOrgInstallation({ org: 'initech' }))).status).toBe(404);
  });
});
