import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeGitHub } from '../src/github-server.js';

// The test GitHub's OAuth web flow (docs: Authorizing OAuth apps), as the deck's sign-in uses it.
const APP = { clientId: 'Iv1.deck', clientSecret: 'deck-secret', callbackUrl: 'http://127.0.0.1:9/auth/github/callback' };
let github: FakeGitHub;

beforeAll(async () => {
  github = await FakeGitHub.start();
  github.addOAuthApp(APP);
  github.addOAuthUser({ login: 'alice', note: 'member of acme' });
  github.addOAuthUser({ login: 'mallory', note: 'outsider' });
});

afterAll(async () => {
  await github.close();
});

const authorize = (query: Record<string, string>): Promise<Response> =>
  fetch(`${github.url}/login/oauth/authorize?${new URLSearchParams({ client_id: APP.clientId, ...query }).toString()}`, { redirect: 'manual' });

/** Signs in as `login` and gives the code GitHub sent back. */
async function codeFor(login: string, state = 'st4te'): Promise<string> {
  const answer = await authorize({ state, login });
  expect(answer.status).toBe(302);
  const back = new URL(answer.headers.get('location')!);
  expect(`${back.origin}${back.pathname}`).toBe(APP.callbackUrl);
  expect(back.searchParams.get('state')).toBe(state);
  return back.searchParams.get('code')!;
}

const exchange = async (fields: Record<string, string>, accept = 'application/json'): Promise<Record<string, string>> => {
  const answer = await fetch(`${github.url}/login/oauth/access_token`, {
    method: 'POST',
    headers: { accept, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  expect(answer.status).toBe(200);
  const text = await answer.text();
  return accept === 'application/json' ? (JSON.parse(text) as Record<string, string>) : Object.fromEntries(new URLSearchParams(text));
};

describe('the test GitHub’s OAuth web flow', () => {
  it('signs in as the user named by `login`, echoes `state`, and answers GET /user for the token as that user', async () => {
    const code = await codeFor('alice');
    const token = await exchange({ client_id: APP.clientId, client_secret: APP.clientSecret, code });
    expect(token).toMatchObject({ token_type: 'bearer' });
    const user = await fetch(`${github.url}/user`, { headers: { authorization: `Bearer ${token.access_token}` } });
    expect(((await user.json()) as { login: string }).login).toBe('alice');
    // Recorded like every other request.
    expect(github.requestsTo({ path: '/login/oauth/access_token' }).length).toBeGreaterThan(0);
  });

  it('answers form-encoded without Accept: application/json, as GitHub does', async () => {
    const code = await codeFor('mallory');
    const token = await exchange({ client_id: APP.clientId, client_secret: APP.clientSecret, code }, '*/*');
    expect(token.access_token).toMatch(/^gho_/);
  });

  it('takes a code once', async () => {
    const code = await codeFor('alice');
    expect((await exchange({ client_id: APP.clientId, client_secret: APP.clientSecret, code })).access_token).toBeDefined();
    expect(await exchange({ client_id: APP.clientId, client_secret: APP.clientSecret, code })).toMatchObject({ error: 'bad_verification_code' });
  });

  it.each([
    ['a wrong client secret', { client_secret: 'guess' }, 'incorrect_client_credentials'],
    ['an unknown client', { client_id: 'Iv1.other' }, 'incorrect_client_credentials'],
    ['a made-up code', { code: 'made-up' }, 'bad_verification_code'],
    ['another redirect_uri than the authorisation’s', { redirect_uri: 'http://127.0.0.1:9/auth/github/callback/other' }, 'redirect_uri_mismatch'],
  ])('refuses %s', async (_, change, error) => {
    const code = await codeFor('alice');
    expect(await exchange({ client_id: APP.clientId, client_secret: APP.clientSecret, code, ...change })).toMatchObject({ error });
  });

  it('refuses a redirect_uri outside the registered callback, sending the error to the callback', async () => {
    const answer = await authorize({ state: 's', login: 'alice', redirect_uri: 'https://evil.example/auth/github/callback' });
    const back = new URL(answer.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(APP.callbackUrl);
    expect(back.searchParams.get('error')).toBe('redirect_uri_mismatch');
    expect(back.searchParams.get('code')).toBeNull();
  });

  it('shows a page offering each test user when no login is named', async () => {
    const answer = await authorize({ state: 's' });
    expect(answer.status).toBe(200);
    const page = await answer.text();
    expect(page).toContain('Sign in as alice</a> <small>(member of acme)</small>');
    expect(page).toContain('Sign in as mallory');
  });

  it('refuses a token it never gave', async () => {
    expect((await fetch(`${github.url}/user`, { headers: { authorization: 'Bearer gho_forged' } })).status).toBe(401);
  });
});

describe('team memberships', () => {
  it('answers an active membership for a member and 404 for anyone else', async () => {
    github.addTeamMember('acme/release', 'carol');
    const ask = (login: string) => fetch(`${github.url}/orgs/acme/teams/release/memberships/${login}`, { headers: { authorization: 'token test-token' } });
    const member = await ask('carol');
    expect(member.status).toBe(200);
    expect(await member.json()).toMatchObject({ state: 'active' });
    expect((await ask('mallory')).status).toBe(404);
  });
});
