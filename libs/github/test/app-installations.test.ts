import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Octokit } from '@octokit/rest';
import { createLogger } from '@bowline/observability';
import { FakeGitHub, type RecordedRequest } from '@bowline/testing';
import { AppInstallationError, appBotLogin, createInstallationOctokit } from '../src/app-installations.js';
import type { GitHubAppSettings } from '../src/app.js';
import { resilientOctokit } from '../src/resilience.js';

const APP_ID = 4242;
const sha = 'c'.repeat(40);
const logger = createLogger({ service: 'test', level: 'silent' });
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const MINUTE = 60_000;

describe('createInstallationOctokit', () => {
  let gh: FakeGitHub;
  let settings: GitHubAppSettings;
  // One clock for the fake and the client, running ahead of the real one by `ahead`: tokens age an
  // hour without the test waiting, and JWTs signed on it still pass the fake's checks.
  let ahead = 0;
  const clock = (): number => Date.now() + ahead;
  const installationOctokit = (options: Parameters<typeof createInstallationOctokit>[2] = {}) =>
    createInstallationOctokit(settings, logger, { now: () => new Date(clock()), ...options });

  /** The requests the fake saw from `since` on, with the installation whose token each carried. */
  const seenSince = (since: number): Array<{ method: string; path: string; status: number; installation?: number }> =>
    gh.requests.slice(since).map((r: RecordedRequest) => {
      const token = /^token (\S+)$/.exec(String(r.headers.authorization ?? ''))?.[1];
      const installation = token === undefined ? undefined : gh.tokenInstallation(token);
      return { method: r.method, path: r.path, status: r.status, ...(installation === undefined ? {} : { installation }) };
    });
  const tokenOf = (r: RecordedRequest): string => String(r.headers.authorization);

  beforeAll(async () => {
    gh = await FakeGitHub.start({
      app: { id: APP_ID, publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string },
      clock,
    });
    settings = {
      apiUrl: gh.url,
      appId: String(APP_ID),
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    };
    gh.addInstallation({ id: 11, account: 'acme' });
    gh.addInstallation({ id: 22, account: 'globex' });
    gh.addPullRequest({ org: 'acme', repo: 'widgets', number: 7, author: 'alice', headSha: sha });
    gh.addPullRequest({ org: 'globex', repo: 'gadgets', number: 3, author: 'bob', headSha: sha });
  });

  afterEach(() => {
    ahead = 0;
  });

  afterAll(async () => {
    await gh.close();
  });

  it('sends each org’s requests with its own installation’s token, each looked up and minted once', async () => {
    const github = installationOctokit();
    const since = gh.requests.length;

    await github.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 7 });
    await github.rest.pulls.get({ owner: 'globex', repo: 'gadgets', pull_number: 3 });
    await github.rest.issues.listComments({ owner: 'acme', repo: 'widgets', issue_number: 7 });
    await github.rest.orgs.checkMembershipForUser({ org: 'globex', username: 'bob' }).catch(() => undefined);

    expect(seenSince(since)).toEqual([
      { method: 'GET', path: '/repos/acme/widgets/installation', status: 200 },
      { method: 'POST', path: '/app/installations/11/access_tokens', status: 201 },
      { method: 'GET', path: '/repos/acme/widgets/pulls/7', status: 200, installation: 11 },
      { method: 'GET', path: '/repos/globex/gadgets/installation', status: 200 },
      { method: 'POST', path: '/app/installations/22/access_tokens', status: 201 },
      { method: 'GET', path: '/repos/globex/gadgets/pulls/3', status: 200, installation: 22 },
      { method: 'GET', path: '/repos/acme/widgets/issues/7/comments', status: 200, installation: 11 },
      // An org route finds the installation cached from the org's repository.
      { method: 'GET', path: '/orgs/globex/members/bob', status: 404, installation: 22 },
    ]);
    // The look-ups and mints go with the App's JWT.
    for (const r of gh.requests.slice(since).filter((r) => /installation/.test(r.path))) expect(tokenOf(r)).toMatch(/^bearer ey/);
  });

  it('shares one look-up and one mint among concurrent requests for an org', async () => {
    const github = installationOctokit();
    const since = gh.requests.length;
    await Promise.all(Array.from({ length: 5 }, () => github.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 7 })));
    const seen = seenSince(since);
    expect(seen.filter((r) => r.path.endsWith('/installation'))).toHaveLength(1);
    expect(seen.filter((r) => r.path.endsWith('/access_tokens'))).toHaveLength(1);
    expect(seen.filter((r) => r.path.endsWith('/pulls/7')).map((r) => r.installation)).toEqual([11, 11, 11, 11, 11]);
  });

  it('replaces a token minutes before it expires, so the caller never meets a 401', async () => {
    const github = installationOctokit();
    const read = () => github.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 7 });
    const since = gh.requests.length;

    await read();
    ahead = 50 * MINUTE;
    await read();
    const [first, fresh] = gh.requests.slice(since).filter((r) => r.path.endsWith('/pulls/7')).map(tokenOf);
    expect(fresh).toBe(first);

    ahead = 56 * MINUTE;
    await read();
    ahead = 90 * MINUTE;
    await read();

    const seen = seenSince(since);
    expect(seen.filter((r) => r.path.endsWith('/access_tokens'))).toHaveLength(2);
    expect(seen.filter((r) => r.status === 401)).toEqual([]);
    const sent = gh.requests.slice(since).filter((r) => r.path.endsWith('/pulls/7')).map(tokenOf);
    expect(sent.slice(2)).toEqual([sent[2], sent[2]]);
    expect(sent[2]).not.toBe(first);

    // The first token, kept past its hour, is what the refresh avoided.
    ahead = 61 * MINUTE;
    const stale = new Octokit({ auth: first!.replace(/^token /, ''), baseUrl: gh.url, log: quiet });
    await expect(stale.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 7 })).rejects.toMatchObject({ status: 401 });
  });

  it('refuses a request that names no owner, since an installation has no user', async () => {
    const github = installationOctokit();
    const since = gh.requests.length;
    const refused = github.rest.users.getAuthenticated();
    await expect(refused).rejects.toThrow(AppInstallationError);
    await expect(refused).rejects.toThrow('cannot send GET /user as the GitHub App: the request names no owner');
    expect(gh.requests.length).toBe(since);
  });

  it('says which org has not installed the App, and finds the installation once it is made', async () => {
    const github = installationOctokit();
    const since = gh.requests.length;
    const refused = github.rest.orgs.checkMembershipForUser({ org: 'initech', username: 'alice' });
    await expect(refused).rejects.toThrow(AppInstallationError);
    await expect(refused).rejects.toThrow(`the GitHub App ${APP_ID} is not installed on "initech"`);
    expect(seenSince(since)).toEqual([
      { method: 'GET', path: '/orgs/initech/installation', status: 404 },
      { method: 'GET', path: '/users/initech/installation', status: 404 },
    ]);

    gh.addInstallation({ id: 33, account: 'initech' });
    try {
      gh.addOrgMember('initech', 'alice');
      const { status } = await github.rest.orgs.checkMembershipForUser({ org: 'initech', username: 'alice' });
      expect(status).toBe(204);
    } finally {
      gh.removeInstallation(33);
    }
  });

  it('finds the installation of a user’s account, which has no organisation', async () => {
    gh.addInstallation({ id: 44, account: 'dana', accountType: 'User' });
    gh.addPullRequest({ org: 'dana', repo: 'dotfiles', number: 1, author: 'dana', headSha: sha });
    try {
      const github = installationOctokit();
      const since = gh.requests.length;
      await github.rest.pulls.get({ owner: 'dana', repo: 'dotfiles', pull_number: 1 });
      expect(seenSince(since).at(-1)).toMatchObject({ path: '/repos/dana/dotfiles/pulls/1', status: 200, installation: 44 });
    } finally {
      gh.removeInstallation(44);
    }
  });

  it('writes comments and statuses as <slug>[bot], the login appBotLogin answers', async () => {
    const github = installationOctokit();
    const { data: comment } = await github.rest.issues.createComment({ owner: 'acme', repo: 'widgets', issue_number: 7, body: 'report' });
    const { data: status } = await github.rest.repos.createCommitStatus({ owner: 'acme', repo: 'widgets', sha, state: 'success', context: 'ci' });

    const botLogin = appBotLogin(settings, logger);
    const since = gh.requests.length;
    expect(await botLogin()).toBe('bowline-app[bot]');
    expect(await botLogin()).toBe('bowline-app[bot]');
    expect(seenSince(since)).toEqual([{ method: 'GET', path: '/app', status: 200 }]);
    expect(comment.user?.login).toBe(await botLogin());
    expect(status.creator?.login).toBe(await botLogin());
    expect(gh.comments('acme', 'widgets', 7).filter((c) => c.user.login === 'bowline-app[bot]').map((c) => c.body)).toEqual(['report']);
  });

  it('sends the App’s own routes with its JWT', async () => {
    const { data } = await installationOctokit().rest.apps.getAuthenticated();
    expect(data?.slug).toBe('bowline-app');
  });

  it('looks the installation up again when GitHub refuses its token: the App was installed anew', async () => {
    const github = installationOctokit();
    await github.rest.pulls.get({ owner: 'globex', repo: 'gadgets', pull_number: 3 });
    gh.addInstallation({ id: 23, account: 'globex' });
    try {
      const since = gh.requests.length;
      const { status } = await github.rest.pulls.get({ owner: 'globex', repo: 'gadgets', pull_number: 3 });
      expect(status).toBe(200);
      expect(seenSince(since)).toEqual([
        { method: 'GET', path: '/repos/globex/gadgets/pulls/3', status: 401 },
        { method: 'GET', path: '/repos/globex/gadgets/installation', status: 200 },
        { method: 'POST', path: '/app/installations/23/access_tokens', status: 201 },
        { method: 'GET', path: '/repos/globex/gadgets/pulls/3', status: 200, installation: 23 },
      ]);
    } finally {
      gh.addInstallation({ id: 22, account: 'globex' });
    }
  });

  it('sits inside the request hook of OctokitClass: a failed mint is retried, and a full pacer does not wait on its own look-up', async () => {
    const Resilient = resilientOctokit({ logger, service: 'app-installations-test', retryBaseMs: 1, maxRateLimitWaitMs: 0 });
    const github = installationOctokit({ OctokitClass: Resilient });
    gh.inject({ method: 'POST', path: '/app/installations/11/access_tokens' }, { status: 502, body: { message: 'Bad Gateway' } });
    const since = gh.requests.length;

    // The pacer lets 10 requests of an identity out at a time; had the look-up needed an 11th slot, these
    // would wait on each other for ever.
    const reads = await Promise.all(Array.from({ length: 12 }, () => github.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 7 })));
    const { data } = await github.rest.issues.createComment({ owner: 'acme', repo: 'widgets', issue_number: 7, body: 'through the hook' });

    expect(reads.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(data.user?.login).toBe('bowline-app[bot]');
    expect(seenSince(since).filter((r) => r.path.endsWith('/access_tokens')).map((r) => r.status)).toEqual([502, 201]);
  });
});
