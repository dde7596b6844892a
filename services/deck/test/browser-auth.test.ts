import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitFor } from '@bowline/testing';
import { CLIENT, startAuthDeck, type AuthDeck } from './auth-deck.js';
import { axeViolations, collectErrors, launchChromium } from './browser.js';
import { makeJob } from './jobs.js';

// Signing in through the test GitHub, rerunning and aborting in a real headless Chromium, and
// being refused where the rules say so.
const failed = makeJob({ minute: 1, job: 'pull-widgets-unit', pr: 1, author: 'bob', state: 'failure' });
const running = makeJob({ minute: 2, job: 'pull-widgets-e2e', pr: 1, author: 'bob', state: 'pending' });
const passed = makeJob({ minute: 3, job: 'pull-widgets-lint', pr: 1, author: 'bob', state: 'success' });

let deck: AuthDeck;
let browser: Browser;
let context: BrowserContext;
let errors: string[];
let page: Page;

beforeAll(async () => {
  deck = await startAuthDeck([failed, running, passed]);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await deck?.stop();
});

beforeEach(async () => {
  context = await browser.newContext();
  errors = collectErrors(context);
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
});

afterEach(async () => {
  await context.close();
  expect(errors).toEqual([]);
});

/** Opens the list, follows "Sign in with GitHub", picks `login` on the test GitHub's page. */
async function signIn(login: string, on: Page = page): Promise<void> {
  await on.goto(`${deck.url}/?repo=acme%2Fwidgets`);
  await on.click('#sign-in');
  await on.waitForURL((url) => url.origin === deck.github.url);
  await on.click(`text=Sign in as ${login}`);
  await on.waitForURL((url) => url.origin === deck.url && url.pathname === '/');
  await on.waitForSelector('#signed-in-as');
  await on.waitForSelector('body[data-actions="ready"]');
}

const row = (name: string): string => `#job-${name}`;

describe('signed in as a member of the org', () => {
  it('comes back to the filtered list it left, with a Secure, HttpOnly session cookie', async () => {
    await signIn('alice');
    expect(new URL(page.url()).search).toBe('?repo=acme%2Fwidgets');
    expect(await page.textContent('#signed-in-as')).toBe('Signed in as alice ');
    const session = (await context.cookies()).find((c) => c.name === 'bowline_deck_session')!;
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax' });
  });

  it('reruns a failed job from the list, and the new run appears on top', async () => {
    await signIn('alice');
    const before = (await deck.bucket.store.list()).length;
    await page.click(`${row(failed.metadata.name)} button[data-action="rerun"]`);
    await page.waitForURL((url) => url.pathname === '/' && url.search === '?repo=acme%2Fwidgets');
    const rerun = await waitFor('the rerun ProwJob', async () =>
      (await deck.bucket.store.list()).map((s) => s.job).find((j) => j.metadata.annotations['bowline.dev/rerun-of'] === failed.metadata.name),
    );
    await page.waitForSelector(`${row(rerun.metadata.name)}[data-state="triggered"]`);
    expect(rerun.metadata.annotations['bowline.dev/rerun-by']).toBe('alice');
    expect((await deck.bucket.store.list()).length).toBe(before + 1);
    // A running job offers Abort, not Rerun.
    expect(await page.locator(`${row(rerun.metadata.name)} button`).getAttribute('data-action')).toBe('abort');
  });

  it('aborts a running job from its ProwJob page', async () => {
    await signIn('alice');
    await page.goto(`${deck.url}/prowjob/${running.metadata.name}`);
    await page.waitForSelector('body[data-actions="ready"]');
    await page.click('button[data-action="abort"]');
    await page.waitForURL((url) => url.pathname === `/prowjob/${running.metadata.name}`);
    expect(await page.textContent('h1 + p .state')).toBe('aborted');
    expect((await deck.bucket.store.get(running.metadata.name))!.job.status.state).toBe('aborted');
  });

  it('signs out', async () => {
    await signIn('alice');
    await page.click('#sign-out button');
    await page.waitForSelector('#sign-in');
    expect(await page.locator('.deck-actions form').count()).toBe(0);
  });
});

describe('signed in as an outsider', () => {
  it('shows no button, and a direct POST with the session’s own CSRF token gets 403 with the reason', async () => {
    await signIn('mallory');
    expect(await page.locator('.deck-actions').count()).toBeGreaterThan(0);
    expect(await page.locator('.deck-actions form').count()).toBe(0);
    const { csrf } = await (await context.request.get(`${deck.url}/auth/actions`)).json() as { csrf: string };
    const refused = await context.request.post(`${deck.url}/rerun?prowjob=${passed.metadata.name}`, { form: { csrf }, maxRedirects: 0 });
    expect(refused.status()).toBe(403);
    expect(await refused.text()).toContain('mallory may not /test in acme/widgets');
  });
});

describe('a page on another site', () => {
  it('cannot rerun through a signed-in browser: the session cookie does not go with its POST, nor could it know the CSRF token', async () => {
    await signIn('alice');
    const jobs = (await deck.bucket.store.list()).length;
    // A page on another site (localhost is not 127.0.0.1) posting a form to the deck, as an
    // attacker's page would.
    const attacker = await context.newPage();
    await attacker.goto(`${deck.github.url.replace('127.0.0.1', 'localhost')}/login/oauth/authorize?client_id=${CLIENT.clientId}`);
    await attacker.setContent(
      `<link rel="icon" href="data:,"><form method="post" action="${deck.url}/rerun?prowjob=${passed.metadata.name}"><input name="csrf" value="guess"></form>`,
    );
    const answer = attacker.waitForResponse((response) => response.url().includes('/rerun'));
    await attacker.locator('form').evaluate((form) => (form as { submit(): void }).submit());
    // 401: the browser sent no session with a POST from another site (SameSite=Lax).
    expect((await answer).status()).toBe(401);
    expect((await deck.bucket.store.list()).length).toBe(jobs);
    // The browser reports the refusal it was sent as a console error: the one expected here.
    const isRefusal = (error: string): boolean => error.includes('status of 401') && error.includes('/rerun?prowjob=');
    await waitFor('the browser to report the refusal', () => errors.some(isRefusal));
    errors.splice(errors.findIndex(isRefusal), 1);
  });
});

describe('accessibility of the buttons', () => {
  it('finds no WCAG 2 A or AA violation on the job list signed in', async () => {
    const axeContext = await browser.newContext({ bypassCSP: true });
    try {
      const checked = await axeContext.newPage();
      await signIn('alice', checked);
      expect(await checked.locator('.deck-actions form').count()).toBeGreaterThan(0);
      expect(await axeViolations(checked)).toEqual([]);
    } finally {
      await axeContext.close();
    }
  });
});
