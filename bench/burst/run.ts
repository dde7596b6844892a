import { SERVICES, waitFor, type Pipeline } from '@bowline/testing';
import { COMMENTER, headSha, ORG, presubmitConfig, signedComment, startBenchPipeline, statusWrite, WebhookSender, type SignedDelivery } from '../pipeline-traffic.js';
import { emitSection, verdict, type Section } from '../report.js';
import { ms, rssMiB, sleep } from '../stats.js';
import { readWholeNumberOptions } from '../options.js';

// Burst: many comments as fast as the hook takes them, then the time until every build has been
// requested and every final status is on GitHub, with builds and statuses counted at the test
// servers (nothing lost, nothing doubled). The services' resident memory idle and after the burst
// is the footprint table.

const USAGE = `usage: npm run bench:burst -- [--comments 2000] [--pulls 200] [--concurrency 32] [--json FILE]

  --comments N     comments in the burst (default 2000); comment i asks for job-(i div pulls) on pull request (i mod pulls)+1
  --pulls P        pull requests they go to (default 200); comments/pulls jobs are configured
  --concurrency C  webhooks in flight at once, each sent when one is answered (default 32)
  --json FILE      also write the results for bench/all.ts`;

const REPO = 'widgets';

function readOptions(argv: string[]) {
  const { comments, pulls, concurrency, json } = readWholeNumberOptions(argv, USAGE, { comments: 2000, pulls: 200, concurrency: 32 });
  if (comments % pulls !== 0) throw new Error(`--comments must be a multiple of --pulls (one comment per job per pull request)\n${USAGE}`);
  return { comments, pulls, jobs: comments / pulls, concurrency, json };
}

