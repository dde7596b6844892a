import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { load } from 'cheerio';
import type { Browser, BrowserContext } from 'playwright-core';
import { parse } from 'yaml';
import { ensureHistoryStream, HISTORY_SUBJECT_PREFIX } from '@bowline/bus';
import { historyMessageId, historySubject, toHistoryRecord, type ProwJob, type ProwJobState } from '@bowline/prowjob';
import { FakeGitHub, FakeJenkins, freePort } from '@bowline/testing';
import { axeViolations, collectErrors, launchChromium } from './browser.js';
import { startDeckServer, type DeckServer } from './deck-server.js';
import { makeJob, moveTo, type JobSpec } from './jobs.js';
import { startOperatorProcess, type OperatorProcess } from './operator-process.js';

// Phase 2's pages in a real headless Chromium: no console errors, axe-core's WCAG 2 AA rules, and
// every link going where it says, against a test GitHub and a test Jenkins whose builds are real.
const JOBS = ['pull-widgets-unit', 'pull-widgets-lint'];

let github: FakeGitHub;
let jenkins: FakeJenkins;
let operator: OperatorProcess;
let deck: DeckServer;
let browser: Browser;
const live: ProwJob[] = [];
const deleted: ProwJob[] = [];

/** A job whose build ran on the test Jenkins, its links on the test GitHub. */
function ranOnJenkins(spec: JobSpec & { state: ProwJobState }): ProwJob {
  const job = makeJob({ ...spec, state: 'triggered', githubUrl: github.url });
  const item = jenkins.queueBuild(job.spec.job, { PROW_JOB_ID: job.metadata.name, BUILD_ID: job.status.build_id ?? '1' });
  const build = jenkins.startBuild(item.id);
  jenkins.finishBuild(build, spec.state === 'success' ? 'SUCCESS' : 'FAILURE', `Running ${job.spec.job}\n<b>not bold</b>`);
  return moveTo(job, spec.state, spec.ranMinutes, String(build.number), jenkins.url);
}

beforeAll(async () => {
  github = await FakeGitHub.start({});
  jenkins = await FakeJenkins.start({ jobs: JOBS, user: 'bowline', apiToken: 'jenkins-token' });
  deleted.push(
    ranOnJenkins({ minute: 1, job: 'pull-widgets-unit', pr: 1, sha: 'a'.repeat(40), state: 'failure', ranMinutes: 4 }),
    ranOnJenkins({ minute: 2, job: 'pull-widgets-unit', pr: 1, sha: 'a'.repeat(40), state: 'success', ranMinutes: 5 }),
  );
  live.push(
    ranOnJenkins({ minute: 3, job: 'pull-widgets-unit', pr: 1, author: 'alice', state: 'success', ranMinutes: 6 }),
    ranOnJenkins({ minute: 4, job: 'pull-widgets-lint', pr: 1, author: 'alice', state: 'failure', ranMinutes: 1 }),
    ranOnJenkins({ minute: 5, job: 'pull-widgets-unit', pr: 2, author: 'bob', state: 'success', ranMinutes: 3 }),
  );
  const operatorPort = await freePort();
  deck = await startDeckServer([...deleted, ...live], { githubUrl: github.url, operatorUrl: `http://127.0.0.1:${operatorPort}` }, undefined, { runsPerPage: 2 });
  // What the sinker does with runs past their retention: each state recorded, then the ProwJob deleted.
  await ensureHistoryStream(deck.bucket.nc, { replicas: 1, maxAgeMs: 24 * 3600_000 });
  const js = jetstream(deck.bucket.nc);
  for (const job of [...deleted, ...live]) {
    const { revision } = (await deck.store.get(job.metadata.name))!;
    const record = toHistoryRecord(job, revision);
    await js.publish(historySubject(HISTORY_SUBJECT_PREFIX, record), JSON.stringify(record), { msgID: historyMessageId(record) });
  }
  for (const job of deleted) await deck.store.delete(job.metadata.name);
  await deck.indexed(live.length);
  operator = await startOperatorProcess({ natsUrl: deck.bucket.nats.url, jenkins, jobs: JOBS, port: operatorPort });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await operator?.stop();
  await deck?.stop();
  await jenkins?.close();
  await github?.close();
});

const PAGES: [string, () => string][] = [
  ['the job list', () => '/'],
  ['a job history', () => '/job-history/pull-widgets-unit'],
  ['an older page of a job history', () => '/job-history/pull-widgets-unit?before=999999'],
  ['a pull request history', () => '/pr/acme/widgets/1'],
  ['a build log', () => `/log/${live[0]!.metadata.name}`],
  ['a ProwJob', () => `/prowjob/${live[1]!.metadata.name}`],
  ['the command help', () => '/command-help'],
  ['a repository’s configured jobs', () => '/configured-jobs/acme/widgets'],
];

