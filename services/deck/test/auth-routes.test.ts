import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ProwJob } from '@bowline/prowjob';
import { waitFor } from '@bowline/testing';
import { CLIENT, Jar, KEY, OLD_KEY, startAuthDeck, type AuthDeck } from './auth-deck.js';
import { startDeckServer } from './deck-server.js';
import { makeJob } from './jobs.js';

// Sign-in, rerun and abort over HTTP, as a browser or a script would send them, against the deck
// with the test GitHub playing GitHub's OAuth pages and API.
const failed = makeJob({ minute: 1, job: 'pull-widgets-unit', pr: 1, author: 'bob', state: 'failure' });
const running = makeJob({ minute: 2, job: 'pull-widgets-e2e', pr: 1, author: 'bob', state: 'pending' });
const passed = makeJob({ minute: 3, job: 'pull-widgets-lint', pr: 1, author: 'bob', state: 'success' });
const elsewhere = makeJob({ minute: 4, job: 'pull-gadgets-unit', org: 'other', repo: 'gadgets', pr: 9, author: 'bob', state: 'failure' });
const periodic = makeJob({ minute: 5, type: 'periodic', state: 'failure' });

let deck: AuthDeck;

beforeAll(async () => {
  deck = await startAuthDeck([failed, running, passed, elsewhere, periodic]);
}, 30_000);

afterAll(async () => {
  await deck?.stop();
});

async function get(jar: Jar, url: string): Promise<Response> {
  const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header } });
  jar.take(response);
  return response;
}

/** The whole web flow: the deck, GitHub's authorize page as `login`, and back to the deck. */
async function signIn(login: string, next = '/'): Promise<{ jar: Jar; landing: string }> {
  const jar = new Jar();
  const toGitHub = await get(jar, `${deck.url}/auth/login?next=${encodeURIComponent(next)}`);
  expect(toGitHub.status).toBe(302);
  const toDeck = await fetch(`${toGitHub.headers.get('location')}&login=${login}`, { redirect: 'manual' });
  const landed = await get(jar, toDeck.headers.get('location')!);
  expect(landed.status).toBe(303);
  return { jar, landing: landed.headers.get('location')! };
}

interface Me {
  login: string | null;
  csrf?: string;
  repos?: string[];
}

async function whoAmI(jar: Jar, repos: string[] = []): Promise<Me> {
  const query = new URLSearchParams(repos.map((repo): [string, string] => ['repo', repo]));
  return (await (await get(jar, `${deck.url}/auth/actions?${query.toString()}`)).json()) as Me;
}

