import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { chromium, type Browser } from 'playwright-core';
import { ensureHistoryStream, openProwJobBucket } from '@bowline/bus';
import { freePort, REPO_ROOT, startNats, waitFor } from '@bowline/testing';
import { startChildServer, type ChildServer } from '../hook/child-server.js';
import { emitSection, verdict } from '../report.js';
import { distribution, ms, ratio, sleep } from '../stats.js';
import { fillBucket, fillHistory } from './fill.js';
import { MB_IN_MIB, memorySample, type MemorySample } from './memory.js';
import { readWholeNumberOptions } from '../options.js';

// Deck at scale (issue 18 item 4): ProwJobs in the bucket and history records in HISTORY, the deck
// started as its service; its pages' answer times, a real Chromium's load and filter times, and its
// memory, beside a bare node:http serving the very bytes the deck answered from files.

const USAGE = `usage: npm run bench:deck -- [--prowjobs 20000] [--history 200000] [--requests 20] [--settle 10] [--json FILE]
  --settle  seconds the deck is left idle after the load before its settled memory is read`;
const DECK_MAIN = join(REPO_ROOT, 'services', 'deck', 'dist', 'main.js');
const STATIC_MAIN = fileURLToPath(new URL('./static-server.js', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const TARGET_SERVER_MS = 300;
const TARGET_INTERACTIVE_MS = 1000;
const TARGET_RSS_MB = 200;

function readOptions(argv: string[]) {
  return readWholeNumberOptions(argv, USAGE, { prowjobs: 20000, history: 200000, requests: 20, settle: 10 });
}

/** Request to last byte over loopback, `n` times after one unmeasured request. */
async function answerTimes(url: string, n: number): Promise<{ times: number[]; status: number; bytes: number }> {
  let status = 0;
  let bytes = 0;
  const times: number[] = [];
  for (let i = 0; i <= n; i += 1) {
    const started = performance.now();
    const response = await fetch(url);
    bytes = (await response.arrayBuffer()).byteLength;
    status = response.status;
    if (i > 0) times.push(performance.now() - started);
  }
  return { times, status, bytes };
}

/** A fresh page's Navigation Timing for `url` (ms from navigation start), `n` loads after one unmeasured. */
async function browserLoads(browser: Browser, url: string, n: number): Promise<{ firstByte: number[]; interactive: number[]; loaded: number[]; errors: string[] }> {
  const result = { firstByte: [] as number[], interactive: [] as number[], loaded: [] as number[], errors: [] as string[] };
  for (let i = 0; i <= n; i += 1) {
    const page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') result.errors.push(message.text());
    });
    await page.goto(url, { waitUntil: 'load' });
    // Run in the page (a string, as bench/ is compiled without the DOM's types).
    const timing = (await page.evaluate(
      `(() => { const e = performance.getEntriesByType('navigation')[0]; return { firstByte: e.responseStart, interactive: e.domContentLoadedEventEnd, loaded: e.loadEventEnd }; })()`,
    )) as { firstByte: number; interactive: number; loaded: number };
    if (i > 0) {
      result.firstByte.push(timing.firstByte);
      result.interactive.push(timing.interactive);
      result.loaded.push(timing.loaded);
    }
    await page.close();
  }
  return result;
}