describe('every page in a browser', () => {
  let context: BrowserContext;
  let errors: string[];

  beforeEach(async () => {
    // axe's script is added to the page, which the deck's policy would refuse.
    context = await browser.newContext({ bypassCSP: true });
    errors = collectErrors(context);
  });

  afterEach(async () => {
    await context.close();
  });

  it.each(PAGES)('shows %s without a console error, and axe-core finds no WCAG 2 A or AA violation', async (_, path) => {
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const response = await page.goto(`${deck.url}${path()}`);
    expect(response?.status()).toBe(200);
    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
  });
});

interface Link {
  href: string;
  name: string;
}

/** Each link of a page, with the name a screen reader reads for it. */
async function linksOf(path: string): Promise<{ h1: string; links: Link[] }> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${deck.url}${path}`);
    const h1 = (await page.locator('h1').first().textContent()) ?? '';
    const links = await page.locator('a[href]').evaluateAll((anchors) =>
      anchors.map((a) => ({ href: (a as unknown as { href: string }).href, name: (a.getAttribute('aria-label') ?? a.textContent ?? '').replace(/\s+/g, ' ').trim() })),
    );
    return { h1: h1.replace(/\s+/g, ' ').trim(), links };
  } finally {
    await context.close();
  }
}

const lower = (text: string): string => text.toLowerCase();

/** What a deck link's target must show for the link to go where it says. */
async function checkInternal(link: Link, from: { path: string; h1: string }): Promise<void> {
  const url = new URL(link.href);
  const response = await fetch(url);
  const what = `${link.name} (${url.pathname}${url.search}) on ${from.path}`;
  expect([what, response.status]).toEqual([what, 200]);
  const body = await response.text();
  if (url.pathname === '/prowjobs.js') return void expect((JSON.parse(body) as { items: unknown[] }).items.length).toBe(live.length);
  if (url.pathname === '/prowjob') return void expect([what, (parse(body) as ProwJob).metadata.name]).toEqual([what, url.searchParams.get('prowjob')]);
  const $ = load(body);
  const h1 = $('h1').first().text().replace(/\s+/g, ' ').trim();
  if (url.pathname === '/') {
    expect([what, h1]).toEqual([what, 'Jobs']);
    // A filtered list: the link names each filter it sets, and the page opens with them set.
    for (const [name, value] of url.searchParams) {
      expect([what, $(`#filter-${name}`).val()]).toEqual([what, value]);
      expect([what, link.name.includes(value)]).toEqual([what, true]);
    }
    return;
  }
  if (/^(Older|Newer) runs$/.test(link.name)) return void expect([what, h1]).toEqual([what, from.h1]);
  // The link's name and the page's heading name the same thing.
  expect([what, lower(h1).includes(lower(link.name)) || lower(link.name).includes(lower(h1))]).toEqual([what, true]);
}

/** A GitHub link: on the test GitHub, at the path GitHub gives what the link names. */
function checkGitHub(link: Link): void {
  const path = link.href.slice(github.url.length);
  const what = `${link.name} → ${path}`;
  const sha = /\/(?:commit|commits)\/([0-9a-f]{40})$/.exec(path)?.[1];
  if (sha) return void expect([what, link.name.includes(sha.slice(0, 7))]).toEqual([what, true]);
  const pull = /^\/acme\/widgets\/pull\/(\d+)$/.exec(path)?.[1];
  if (pull) return void expect([what, link.name.includes(`#${pull}`)]).toEqual([what, true]);
  if (path === '/acme/widgets') return void expect([what, link.name.includes('acme/widgets')]).toEqual([what, true]);
  // A person's page.
  expect([what, path]).toEqual([what, `/${link.name}`]);
}

/** A Jenkins link: a build the test Jenkins ran, which its API answers for. */
async function checkJenkins(link: Link): Promise<void> {
  const build = jenkins.builds().find((b) => b.url === link.href);
  expect([link.name, link.href, build !== undefined]).toEqual([link.name, link.href, true]);
  expect(link.name).toMatch(/Jenkins/);
  const number = /#(\d+)/.exec(link.name)?.[1];
  if (number) expect(Number(number)).toBe(build!.number);
  const answer = await fetch(`${link.href}api/json`, { headers: { authorization: `Basic ${Buffer.from('bowline:jenkins-token').toString('base64')}` } });
  expect(answer.status).toBe(200);
  expect(((await answer.json()) as { number: number }).number).toBe(build!.number);
}

describe('every link goes where it says', () => {
  it.each(PAGES)('on %s', async (_, path) => {
    const { h1, links } = await linksOf(path());
    expect(links.length).toBeGreaterThan(0);
    const seen = new Set<string>();
    for (const link of links) {
      const key = `${link.href} ${link.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      expect([link.href, link.name]).not.toEqual([link.href, '']);
      if (link.href.startsWith(deck.url)) await checkInternal(link, { path: path(), h1 });
      else if (link.href.startsWith(`${github.url}/`)) checkGitHub(link);
      else if (link.href.startsWith(`${jenkins.url}/`)) await checkJenkins(link);
      else throw new Error(`${link.name} on ${path()} leads to ${link.href}, which is neither the deck, the test GitHub nor the test Jenkins`);
    }
  });
});