async function post(jar: Jar, path: string, form: Record<string, string>, accept = 'text/html'): Promise<Response> {
  return fetch(`${deck.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header, 'content-type': 'application/x-www-form-urlencoded', accept },
    body: new URLSearchParams(form).toString(),
  });
}

const jobsNamed = async (job: string): Promise<ProwJob[]> => (await deck.bucket.store.list()).map((s) => s.job).filter((j) => j.spec.job === job);
const counted = async (action: string, result: string): Promise<number> => {
  const metric = await deck.registry.getSingleMetric('bowline_deck_actions_total')!.get();
  return metric.values.find((v) => v.labels.action === action && v.labels.result === result)?.value ?? 0;
};

describe('signing in with GitHub', () => {
  it('keeps the login in an HttpOnly, Secure, SameSite=Lax cookie, and returns to the page it started from', async () => {
    const jar = new Jar();
    const toGitHub = await get(jar, `${deck.url}/auth/login?next=${encodeURIComponent('/?state=failure')}`);
    const authorize = new URL(toGitHub.headers.get('location')!);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${deck.github.url}/login/oauth/authorize`);
    expect(authorize.searchParams.get('client_id')).toBe(CLIENT.clientId);
    const toDeck = await fetch(`${authorize.href}&login=alice`, { redirect: 'manual' });
    const landed = await fetch(toDeck.headers.get('location')!, { redirect: 'manual', headers: { cookie: jar.header } });
    expect(landed.status).toBe(303);
    expect(landed.headers.get('location')).toBe('/?state=failure');
    const session = landed.headers.getSetCookie().find((c) => c.startsWith('bowline_deck_session='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; Secure/);
    expect(session).toMatch(/; SameSite=Lax/);
    // The user's token is not in it: the login and the CSRF token are.
    expect(decodeURIComponent(session)).not.toMatch(/gho_/);
    jar.take(landed);
    expect((await whoAmI(jar)).login).toBe('alice');
  });

  it('refuses a callback whose state is not the one this browser was sent with (a forged state)', async () => {
    const jar = new Jar();
    const exchanges = deck.github.requestsTo({ path: '/login/oauth/access_token' }).length;
    const toGitHub = await get(jar, `${deck.url}/auth/login`);
    const authorize = new URL(toGitHub.headers.get('location')!);
    authorize.searchParams.set('state', 'forged-state');
    const toDeck = await fetch(`${authorize.href}&login=alice`, { redirect: 'manual' });
    const refused = await get(jar, toDeck.headers.get('location')!);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('its state is not the one this browser was sent to GitHub with');
    expect(jar.cookies.has('bowline_deck_session')).toBe(false);
    // The code was never exchanged.
    expect(deck.github.requestsTo({ path: '/login/oauth/access_token' })).toHaveLength(exchanges);
  });

  it('refuses a callback that comes without the sign-in this browser started (login CSRF)', async () => {
    const attacker = new Jar();
    const toGitHub = await get(attacker, `${deck.url}/auth/login`);
    const toDeck = await fetch(`${toGitHub.headers.get('location')}&login=mallory`, { redirect: 'manual' });
    const victim = new Jar();
    const refused = await get(victim, toDeck.headers.get('location')!);
    expect(refused.status).toBe(400);
    expect(victim.cookies.has('bowline_deck_session')).toBe(false);
  });

  it.each([
    ['an absolute address', 'https://evil.example/'],
    ['a scheme-relative address', '//evil.example/'],
    ['a backslash browsers read as a slash', '/\\evil.example/'],
    ['an encoded backslash', '/%5Cevil.example/'],
    ['a javascript: address', 'javascript:alert(1)'],
    ['a tab inside the slashes', '/\t/evil.example/'],
  ])('sends the browser back to the deck, not to %s, after signing in', async (_, next) => {
    const { landing } = await signIn('alice', next);
    expect(landing.startsWith('/')).toBe(true);
    expect(landing.startsWith('//')).toBe(false);
    expect(new URL(landing, deck.url).origin).toBe(deck.url);
  });

  it('verifies a session signed with the previous key, and ignores one signed with a key it does not have', async () => {
    const { jar } = await signIn('alice');
    const value = decodeURIComponent(jar.cookies.get('bowline_deck_session')!).replace(/^s:/, '').replace(/\.[^.]+$/, '');
    const signWith = (key: string): string => `s:${value}.${createHmac('sha256', key).update(value).digest('base64').replace(/=+$/, '')}`;
    const withCookie = (signed: string): Jar => {
      const other = new Jar();
      other.cookies.set('bowline_deck_session', encodeURIComponent(signed));
      return other;
    };
    expect(signWith(KEY)).toBe(decodeURIComponent(jar.cookies.get('bowline_deck_session')!));
    expect((await whoAmI(withCookie(signWith(OLD_KEY)))).login).toBe('alice');
    expect((await whoAmI(withCookie(signWith('a-key-the-deck-never-had-of-32-characters')))).login).toBeNull();
    const tampered = value.replace('"alice"', '"admin"');
    expect((await whoAmI(withCookie(`s:${tampered}.${signWith(KEY).split('.').pop()}`)))).toMatchObject({ login: null });
  });

  it('signs out on a POST with the session’s CSRF token', async () => {
    const { jar } = await signIn('alice');
    const me = await whoAmI(jar);
    expect((await post(jar, '/auth/logout', { next: '/' })).status).toBe(403);
    const out = await post(jar, '/auth/logout', { csrf: me.csrf!, next: '//evil.example' });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/');
    jar.take(out);
    expect((await whoAmI(jar)).login).toBeNull();
  });
});

describe('who may rerun and abort', () => {
  it.each([
    ['alice, a member of acme (and not of other)', 'alice', ['acme/widgets']],
    ['carol, listed in rerun_users for acme/widgets only', 'carol', ['acme/widgets']],
    ['rita, in a rerun_teams team for every repository', 'rita', ['acme/widgets', 'other/gadgets', '']],
    ['mallory, an outsider', 'mallory', []],
  ])('%s', async (_, login, repos) => {
    const { jar } = await signIn(login);
    const me = await whoAmI(jar, ['acme/widgets', 'other/gadgets', '']);
    expect(me.login).toBe(login);
    expect(me.repos).toEqual(repos);
  });
});