/** The state filter chosen on the page, applied by deck.js without a reload: until every row shows it. */
async function filterTimes(browser: Browser, url: string, n: number): Promise<number[]> {
  const times: number[] = [];
  const page = await browser.newPage();
  await page.goto(url, { waitUntil: 'load' });
  for (let i = 0; i < n; i += 1) {
    const state = i % 2 === 0 ? 'failure' : '';
    const started = performance.now();
    await page.selectOption('#filter-state', state);
    await page.waitForFunction(
      (wanted: string) => {
        // Runs in the page; bench/ is compiled without the DOM's types, so the page's globals are named here.
        const page = globalThis as unknown as { location: { search: string }; document: { querySelectorAll(selector: string): ArrayLike<{ dataset: { state?: string } }> } };
        if (!wanted) return !page.location.search.includes('state=');
        return page.location.search.includes(`state=${wanted}`) && Array.from(page.document.querySelectorAll('#jobs tbody tr')).every((row) => row.dataset.state === wanted);
      },
      state,
      { timeout: 10_000 },
    );
    times.push(performance.now() - started);
  }
  await page.close();
  return times;
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  if (!existsSync(DECK_MAIN)) throw new Error(`${DECK_MAIN} is missing: build first (npx tsc -b, or make bench)`);
  const nats = await startNats();
  const dir = mkdtempSync(join(tmpdir(), 'bowline-bench-deck-'));
  const servers: ChildServer[] = [];
  let browser: Browser | undefined;
  try {
    const nc = await connect({ servers: nats.url });
    const kv = await openProwJobBucket(nc, { replicas: 1 });
    await ensureHistoryStream(nc, { replicas: 1, maxAgeMs: 90 * 24 * 3600_000 });
    const start = Date.now();
    console.log(`deck: ${options.prowjobs} ProwJobs in the bucket, ${options.history} history records …`);
    let t = performance.now();
    await fillBucket(kv, options.prowjobs, start);
    await fillHistory(nc, options.history, start);
    const fillSeconds = (performance.now() - t) / 1000;
    await nc.close();

    const port = await freePort();
    t = performance.now();
    const deck = await startChildServer('deck', DECK_MAIN, { NATS_URL: nats.url, PORT: String(port), LOG_LEVEL: 'warn' }, (running) =>
      waitFor('the deck to be ready', async () => {
        if (!running()) throw new Error('the deck exited');
        return fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
      }, { timeoutMs: 120_000, intervalMs: 50 }),
    );
    servers.push(deck);
    const readySeconds = (performance.now() - t) / 1000;
    const pid = deck.pid;
    const deckUrl = `http://127.0.0.1:${port}`;
    const memoryReady = await memorySample(pid, deckUrl);

    // The deck's answers, then the same bytes from files for the baseline.
    const pages: Array<[string, string]> = [
      ['/ (job list, newest 500 rows)', '/'],
      ['/?state=failure&job=pull-repo-1*', '/?state=failure&job=pull-repo-1*'],
      ['/prowjobs.js (every job, Deck\'s JSON)', '/prowjobs.js'],
      ['/job-history/pull-repo-3-job-0', '/job-history/pull-repo-3-job-0'],
    ];
    const deckTimes = new Map<string, Awaited<ReturnType<typeof answerTimes>>>();
    for (const [name, path] of pages) deckTimes.set(name, await answerTimes(`${deckUrl}${path}`, options.requests));
    writeFileSync(join(dir, 'index.html'), Buffer.from(await (await fetch(`${deckUrl}/`)).arrayBuffer()));
    writeFileSync(join(dir, 'prowjobs.json'), Buffer.from(await (await fetch(`${deckUrl}/prowjobs.js`)).arrayBuffer()));
    for (const asset of ['deck.css', 'deck.js']) writeFileSync(join(dir, asset), readFileSync(join(REPO_ROOT, 'services', 'deck', 'static', asset)));
    const staticPort = await freePort();
    const baseline = await startChildServer('static', STATIC_MAIN, { PORT: String(staticPort), STATIC_DIR: dir }, () =>
      waitFor('the static server', () => fetch(`http://127.0.0.1:${staticPort}/`).then((r) => r.ok, () => false), { timeoutMs: 10_000 }),
    );
    servers.push(baseline);
    const staticUrl = `http://127.0.0.1:${staticPort}`;
    const baselineTimes = new Map([
      [pages[0]![0], await answerTimes(`${staticUrl}/`, options.requests)],
      [pages[2]![0], await answerTimes(`${staticUrl}/prowjobs.js`, options.requests)],
    ]);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const loads = Math.max(3, Math.round(options.requests / 4));
    const deckLoads = await browserLoads(browser, `${deckUrl}/`, loads);
    const staticLoads = await browserLoads(browser, `${staticUrl}/`, loads);
    const filters = await filterTimes(browser, `${deckUrl}/`, loads * 2);
    const memoryLoaded = await memorySample(pid, deckUrl);
    // Settled: idle for a while, no collection forced (nothing asks a running service to collect).
    await sleep(options.settle * 1000);
    const memorySettled = await memorySample(pid, deckUrl);

    const rows = pages.map(([name]) => {
      const d = deckTimes.get(name)!;
      const b = baselineTimes.get(name);
      const dd = distribution(d.times);
      const bd = b ? distribution(b.times) : undefined;
      return [
        name,
        d.status === 200 ? String(d.status) : `${d.status} (not on this branch)`,
        `${(d.bytes / 1024).toFixed(0)} KiB`,
        ms(dd.p50),
        ms(dd.p99),
        bd ? ms(bd.p50) : '-',
        bd ? ms(bd.p99) : '-',
        bd ? ratio(dd.p50, bd.p50) : '-',
      ];
    });
    const list = distribution(deckTimes.get(pages[0]![0])!.times);
    const interactive = distribution(deckLoads.interactive);
    const staticInteractive = distribution(staticLoads.interactive);
    const filter = distribution(filters);
    const browserRow = (name: string, l: typeof deckLoads): string[] => {
      const [f, i, o] = [distribution(l.firstByte), distribution(l.interactive), distribution(l.loaded)];
      return [name, ms(f.p50), ms(i.p50), ms(i.max), ms(o.p50), String(l.errors.length)];
    };
    emitSection(
      {
        id: 'deck',
        title: 'Deck at scale',
        command: `npm run bench:deck -- --prowjobs ${options.prowjobs} --history ${options.history}`,
        about:
          `${options.prowjobs} ProwJobs in the \`prowjobs\` bucket (50 repositories × 8 jobs, 5 % queued, 5 % running, the rest finished) and ${options.history} records in HISTORY ` +
          `(filled in ${fillSeconds.toFixed(1)} s), the deck started as its service (\`services/deck/dist/main.js\`) afterwards: ready after ${readySeconds.toFixed(1)} s. ` +
          `Answer times are request to last byte over loopback from the benchmark process, ${options.requests} requests each after one unmeasured; the baseline is a bare ` +
          `node:http process serving the bytes the deck answered from files. Browser: headless Chromium (${CHROMIUM}), a fresh page per load, Navigation Timing ` +
          `(interactive = DOMContentLoaded done, deck.js run), ${loads} loads after one unmeasured; the filter is the State select changed on a loaded page, ` +
          'applied by deck.js without a reload, timed until every row shows the state.',
        tables: [
          { rows: [['page', 'status', 'size', 'deck p50 ms', 'deck p99 ms', 'static p50 ms', 'static p99 ms', 'deck ÷ static'], ...rows] },
          {
            caption: 'In Chromium (ms from navigation start)',
            rows: [
              ['page', 'first byte p50', 'interactive p50', 'interactive max', 'load event p50', 'console errors'],
              browserRow('deck /', deckLoads),
              browserRow('static copy of /', staticLoads),
              ['filter applied in place (deck.js)', '', ms(filter.p50), ms(filter.max), '', ''],
            ],
          },
          {
            caption: 'Deck memory (MiB; RSS from /proc, the V8 heap and external memory from the deck\'s /metrics)',
            rows: [
              ['when', 'RSS', 'peak RSS so far', 'V8 heap total', 'V8 heap used', 'external'],
              memoryRow('ready, index loaded', memoryReady),
              memoryRow('after the requests and page loads above', memoryLoaded),
              memoryRow(`settled, ${options.settle} s idle after them`, memorySettled),
            ],
          },
        ],
        notes: [
          `target: deck job list server-side < ${TARGET_SERVER_MS} ms: p99 ${ms(list.p99)} ms, ${verdict(list.p99 < TARGET_SERVER_MS)} (static copy p50 ${ms(distribution(baselineTimes.get(pages[0]![0])!.times).p50)} ms)`,
          `target: deck job list interactive in Chromium < ${TARGET_INTERACTIVE_MS} ms: max ${ms(interactive.max)} ms, ${verdict(interactive.max < TARGET_INTERACTIVE_MS)} (static copy p50 ${ms(staticInteractive.p50)} ms)`,
          // The peak is the kernel's high-water mark over the whole run, startup and every request
          // included: the figure a container's memory limit would meet.
          `target: deck RSS < ${TARGET_RSS_MB} MB (${ms(TARGET_RSS_MB * MB_IN_MIB)} MiB) with ${options.prowjobs} ProwJobs: peak ${ms(memorySettled.peak)} MiB, settled ${ms(memorySettled.rss)} MiB, ${verdict(memorySettled.peak < TARGET_RSS_MB * MB_IN_MIB)}`,
          ...(deckLoads.errors.length ? [`console errors on the deck's page: ${[...new Set(deckLoads.errors)].join('; ')}`] : []),
        ],
      },
      options.json,
    );
  } finally {
    await browser?.close();
    for (const server of servers.reverse()) await server.stop();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

function memoryRow(when: string, m: MemorySample): string[] {
  return [when, ms(m.rss), ms(m.peak), ms(m.heapTotal), ms(m.heapUsed), ms(m.external)];
}