async function footprint(pipeline: Pipeline): Promise<Map<string, number>> {
  const rss = new Map<string, number>();
  for (const name of SERVICES) rss.set(name, await rssMiB(pipeline.services[name].process.pid));
  return rss;
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  const pipeline = await startBenchPipeline({ config: presubmitConfig([REPO], options.jobs) });
  const sender = new WebhookSender(pipeline.hookUrl);
  try {
    for (let j = 0; j < options.jobs; j += 1) pipeline.jenkins.addJob(`job-${j}`);
    pipeline.jenkins.autoRun({ startAfterMs: 50, finishAfterMs: 500, result: () => 'SUCCESS' });
    const shaToPull = new Map<string, number>();
    for (let n = 1; n <= options.pulls + 1; n += 1) {
      pipeline.github.addPullRequest({ org: ORG, repo: REPO, number: n, author: COMMENTER, headSha: headSha(n), headRef: `pr-${n}`, baseRef: 'main', files: ['src/x.go'] });
      shaToPull.set(headSha(n), n);
    }
    const deliveries: SignedDelivery[] = Array.from({ length: options.comments }, (_, i) =>
      signedComment(pipeline, REPO, (i % options.pulls) + 2, `/test job-${Math.floor(i / options.pulls)}`, `burst-${process.pid}-${i}`),
    );

    // What the test servers saw: build requests per (pull request, job), status writes per
    // (commit, context), every GitHub write.
    const builds = new Map<string, number>();
    let lastBuildAt = 0;
    pipeline.jenkins.onQueued((item) => {
      const key = `${item.parameters.PULL_NUMBER}/${item.job}`;
      builds.set(key, (builds.get(key) ?? 0) + 1);
      lastBuildAt = performance.now();
    });
    const finals = new Map<string, number>();
    let statusWrites = 0;
    let githubWrites = 0;
    let lastFinalAt = 0;
    pipeline.github.onRequest((request) => {
      if (request.method !== 'GET') githubWrites += 1;
      const status = statusWrite(request.method, request.path, request.body);
      if (!status) return;
      statusWrites += 1;
      if (status.state === 'success' || status.state === 'failure') {
        const key = `${status.sha}/${status.context}`;
        finals.set(key, (finals.get(key) ?? 0) + 1);
        lastFinalAt = performance.now();
      }
    });

    // Pull request 1 warms the path; then the services settle and their memory is read idle.
    await sender.send(signedComment(pipeline, REPO, 1, '/test job-0', `burst-${process.pid}-warm`));
    await waitFor('the warm-up status', () => finals.size === 1, { timeoutMs: 30_000 });
    await sleep(3000);
    const idle = await footprint(pipeline);
    builds.clear();
    finals.clear();
    statusWrites = 0;
    githubWrites = 0;

    console.log(`burst: ${options.comments} comments on ${options.pulls} pull requests, ${options.concurrency} in flight …`);
    const started = performance.now();
    let next = 0;
    const refused: string[] = [];
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < deliveries.length) {
          const answer = await sender.send(deliveries[next++]!);
          if (answer.status !== 202) refused.push(`${answer.status}${answer.error ? ` ${answer.error}` : ''}`);
        }
      }),
    );
    const acceptedMs = performance.now() - started;
    const complete = await waitFor('every build and final status', () => builds.size >= options.comments && finals.size >= options.comments, {
      timeoutMs: 300_000,
      intervalMs: 50,
    }).then(
      () => true,
      () => false,
    );
    // Anything still to come (a doubled build or status) has a few seconds to show up.
    await sleep(3000);
    const after = await footprint(pipeline);

    const doubledBuilds = [...builds.values()].filter((n) => n > 1).length;
    const doubledFinals = [...finals.values()].filter((n) => n > 1).length;
    const expected = options.comments;
    const section: Section = {
      id: 'burst',
      title: 'Burst',
      command: `npm run bench:burst -- --comments ${options.comments} --pulls ${options.pulls}`,
      about:
        `${options.comments} signed comments on ${options.pulls} pull requests, sent ${options.concurrency} at a time as fast as the hook answers; comment i asks for job-(i div ${options.pulls}) on ` +
        `pull request (i mod ${options.pulls}), so every comment is one ProwJob and one build. Builds start 50 ms after their request and succeed 0.5 s later. ` +
        `Same pipeline as the end-to-end run (GitHub write pacer 0 s). Times from the first webhook sent.`,
      tables: [
        {
          rows: [
            ['measure', 'value'],
            ['webhooks accepted (202)', `${expected - refused.length} / ${expected}`],
            ['all accepted after', `${ms(acceptedMs / 1000, 2)} s (${((expected - refused.length) / (acceptedMs / 1000)).toFixed(0)}/s)`],
            ['every build requested after', `${ms((lastBuildAt - started) / 1000, 2)} s`],
            ['every final status on GitHub after', `${ms((lastFinalAt - started) / 1000, 2)} s`],
            ['builds requested (distinct pull request × job)', `${builds.size} / ${expected}`],
            ['builds requested more than once', String(doubledBuilds)],
            ['final statuses (distinct commit × context)', `${finals.size} / ${expected}`],
            ['final statuses written more than once', String(doubledFinals)],
            ['status writes per final status', (statusWrites / Math.max(1, finals.size)).toFixed(2)],
            ['GitHub writes per final status (all POST/PATCH/DELETE)', (githubWrites / Math.max(1, finals.size)).toFixed(2)],
          ],
        },
      ],
      notes: [
        `check: nothing lost, nothing doubled: ${verdict(complete && builds.size === expected && finals.size === expected && doubledBuilds === 0 && doubledFinals === 0 && refused.length === 0)}` +
          (refused.length ? ` (${refused.length} webhooks refused: ${[...new Set(refused)].join(', ')})` : ''),
        'A job\'s statuses are "Job triggered.", "Jenkins job enqueued.", "Jenkins job running." (pending) and its result: at most 4 writes for each final status ' +
          '(Prow\'s crier reports state changes only: 3); fewer means the reporter found a newer state in the bucket while a write waited ' +
          '(GitHub write pacer 0 s here; with GitHub\'s 1 s pacer more states are merged).',
      ],
    };
    emitSection(section, options.json);

    const footprintSection: Section = {
      id: 'footprint',
      title: 'Footprint: resident memory of each service',
      command: 'npm run bench:burst',
      about: `VmRSS of each service process (/proc), idle (started, one warm-up job done, 3 s later) and 3 s after the burst of ${options.comments} comments above.`,
      tables: [
        {
          rows: [
            ['service', 'idle MiB', 'after burst MiB'],
            ...SERVICES.map((name) => [name, ms(idle.get(name)!), ms(after.get(name)!)]),
          ],
        },
      ],
      notes: ['The deck\'s memory, with 20,000 ProwJobs, is in the deck table.'],
    };
    emitSection(footprintSection, options.json ? options.json.replace(/\.json$/, '') + '.footprint.json' : undefined);
  } finally {
    sender.close();
    await pipeline.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
