import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { load } from 'cheerio';
import request from 'supertest';
import { freePort, REPO_ROOT, waitFor, waitForPort } from '@bowline/testing';
import { startDeckServer, type DeckServer } from './deck-server.js';
import { makeJob } from './jobs.js';

// Kubernetes/test-infra #28979 and #22317: Prow's deck forgets a job's runs once sinker deletes
// their ProwJobs. Here the real sinker (its built main.js, as it runs in production) records each
// run in HISTORY and deletes the ProwJobs, and the deck still shows every run.
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const firstUnit = makeJob({ minute: 1, job: 'pull-widgets-unit', pr: 1, sha: A, state: 'failure', ranMinutes: 4, build: '11' });
const secondUnit = makeJob({ minute: 2, job: 'pull-widgets-unit', pr: 1, sha: B, state: 'success', ranMinutes: 6, build: '12' });
const lint = makeJob({ minute: 3, job: 'pull-widgets-lint', pr: 1, sha: B, state: 'success', ranMinutes: 2, build: '5' });
const otherPull = makeJob({ minute: 4, job: 'pull-widgets-unit', pr: 2, sha: 'c'.repeat(40), state: 'success', ranMinutes: 5, build: '13' });
const RUNS = [firstUnit, secondUnit, lint, otherPull];

let deck: DeckServer;
let sinker: ChildProcess;
let workDir: string;

beforeAll(async () => {
  deck = await startDeckServer(RUNS);
  workDir = mkdtempSync(join(tmpdir(), 'deck-history-'));
  // The jobs started in 2024: a day's retention deletes every one on the sinker's first pass.
  writeFileSync(join(workDir, 'config.yaml'), 'sinker:\n  max_prowjob_age: 24h\n');
  const port = await freePort();
  sinker = spawn(process.execPath, [join(REPO_ROOT, 'services', 'sinker', 'dist', 'main.js')], {
    env: { PATH: process.env.PATH ?? '', NATS_URL: deck.bucket.nats.url, BOWLINE_CONFIG: join(workDir, 'config.yaml'), PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: 'inherit',
  });
  await waitForPort(port);
  await waitFor('the sinker to delete every ProwJob', async () => (await deck.store.list()).length === 0, { timeoutMs: 20_000 });
  await deck.indexed(0);
}, 40_000);

afterAll(async () => {
  if (sinker && sinker.exitCode === null) {
    const exited = new Promise((resolve) => sinker.once('exit', resolve));
    sinker.kill('SIGTERM');
    await exited;
  }
  await deck?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('/job-history/<job> after the sinker deleted the ProwJobs', () => {
  it('lists every run of the job from HISTORY, newest first, with its end state, duration and Jenkins build', async () => {
    const $ = load((await request(deck.app).get('/job-history/pull-widgets-unit').expect(200)).text);
    expect($('h1').text()).toBe('Job history: pull-widgets-unit');
    const rows = $('table.runs tbody tr');
    expect(rows.map((_, row) => $(row).attr('id')).get()).toEqual([otherPull, secondUnit, firstUnit].map((job) => `run-${job.metadata.name}`));
    expect(rows.map((_, row) => $(row).attr('data-state')).get()).toEqual(['success', 'success', 'failure']);
    expect(rows.map((_, row) => $(row).find('td').eq(2).text()).get()).toEqual(['5m', '6m', '4m']);
    expect(rows.eq(2).find('td').eq(6).find('a').attr('href')).toBe(firstUnit.status.url);
    expect(rows.eq(2).find('td').eq(6).text()).toBe('Jenkins #11');
    // The ProwJobs are gone: no link leads to their pages.
    expect($('a[href^="/prowjob/"], a[href^="/log/"]')).toHaveLength(0);
    expect($('.run-chart svg').attr('aria-label')).toBe('3 runs, bars from oldest to newest: 2 success, 1 failure; finished in 4m to 6m.');
  });
});

describe('/pr/<org>/<repo>/<number> after the sinker deleted the ProwJobs', () => {
  it('shows the newest run of each job on the head commit, and every run in a grid of jobs by commits', async () => {
    const $ = load((await request(deck.app).get('/pr/acme/widgets/1').expect(200)).text);
    expect($('h1').text()).toBe('PR history: acme/widgets#1');
    expect($('h2').first().text()).toBe('Jobs on the head commit bbbbbbb');
    const head = $('#head-jobs tbody tr');
    expect(head.map((_, row) => `${$(row).attr('data-job')} ${$(row).attr('data-state')}`).get()).toEqual(['pull-widgets-lint success', 'pull-widgets-unit success']);

    expect($('#pr-grid thead th').map((_, th) => $(th).text()).get()).toEqual(['Job', 'bbbbbbb', 'aaaaaaa']);
    const grid = Object.fromEntries(
      $('#pr-grid tbody tr')
        .map((_, row) => [[$(row).attr('data-job'), $(row).find('td').map((_, cell) => $(cell).text().trim()).get()]])
        .get() as [string, string[]][],
    );
    expect(grid).toEqual({ 'pull-widgets-lint': ['success', ''], 'pull-widgets-unit': ['success', 'failure'] });
    // Deleted runs link to their Jenkins builds.
    expect($('#pr-grid a.run').map((_, a) => $(a).attr('href')).get()).toEqual([lint.status.url, secondUnit.status.url, firstUnit.status.url]);
  });

  it('answers a page saying nothing is recorded for a pull request without runs', async () => {
    const $ = load((await request(deck.app).get('/pr/acme/widgets/99').expect(200)).text);
    expect($('main').text()).toContain('No runs on acme/widgets#99 are recorded.');
  });
});
