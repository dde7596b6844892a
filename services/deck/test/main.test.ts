import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort, REPO_ROOT, startProwJobBucket, waitForPort, type ProwJobBucket } from '@bowline/testing';
import { readDeckSettings } from '../src/settings.js';
import { makeJob } from './jobs.js';

// The service as it runs in production: its built main.ts as a process, against a real bucket.
const MAIN = join(REPO_ROOT, 'services', 'deck', 'dist', 'main.js');
const BASE_ENV = { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' };

describe('readDeckSettings', () => {
  it('defaults to github.com and pages of 500 rows', () => {
    expect(readDeckSettings({})).toEqual({ githubUrl: 'https://github.com', maxRows: 500 });
  });

  it('takes a GitHub Enterprise address without its trailing slash', () => {
    expect(readDeckSettings({ DECK_GITHUB_URL: 'https://github.example.com/', DECK_MAX_ROWS: '50' })).toEqual({ githubUrl: 'https://github.example.com', maxRows: 50 });
  });
});

describe('the deck service started without a usable setting', () => {
  it.each([
    [{ DECK_MAX_ROWS: 'all' }, 'DECK_MAX_ROWS must be a positive whole number of rows'],
    [{ DECK_MAX_ROWS: '0' }, 'DECK_MAX_ROWS must be a positive whole number of rows'],
    [{ DECK_GITHUB_URL: 'github.com' }, 'DECK_GITHUB_URL must be a web address such as https://github.com, not github.com'],
  ])('with %j exits at once naming what to fix', (env, message) => {
    // NATS_URL points where nothing listens: a deck that got past its settings would hang there.
    const result = spawnSync(process.execPath, [MAIN], { env: { ...BASE_ENV, NATS_URL: 'nats://127.0.0.1:9', ...env }, encoding: 'utf8', timeout: 10_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`deck: cannot start: ${message}`);
  });
});

describe('the deck service', () => {
  const job = makeJob({ job: 'pull-widgets-unit', state: 'pending' });
  let bucket: ProwJobBucket;
  let deck: ChildProcess;
  let url: string;
  let exited: Promise<number | null>;

  beforeAll(async () => {
    bucket = await startProwJobBucket();
    await bucket.store.create(job);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    deck = spawn(process.execPath, [MAIN], { env: { ...BASE_ENV, NATS_URL: bucket.nats.url, PORT: String(port) }, stdio: 'inherit' });
    exited = new Promise((resolve) => deck.once('exit', (code) => resolve(code)));
    await waitForPort(port);
  }, 30_000);

  afterAll(async () => {
    if (deck.exitCode === null) deck.kill('SIGKILL');
    await bucket.stop();
  });

  it('serves /healthz, /readyz and the job list from the bucket on its port', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const list = await (await fetch(`${url}/`)).text();
    expect(list).toContain(`id="job-${job.metadata.name}"`);
  });

  it('stops at once on SIGTERM while a page follows its live updates', async () => {
    const stream = await fetch(`${url}/events`);
    expect(stream.status).toBe(200);
    const stopping = Date.now();
    deck.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Well under the runtime's 20 s grace, after which it would exit 1.
    expect(Date.now() - stopping).toBeLessThan(5_000);
    // The stream was ended, not cut: its text reads to the end.
    expect(await stream.text()).toContain('retry: 2000');
  });
});
