import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { freePort, SERVICES, waitFor, type Pipeline } from '@bowline/testing';
import { startChildServer } from '../hook/child-server.js';
import { COMMENTER, headSha, ORG, presubmitConfig, signedComment, startBenchPipeline, statusWrite, stopService, WebhookSender } from '../pipeline-traffic.js';
import { emitSection, verdict, type Section } from '../report.js';
import { distribution, ms, ratio, sleep, type Distribution } from '../stats.js';
import { FLOOR_STEPS, measureFloor, toJenkins, toPending } from './floor.js';
import { commentStages, slowestToJenkins, traceStages } from './stages.js';

// End to end: signed `/test` comments at a steady rate, each on its own pull request, through the
// hook, planner, jenkins-operator and reporter running as processes; timed from the moment the
// webhook is sent to the moment the test Jenkins accepts its buildWithParameters and the test
// GitHub its first pending status. The floor (floor.ts) is measured in the same run.

const USAGE = `usage: npm run bench:e2e -- [--count 500] [--rate 10] [--floor-samples 200] [--build-seconds 20] [--profile DIR] [--json FILE]

  --count N          comments, each on its own pull request (default 500)
  --rate R           comments per second, sent on a fixed schedule whatever the answers (default 10)
  --floor-samples N  passes over the floor's steps (default 200)
  --build-seconds S  how long each Jenkins build runs before it succeeds (default 20)
  --profile DIR      write each service's CPU profile (node --cpu-prof) into DIR
  --json FILE        also write the results for bench/all.ts`;

const TARGET_JENKINS_P99_MS = 50;
const TARGET_PENDING_P99_MS = 100;
const REPO = 'widgets';
const JOB = 'job-0';
const STAGES = [
  ['hook', 'webhook sent → event stored in EVENTS'],
  ['planner', 'event stored → ProwJob created in the bucket'],
  ['operator', 'ProwJob created → buildWithParameters at Jenkins'],
  ['reporter', 'ProwJob created → first pending status at GitHub'],
] as const;
const BASELINE_MAIN = fileURLToPath(new URL('../hook/baseline-server.js', import.meta.url));

function readOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      count: { type: 'string', default: '500' },
      rate: { type: 'string', default: '10' },
      'floor-samples': { type: 'string', default: '200' },
      'build-seconds': { type: 'string', default: '20' },
      profile: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (flag: string, text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} must be a positive number, not "${text}"\n${USAGE}`);
    return n;
  };
  return {
    count: Math.round(positive('count', values.count)),
    rate: positive('rate', values.rate),
    floorSamples: Math.round(positive('floor-samples', values['floor-samples'])),
    buildMs: positive('build-seconds', values['build-seconds']) * 1000,
    profileDir: values.profile ? resolve(values.profile) : undefined,
    json: values.json,
  };
}

interface Timings {
  sentAt: Map<number, number>;
  jenkinsAt: Map<number, number>;
  pendingAt: Map<number, number>;
  buildRequests: Map<number, number>;
  refused: string[];
  /** The warm-up's pull request, whose later statuses are not the run's. */
  ignored: Set<number>;
}

/** Records, with the bench's clock, when each test server accepted what the pipeline sent it. */
function recordArrivals(pipeline: Pipeline, shaToPull: Map<string, number>): Timings {
  const timings: Timings = { sentAt: new Map(), jenkinsAt: new Map(), pendingAt: new Map(), buildRequests: new Map(), refused: [], ignored: new Set() };
  pipeline.jenkins.onQueued((item) => {
    const pull = Number(item.parameters.PULL_NUMBER);
    if (timings.ignored.has(pull)) return;
    timings.buildRequests.set(pull, (timings.buildRequests.get(pull) ?? 0) + 1);
    if (!timings.jenkinsAt.has(pull)) timings.jenkinsAt.set(pull, performance.now());
  });
  pipeline.github.onRequest((request) => {
    const status = statusWrite(request.method, request.path, request.body);
    if (!status || status.state !== 'pending') return;
    const pull = shaToPull.get(status.sha);
    if (pull !== undefined && !timings.ignored.has(pull) && !timings.pendingAt.has(pull)) timings.pendingAt.set(pull, performance.now());
  });
  return timings;
}

/** node names a profile CPU.<date>.<pid>.…; the service's name is more use to a reader. */
function nameProfiles(dir: string, pipeline: Pipeline): void {
  for (const file of readdirSync(dir)) {
    const name = SERVICES.find((service) => file.includes(`.${pipeline.services[service].process.pid}.`) && file.endsWith('.cpuprofile'));
    if (name) renameSync(join(dir, file), join(dir, `${name}.cpuprofile`));
  }
}

function latencies(timings: Timings, arrivals: Map<number, number>): number[] {
  return [...arrivals].map(([pull, at]) => at - timings.sentAt.get(pull)!);
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });
  const pipeline = await startBenchPipeline({ config: presubmitConfig([REPO], 1), profileDir: options.profileDir });
  const sender = new WebhookSender(pipeline.hookUrl);
  try {
    pipeline.jenkins.addJob(JOB);
    pipeline.jenkins.autoRun({ startAfterMs: 100, finishAfterMs: options.buildMs, result: () => 'SUCCESS' });
    const shaToPull = new Map<string, number>();
    const deliveries = Array.from({ length: options.count + 1 }, (_, i) => {
      const number = i + 1;
      pipeline.github.addPullRequest({ org: ORG, repo: REPO, number, author: COMMENTER, headSha: headSha(number), headRef: `pr-${number}`, baseRef: 'main', files: ['src/x.go'] });
      shaToPull.set(headSha(number), number);
      return signedComment(pipeline, REPO, number, `/test ${JOB}`, `e2e-${process.pid}-${number}`);
    });
    const timings = recordArrivals(pipeline, shaToPull);
    const deliveryPrefix = `e2e-${process.pid}-`;
    const stages = await traceStages(pipeline.nats.url, (id) => (id.startsWith(deliveryPrefix) ? Number(id.slice(deliveryPrefix.length)) : undefined));

    // Pull request 1 warms the path up (the planner asks GitHub who it is once; connections open)
    // and is not counted.
    const warm = deliveries.shift()!;
    timings.sentAt.set(1, performance.now());
    await sender.send(warm);
    await waitFor('the warm-up build and status', () => timings.jenkinsAt.has(1) && timings.pendingAt.has(1), { timeoutMs: 30_000 });
    timings.ignored.add(1);
    timings.jenkinsAt.delete(1);
    timings.pendingAt.delete(1);
    timings.buildRequests.delete(1);

    console.log(`e2e: ${options.count} comments at ${options.rate}/s …`);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const jenkinsBefore = pipeline.jenkins.requests.length;
    const githubBefore = pipeline.github.requests.length;
    const interval = 1000 / options.rate;
    const started = performance.now();
    const answers = deliveries.map(async (delivery, i) => {
      await sleep(started + i * interval - performance.now());
      const pull = i + 2;
      timings.sentAt.set(pull, performance.now());
      const answer = await sender.send(delivery);
      if (answer.status !== 202) timings.refused.push(`${answer.status}${answer.error ? ` ${answer.error}` : ''}`);
    });
    await Promise.all(answers);
    await waitFor('every build request and pending status', () => timings.jenkinsAt.size >= options.count && timings.pendingAt.size >= options.count, {
      timeoutMs: 60_000,
    }).catch(() => undefined);
    loop.disable();
    const requestKinds = (requests: { method: string; path: string }[]): string => {
      const kinds = new Map<string, number>();
      for (const r of requests) {
        const kind = `${r.method} ${r.path.replace(/\/job\/[^/]+/g, '/job/{job}').replace(/\/[0-9a-f]{40}$/, '/{sha}').replace(/\/\d+(?=\/|$)/g, '/{n}').replace(/\/repos\/[^/]+\/[^/]+/, '/repos/{o}/{r}').replace(/\/members\/[^/]+/, '/members/{user}')}`;
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      }
      return [...kinds].sort((a, b) => b[1] - a[1]).map(([kind, n]) => `${kind} ${(n / options.count).toFixed(2)}`).join(', ');
    };
    const jenkinsPerBuild = requestKinds(pipeline.jenkins.requests.slice(jenkinsBefore));
    const githubPerEvent = requestKinds(pipeline.github.requests.slice(githubBefore));
    const toJenkinsMs = latencies(timings, timings.jenkinsAt);
    const toPendingMs = latencies(timings, timings.pendingAt);
    const doubled = [...timings.buildRequests.values()].filter((n) => n > 1).length;
    await stages.close();
    const counted = new Map([...timings.sentAt].filter(([pull]) => !timings.ignored.has(pull)));
    const comments = commentStages(counted, stages.times, timings.jenkinsAt, timings.pendingAt);
    const slowest = slowestToJenkins(comments, started);

    // The floor, against the same nats-server and test servers, with the services stopped (by
    // SIGTERM, so their CPU profiles are written) so that it measures the path's work alone.
    pipeline.jenkins.autoRun(undefined);
    for (const name of SERVICES) await stopService(pipeline, name);
    if (options.profileDir) nameProfiles(options.profileDir, pipeline);
    const port = await freePort();
    const bare = await startChildServer('bare hook', BASELINE_MAIN, { PORT: String(port) }, () =>
      waitFor('the bare server', () => fetch(`http://127.0.0.1:${port}/`).then((r) => r.status === 404, () => false), { timeoutMs: 10_000 }),
    );
    let floor;
    try {
      floor = await measureFloor(pipeline, { samples: options.floorSamples, repo: REPO, job: JOB, bareHookUrl: `http://127.0.0.1:${port}/hook`, delivery: deliveries[0]!, pull: 2, sha: headSha(2) });
    } finally {
      await bare.stop();
    }

    const e2eJenkins = distribution(toJenkinsMs);
    const e2ePending = distribution(toPendingMs);
    const floorJenkins = distribution(floor.map(toJenkins));
    const floorPending = distribution(floor.map(toPending));
    const row = (name: string, d: Distribution, floorOf: Distribution): string[] => [
      name,
      String(d.count),
      ms(d.p50),
      ms(d.p90),
      ms(d.p99),
      ms(d.max),
      ms(floorOf.p50),
      ms(floorOf.p99),
      ratio(d.p50, floorOf.p50),
      ratio(d.p99, floorOf.p99),
    ];
    const section: Section = {
      id: 'e2e',
      title: 'End to end: webhook → Jenkins build request, webhook → first pending status',
      command: `npm run bench:e2e -- --count ${options.count} --rate ${options.rate}`,
      about:
        `${options.count} signed \`/test ${JOB}\` comments by an org member at a steady ${options.rate}/s, each on its own pull request, through hook, planner, ` +
        `jenkins-operator, reporter and sinker running as processes (\`startPipeline\`, as tests/pipeline.test.ts; default settings, so the operator resyncs every 10 s; ` +
        `GitHub write pacer 0 s as in the tests; LOG_LEVEL=info). Builds start 0.1 s after the request and run ${options.buildMs / 1000} s, so unfinished jobs pile up as they do in production. ` +
        `Times from just before the webhook is sent to the moment the test Jenkins accepts \`buildWithParameters\` / the test GitHub accepts the first \`pending\` status of that pull request. ` +
        `Floor: the path's unavoidable steps done alone in the same run, on the same nats-server and test servers, ${options.floorSamples} passes (table 2).`,
      tables: [
        {
          rows: [
            ['path', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'floor p50', 'floor p99', 'p50 / floor', 'p99 / floor'],
            row('webhook → buildWithParameters', e2eJenkins, floorJenkins),
            row('webhook → first pending status', e2ePending, floorPending),
          ],
        },
        {
          caption: 'The floor, step by step (ms)',
          rows: [
            ['step', 'p50', 'p99', 'what'],
            ...FLOOR_STEPS.map(([key, what]) => {
              const d = distribution(floor.map((s) => s[key]));
              return [key, ms(d.p50, 2), ms(d.p99, 2), what];
            }),
            ['→ Jenkins', ms(floorJenkins.p50, 2), ms(floorJenkins.p99, 2), 'http + nats + github + kv + jenkins'],
            ['→ pending', ms(floorPending.p50, 2), ms(floorPending.p99, 2), 'http + nats + github + kv + status'],
          ],
        },
        {
          caption: 'Where the time went, per service (ms; marks seen by a plain NATS subscriber beside the services)',
          rows: [
            ['stage', 'n', 'p50', 'p90', 'p99', 'max', 'from → to'],
            ...STAGES.map(([key, what]) => {
              const d = distribution(comments.flatMap((c) => (c[key] === undefined ? [] : [c[key]])));
              return [key, String(d.count), ms(d.p50), ms(d.p90), ms(d.p99), ms(d.max), what];
            }),
          ],
        },
      ],
      notes: [
        `target: webhook → Jenkins p99 < ${TARGET_JENKINS_P99_MS} ms: ${ms(e2eJenkins.p99)} ms, ${verdict(e2eJenkins.p99 < TARGET_JENKINS_P99_MS)}`,
        `target: webhook → pending status p99 < ${TARGET_PENDING_P99_MS} ms: ${ms(e2ePending.p99)} ms, ${verdict(e2ePending.p99 < TARGET_PENDING_P99_MS)}`,
        `checks: ${toJenkinsMs.length}/${options.count} build requests and ${toPendingMs.length}/${options.count} pending statuses arrived; ${doubled} pull requests got more than one build request; ` +
          `${timings.refused.length} webhooks not answered 202${timings.refused.length ? ` (${[...new Set(timings.refused)].join(', ')})` : ''}; ` +
          `the sending process's own event-loop delay p99 ${ms(loop.percentile(99) / 1e6)} ms, max ${ms(loop.max / 1e6)} ms.`,
        `the slowest to Jenkins (the operator resyncs every 10 s): ${slowest.join('; ')}`,
        `Jenkins requests per comment during the run (the operator's starts and resyncs): ${jenkinsPerBuild}`,
        `GitHub requests per comment during the run: ${githubPerEvent}`,
        ...(options.profileDir ? [`CPU profiles of the services: ${options.profileDir} (summary: node bench/dist/e2e/profile-summary.js ${options.profileDir})`] : []),
      ],
      samples: {
        'webhook → buildWithParameters': toJenkinsMs,
        'webhook → first pending status': toPendingMs,
        'floor → Jenkins': floor.map(toJenkins),
        'floor → pending status': floor.map(toPending),
      },
    };
    emitSection(section, options.json);
  } finally {
    sender.close();
    await pipeline.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
