import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitFor } from '@bowline/testing';
import { axeViolations, collectErrors, launchChromium } from './browser.js';
import { startDeckServer, type DeckServer } from './deck-server.js';
import { makeJob, moveTo } from './jobs.js';

// The job list in a real headless Chromium, against the deck reading a real bucket.
const unit = makeJob({ minute: 1, job: 'pull-widgets-unit', pr: 1, author: 'alice', state: 'success' });
const lint = makeJob({ minute: 2, job: 'pull-widgets-lint', pr: 2, author: 'bob', state: 'failure' });
const gadgets = makeJob({ minute: 3, job: 'pull-gadgets-unit', repo: 'gadgets', pr: 7, author: 'alice', state: 'pending' });
const running = makeJob({ minute: 4, job: 'pull-widgets-e2e', pr: 3, author: 'carol', state: 'pending' });

let deck: DeckServer;
let browser: Browser;
let context: BrowserContext;
let errors: string[];
let page: Page;

beforeAll(async () => {
  deck = await startDeckServer([unit, lint, gadgets, running]);
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
  // Playwright's own timeout comes before jest's, so a failing wait says what it waited for.
  page.setDefaultTimeout(10_000);
});

afterEach(async () => {
  await context.close();
  // Every test's pages ran without a console error or an uncaught exception.
  expect(errors).toEqual([]);
});

const rowNames = (): Promise<string[]> => page.locator('#jobs tbody tr').evaluateAll((rows) => rows.map((row) => row.id.replace(/^job-/, '')));
const names = (...jobs: (typeof unit)[]): string[] => jobs.map((job) => job.metadata.name);

/** Opens the list and waits until its live updates are connected. */
async function openList(path = '/'): Promise<void> {
  await page.goto(`${deck.url}${path}`);
  await page.waitForSelector('body[data-live="connected"]');
  // Gone if the page is ever loaded again: the updates below must happen in place.
  await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
}

/** Waits for the address bar to show this path and query (waitForURL's strings are globs). */
const waitForAddress = async (path: string): Promise<void> => {
  try {
    await page.waitForURL((url) => `${url.pathname}${url.search}` === path);
  } catch (error) {
    throw new Error(`the page is at ${page.url()}, not ${path}`, { cause: error });
  }
};

const waitForRows = (count: number): Promise<unknown> =>
  waitFor(`${count} rows`, async () => (await page.locator('#jobs tbody tr').count()) === count, { timeoutMs: 10_000 });

const stillTheSamePage = (): Promise<unknown> => page.evaluate(() => (globalThis as Record<string, unknown>).notReloaded);

describe('the job list in a browser', () => {
  it('updates a job’s row in place when it changes state in the bucket, and adds new jobs on top', async () => {
    await openList();
    expect(await page.locator(`#job-${running.metadata.name} .state`).textContent()).toBe('pending');

    await deck.store.update(running.metadata.name, (job) => moveTo(job, 'success'));
    await page.waitForSelector(`#job-${running.metadata.name}[data-state="success"]`);
    expect(await page.locator('#summary .state-counts').textContent()).toContain('success 2');

    const created = makeJob({ minute: 9, job: 'pull-widgets-new', pr: 5, author: 'dave' });
    await deck.store.create(created);
    await page.waitForSelector(`#job-${created.metadata.name}`);
    expect((await rowNames())[0]).toBe(created.metadata.name);
    expect(await stillTheSamePage()).toBe(true);

    await deck.store.delete(created.metadata.name);
    await page.waitForSelector(`#job-${created.metadata.name}`, { state: 'detached' });
    expect(await stillTheSamePage()).toBe(true);
  });

  it('applies filters without a full reload, and restores them with back and forward', async () => {
    await openList();
    const all = await rowNames();

    await page.fill('#filter-job', 'pull-*-unit');
    await page.click('#filters button[type="submit"]');
    await waitForAddress('/?job=pull-*-unit');
    await page.waitForSelector('#jobs tbody tr[data-job="pull-widgets-lint"]', { state: 'detached' });
    expect(await rowNames()).toEqual(names(gadgets, unit));

    // A list filter applies as soon as it is chosen.
    await page.selectOption('#filter-state', 'success');
    await waitForAddress('/?state=success&job=pull-*-unit');
    await waitForRows(1);
    expect(await rowNames()).toEqual(names(unit));
    expect(await page.locator('#shown-count').textContent()).toBe('1 job');

    await page.goBack();
    await waitForAddress('/?job=pull-*-unit');
    await waitForRows(2);
    expect(await page.inputValue('#filter-state')).toBe('');
    expect(await page.inputValue('#filter-job')).toBe('pull-*-unit');

    await page.goBack();
    await waitForAddress('/');
    await waitForRows(all.length);
    expect(await rowNames()).toEqual(all);
    expect(await page.inputValue('#filter-job')).toBe('');

    await page.goForward();
    await waitForAddress('/?job=pull-*-unit');
    await waitForRows(2);
    expect(await page.inputValue('#filter-job')).toBe('pull-*-unit');
    expect(await stillTheSamePage()).toBe(true);
  });

  it('keeps following live updates under the filters it was given', async () => {
    await openList('/?author=alice');
    expect(await rowNames()).toEqual(names(gadgets, unit));
    await deck.store.update(gadgets.metadata.name, (job) => moveTo(job, 'failure'));
    await page.waitForSelector(`#job-${gadgets.metadata.name}[data-state="failure"]`);
    const other = makeJob({ minute: 10, job: 'pull-widgets-unit', pr: 8, author: 'erin' });
    await deck.store.create(other);
    await deck.store.update(unit.metadata.name, (job) => ({ ...job, status: { ...job.status, description: 'Seen.' } }));
    await page.waitForSelector(`#job-${unit.metadata.name} .state[title="Seen."]`);
    expect(await rowNames()).toEqual(names(gadgets, unit));
  });

  it('filters as a plain form without JavaScript, from a link that restores them', async () => {
    const noScript = await browser.newContext({ javaScriptEnabled: false });
    try {
      const plain = await noScript.newPage();
      await plain.goto(`${deck.url}/`);
      await plain.fill('#filter-author', 'alice');
      await plain.press('#filter-author', 'Enter');
      await plain.waitForURL(/author=alice/);
      const shown = await plain.locator('#jobs tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job')));
      expect(shown).toEqual(['pull-gadgets-unit', 'pull-widgets-unit']);
      await plain.goto(`${deck.url}/?state=failure`);
      expect(await plain.locator('#filter-state').inputValue()).toBe('failure');
    } finally {
      await noScript.close();
    }
  });
});

describe('accessibility', () => {
  it.each([
    ['the job list', () => '/'],
    ['a filtered job list', () => '/?repo=acme%2F*&state=success'],
    ['a ProwJob page', () => `/prowjob/${lint.metadata.name}`],
  ])('finds no WCAG 2 A or AA violation, colour contrast among them, on %s', async (_, path) => {
    const axeContext = await browser.newContext({ bypassCSP: true });
    try {
      const checked = await axeContext.newPage();
      await checked.goto(`${deck.url}${path()}`);
      expect(await axeViolations(checked)).toEqual([]);
    } finally {
      await axeContext.close();
    }
  });
});
