import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Octokit } from '@octokit/rest';
import { FakeGitHub } from '../src/github-server.js';

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
