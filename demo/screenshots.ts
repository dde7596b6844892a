// Screenshots of each page type of a running deck, for the README and docs/: given the deck's
// address (the one `make demo` prints), saves one PNG per page into docs/screenshots/. Run after
// `npx tsc -b demo`:  node demo/dist/screenshots.js http://127.0.0.1:8085 [out-dir]
// The pages are found from the deck's own data (/prowjobs.js), so any demo's jobs will do.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { ProwJob } from '@bowline/prowjob';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const DEFAULT_OUT = resolve(fileURLToPath(new URL('..', import.meta.url)), '..', 'docs', 'screenshots');

/** The value most of `items` have: the job and pull request with the most runs show the most. */
function mostCommon<T>(items: T[], key: (item: T) => string | undefined): T | undefined {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const best = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  return items.find((item) => key(item) === best);
}

/** The address of each page type, from the deck's jobs: those of the busiest job and pull request. */
export function pagesOf(jobs: ProwJob[]): [string, string][] {
  const pulled = jobs.filter((job) => job.spec.refs?.pulls?.length);
  const withPull = mostCommon(pulled, (job) => `${job.spec.refs?.org}/${job.spec.refs?.repo}#${job.spec.refs?.pulls?.[0]?.number}`) ?? jobs[0];
  const busiest = mostCommon(jobs, (job) => job.spec.job);
  const pages: [string, string][] = [['jobs', '/'], ['command-help', '/command-help']];
  if (!withPull) return pages;
  const refs = withPull.spec.refs;
  pages.push(['prowjob', `/prowjob/${encodeURIComponent(withPull.metadata.name)}`], ['job-history', `/job-history/${encodeURIComponent((busiest ?? withPull).spec.job)}`]);
  if (refs?.org && refs.repo) {
    pages.push(['jobs-filtered', `/?repo=${encodeURIComponent(`${refs.org}/${refs.repo}`)}`], ['configured-jobs', `/configured-jobs/${refs.org}/${refs.repo}`]);
    const pull = refs.pulls?.[0];
    if (pull) pages.push(['pr-history', `/pr/${refs.org}/${refs.repo}/${pull.number}`]);
  }
  const built = jobs.find((job) => job.status.jenkins_build_id);
  if (built) pages.push(['log', `/log/${encodeURIComponent(built.metadata.name)}`]);
  pages.push(['badge', `/badge.svg?jobs=${encodeURIComponent((busiest ?? withPull).spec.job)}`]);
  return pages;
}

export async function takeScreenshots(deckUrl: string, outDir: string): Promise<string[]> {
  const base = deckUrl.replace(/\/+$/, '');
  const answer = await fetch(`${base}/prowjobs.js`);
  if (!answer.ok) throw new Error(`${base}/prowjobs.js answered ${answer.status}: is the deck running there?`);
  const { items } = (await answer.json()) as { items: ProwJob[] };
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Chromium (apt-get install -y chromium) or set CHROMIUM_BIN`);
  mkdirSync(outDir, { recursive: true });
  const rootArgs = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...rootArgs, '--disable-dev-shm-usage'] });
  const saved: string[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    for (const [name, path] of pagesOf(items)) {
      if (name === 'badge') {
        // A bare SVG document has no page to lay out: shown as a README shows it, in an <img>.
        await page.setContent(`<body style="margin:16px"><img id="badge" alt="badge" src="${base}${path}"></body>`);
        await page.locator('#badge').evaluate((img) => (img as unknown as { decode(): Promise<void> }).decode());
        const file = join(outDir, `${name}.png`);
        await page.locator('#badge').screenshot({ path: file });
        saved.push(file);
        continue;
      }
      const response = await page.goto(`${base}${path}`, { waitUntil: 'load' });
      // A page that answers an error still shows what the deck tells a person (a log page while the
      // jenkins-operator is away): it is saved, and named.
      if (!response || response.status() !== 200) console.warn(`${path} answered ${response?.status() ?? 'nothing'}`);
      // The list's live updates connect after load; the screenshot shows the page settled.
      await page.waitForTimeout(300);
      const file = join(outDir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: name !== 'log' });
      saved.push(file);
    }
  } finally {
    await browser.close();
  }
  return saved;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [deckUrl, outDir = DEFAULT_OUT] = process.argv.slice(2);
  if (!deckUrl) {
    console.error('usage: node demo/dist/screenshots.js <deck URL, e.g. http://127.0.0.1:8085> [out-dir, default docs/screenshots]');
    process.exit(2);
  }
  takeScreenshots(deckUrl, outDir).then(
    (files) => console.log(files.map((file) => `saved ${file}`).join('\n')),
    (error: unknown) => {
      console.error(`screenshots: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