describe('rerun and abort', () => {
  it('reruns a finished job as a new ProwJob with the same spec, says so on the pull request, and counts it', async () => {
    const { jar } = await signIn('alice');
    const { csrf } = await whoAmI(jar);
    const before = await counted('rerun', 'done');
    const done = await post(jar, `/rerun?prowjob=${failed.metadata.name}`, { csrf: csrf!, next: '/?state=failure', request: 'form-0001' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/?state=failure');
    const rerun = (await jobsNamed('pull-widgets-unit')).find((j) => j.metadata.name !== failed.metadata.name)!;
    expect(rerun.spec).toEqual(failed.spec);
    expect(rerun.status.state).toBe('triggered');
    expect(rerun.metadata.annotations).toMatchObject({ 'bowline.dev/rerun-of': failed.metadata.name, 'bowline.dev/rerun-by': 'alice', 'bowline.dev/triggered-by': 'alice' });
    expect(rerun.metadata.annotations['bowline.dev/delivery-id']).toBeUndefined();
    expect(await counted('rerun', 'done')).toBe(before + 1);
    await waitFor('the comment on the pull request', () => deck.github.comments('acme', 'widgets', 1).some((c) => c.body.startsWith('**alice** reran `pull-widgets-unit`')));

    // The same form sent twice is one rerun.
    const again = await post(jar, `/rerun?prowjob=${failed.metadata.name}`, { csrf: csrf!, request: 'form-0001' });
    expect(again.status).toBe(303);
    expect(await jobsNamed('pull-widgets-unit')).toHaveLength(2);
  });

  it('aborts a running job: its state is written aborted, as the planner’s abort writes it', async () => {
    const { jar } = await signIn('carol');
    const { csrf } = await whoAmI(jar);
    const done = await post(jar, `/abort?prowjob=${running.metadata.name}`, { csrf: csrf! }, 'application/json');
    expect(done.status).toBe(200);
    const stored = (await deck.bucket.store.get(running.metadata.name))!.job;
    expect(stored.status).toMatchObject({ state: 'aborted', description: 'carol aborted this job.' });
    expect(stored.status.completionTime).toBeDefined();
    await waitFor('the comment on the pull request', () => deck.github.comments('acme', 'widgets', 1).some((c) => c.body.startsWith('**carol** aborted `pull-widgets-e2e`')));
  });

  it('refuses an outsider with 403 and the reason, and changes nothing', async () => {
    const { jar } = await signIn('mallory');
    const { csrf } = await whoAmI(jar);
    const before = (await deck.bucket.store.list()).length;
    const refused = await post(jar, `/rerun?prowjob=${passed.metadata.name}`, { csrf: csrf! });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('mallory may not /test in acme/widgets: User is not a member of the org. User is not a collaborator.');
    expect((await deck.bucket.store.list()).length).toBe(before);
  });

  it.each([
    ['without a CSRF token', {}],
    ['with another session’s CSRF token', { csrf: 'not-this-sessions-token-000000000000000000' }],
  ])('refuses a rerun %s with 403', async (_, form) => {
    const { jar } = await signIn('alice');
    const before = (await deck.bucket.store.list()).length;
    const refused = await post(jar, `/rerun?prowjob=${passed.metadata.name}`, form);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('CSRF token is missing or does not match your session');
    expect((await deck.bucket.store.list()).length).toBe(before);
  });

  it('refuses anyone not signed in with 401, and a GET changes nothing', async () => {
    const anonymous = new Jar();
    expect((await post(anonymous, `/abort?prowjob=${passed.metadata.name}`, {})).status).toBe(401);
    const viaGet = await fetch(`${deck.url}/rerun?prowjob=${passed.metadata.name}`);
    expect(viaGet.status).toBe(404);
    expect(await jobsNamed('pull-widgets-lint')).toHaveLength(1);
  });

  it('answers 409 to a rerun of a running job and an abort of a finished one', async () => {
    const { jar } = await signIn('alice');
    const { csrf } = await whoAmI(jar);
    const stillRunning = makeJob({ minute: 6, job: 'pull-widgets-slow', pr: 1, state: 'pending' });
    await deck.bucket.store.create(stillRunning);
    expect((await post(jar, `/rerun?prowjob=${stillRunning.metadata.name}`, { csrf: csrf! })).status).toBe(409);
    expect((await post(jar, `/abort?prowjob=${passed.metadata.name}`, { csrf: csrf! })).status).toBe(409);
    expect((await post(jar, `/abort?prowjob=no-such-job`, { csrf: csrf! })).status).toBe(404);
  });

  it('lets only rerun_users and rerun_teams rerun a job without a repository', async () => {
    const member = await signIn('alice');
    const refused = await post(member.jar, `/rerun?prowjob=${periodic.metadata.name}`, { csrf: (await whoAmI(member.jar)).csrf! });
    expect(refused.status).toBe(403);
    const team = await signIn('rita');
    expect((await post(team.jar, `/rerun?prowjob=${periodic.metadata.name}`, { csrf: (await whoAmI(team.jar)).csrf! })).status).toBe(303);
  });
});

describe('the read-only deck (no GITHUB_OAUTH_CLIENT_ID)', () => {
  it('offers no sign-in and takes no rerun or abort', async () => {
    const readOnly = await startDeckServer([failed]);
    try {
      expect(await (await fetch(`${readOnly.url}/auth/actions`)).json()).toEqual({ signIn: false });
      expect((await fetch(`${readOnly.url}/auth/login`, { redirect: 'manual' })).status).toBe(404);
      expect((await fetch(`${readOnly.url}/rerun?prowjob=${failed.metadata.name}`, { method: 'POST' })).status).toBe(404);
    } finally {
      await readOnly.stop();
    }
  });
});
