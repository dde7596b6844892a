import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { parseConfig, staticConfigSource, type Config } from '@bowline/config';
import { JenkinsClient } from '@bowline/jenkins';
import { createLogger } from '@bowline/observability';
import { newPresubmitJob, ProwJobStore, transition, type ProwJob } from '@bowline/prowjob';
import { FakeJenkins, startNats, waitFor, type NatsServer } from '@bowline/testing';
import { buildParameters, JENKINS_MASTER, JenkinsMasters, JenkinsOperator } from '@bowline/jenkins-operator';
import { emitSection, verdict } from '../report.js';

// The jenkins-operator with N unfinished ProwJobs spread over J Jenkins jobs, next to baselines
// measured in the same run: the Jenkins reads a resync cannot do without, and a bare "KV watch
// sees a new key → POST to Jenkins" loop for the time from a ProwJob's creation to its build.

const USAGE = `usage: npm run bench:operator -- [--sizes 100,1000,10000] [--jobs J] [--resyncs R] [--starts M] [--json FILE]

  --sizes N,N,...   unfinished ProwJobs in the bucket, one round each (default 100,1000,10000)
  --jobs J          Jenkins jobs they are spread over (default 10)
  --resyncs R       full resyncs measured per round (default 5)
  --starts M        new ProwJobs created one by one per round, timed to their POST (default 200)
  --json FILE       also write the results for bench/all.ts`;

const TARGET_START_P99_MS = 100;
const USER = 'bowline';
const TOKEN = 'bench-token';
const logger = createLogger({ service: 'bench', level: 'warn' });

interface Options {
  sizes: number[];
  jobs: number;
  resyncs: number;
  starts: number;
  json: string | undefined;
}

interface Round {
  n: number;
  requestsPerResync: number;
  /** The requests of one resync by kind. */
  requestKinds: string;
  resyncMs: number;
  floorMs: number;
  startP50: number;
  startP99: number;
  baselineP50: number;
  baselineP99: number;
}

function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '100,1000,10000' },
      jobs: { type: 'string', default: '10' },
      resyncs: { type: 'string', default: '5' },
      starts: { type: 'string', default: '200' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const whole = (text: string, what: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${what} must be a whole number above 0, not "${text}"\n${USAGE}`);
    return value;
  };
  return {
    sizes: values.sizes.split(',').map((s) => whole(s.trim(), '--sizes')),
    jobs: whole(values.jobs, '--jobs'),
    resyncs: whole(values.resyncs, '--resyncs'),
    starts: whole(values.starts, '--starts'),
    json: values.json,
  };
}

function benchConfig(jobs: number): Config {
  const presubmits = Array.from({ length: jobs }, (_, i) => `  - name: bench-${i}\n    agent: jenkins\n    context: ci/bench-${i}\n`).join('');
  return parseConfig(`presubmits:\n  acme/widgets:\n${presubmits}bowline:\n  jenkins_operator:\n    resync_period: 1h\n`, 'bench-config.yaml');
}

let serial = 0;
function newJob(config: Config, jobIndex: number): ProwJob {
  serial += 1;
  const presubmit = config.presubmits['acme/widgets']![jobIndex]!;
  return newPresubmitJob(presubmit, {
    name: `bench-${process.pid}-${serial}`,
    // One pull request per ProwJob, so none is an older duplicate of another.
    refs: {
      org: 'acme',
      repo: 'widgets',
      base_ref: 'main',
      base_sha: 'b'.repeat(40),
      pulls: [{ number: serial, author: 'alice', sha: 'a'.repeat(40), ref: `pr-${serial}`, title: 'bench' }],
    },
    now: new Date(),
    cause: { event: 'issue_comment', deliveryId: `bench-${serial}`, user: 'alice', comment: '/test all' },
  });
}

/**
 * Waits until the operator has finished what its start set off (the watch replays every key, and
 * each one asks for a pass) and Jenkins has heard nothing from it for a while, so a measured
 * resync is the only thing talking to Jenkins.
 */
async function quiesce(operator: JenkinsOperator, jenkins: FakeJenkins): Promise<void> {
  for (let seen = -1; seen !== jenkins.requests.length; ) {
    seen = jenkins.requests.length;
    await operator.settled();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Creates `count` ProwJobs one at a time with `create` and times each from just before its
 * creation to its `buildWithParameters` reaching Jenkins; returns the times, sorted.
 */
async function timeToPost(jenkins: FakeJenkins, config: Config, options: Options, create: (job: ProwJob) => Promise<unknown>): Promise<number[]> {
  const createdAt = new Map<string, number>();
  const latencies: number[] = [];
  jenkins.onQueued((item) => {
    const at = createdAt.get(item.parameters.PROW_JOB_ID ?? '');
    if (at !== undefined) latencies.push(performance.now() - at);
  });
  for (let i = 0; i < options.starts; i += 1) {
    const job = newJob(config, i % options.jobs);
    createdAt.set(job.metadata.name, performance.now());
    await create(job);
    await waitFor('the POST', () => latencies.length > i, { timeoutMs: 30_000, intervalMs: 1 });
  }
  return latencies.sort((a, b) => a - b);
}

/** The floor for a start: a bare KV watcher that POSTs each new key's build at once, without looking first. */
async function timeBareStarts(nats: NatsServer, jenkins: FakeJenkins, config: Config, options: Options): Promise<number[]> {
  const nc = await connect({ servers: nats.url });
  const kv = await new Kvm(nc).create(`bench_baseline_${serial}`, { history: 1 });
  const client = new JenkinsClient({ url: jenkins.url, auth: { kind: 'basic', user: USER, token: TOKEN }, logger });
  const watch = await kv.watch();
  void (async () => {
    for await (const entry of watch) {
      if (entry.operation !== 'PUT') continue;
      const job = entry.json<ProwJob>();
      await client.buildWithParameters(`job/${job.spec.job}`, buildParameters(job));
    }
  })();
  try {
    return await timeToPost(jenkins, config, options, (job) => kv.create(job.metadata.name, JSON.stringify(job)));
  } finally {
    watch.stop();
    await nc.close();
  }
}

async function runRound(nats: NatsServer, n: number, options: Options): Promise<Round> {
  const config = benchConfig(options.jobs);
  const jenkins = await FakeJenkins.start({ jobs: Array.from({ length: options.jobs }, (_, i) => `bench-${i}`), user: USER, apiToken: TOKEN });
  const nc = await connect({ servers: nats.url });
  const store = new ProwJobStore(await new Kvm(nc).create(`bench_prowjobs_${n}_${process.pid}`, { history: 1 }));
  try {
    // N builds running in Jenkins, and their ProwJobs pending, as an operator leaves them.
    const unfinished: ProwJob[] = [];
    for (let i = 0; i < n; i += 1) {
      const job = newJob(config, i % options.jobs);
      const item = jenkins.queueBuild(job.spec.job, buildParameters(job));
      const build = jenkins.startBuild(item.id);
      const pending = transition(job, 'pending', new Date(), { jenkins_build_id: String(build.number), url: build.url })!;
      pending.metadata.annotations[JENKINS_MASTER] = 'default';
      unfinished.push(pending);
    }
    for (let i = 0; i < unfinished.length; i += 500) await Promise.all(unfinished.slice(i, i + 500).map((job) => store.create(job)));

    const client = new JenkinsClient({ url: jenkins.url, auth: { kind: 'basic', user: USER, token: TOKEN }, logger });
    const source = staticConfigSource(config);
    const operator = new JenkinsOperator({
      store,
      masters: new JenkinsMasters({ config: source, defaultClient: client, logger }),
      config: source,
      logger,
      registry: new Registry(),
    });
    await operator.start();
    await quiesce(operator, jenkins);

    // Full resyncs: requests Jenkins saw and wall time, each pass over every unfinished job.
    let requests = 0;
    let resyncMs = 0;
    const kinds = new Map<string, number>();
    for (let r = 0; r < options.resyncs; r += 1) {
      const before = jenkins.requests.length;
      const started = performance.now();
      await operator.sync(unfinished);
      resyncMs += performance.now() - started;
      requests += jenkins.requests.length - before;
      for (const request of jenkins.requests.slice(before)) {
        const kind = `${request.method} ${request.path.replace(/\/job\/[^/]+/g, '/job/{job}').replace(/\/\d+(?=\/|$)/g, '/{n}')}`;
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      }
    }

    // The floor: the same reads, one queue listing and one deep listing per job, from a bare client.
    const depth = Math.ceil(n / options.jobs) + 120;
    let floorMs = 0;
    for (let r = 0; r < options.resyncs; r += 1) {
      const started = performance.now();
      await client.listQueue();
      await Promise.all(Array.from({ length: options.jobs }, (_, i) => client.listBuilds(`job/bench-${i}`, { depth })));
      floorMs += performance.now() - started;
    }

    const starts = await timeToPost(jenkins, config, options, (job) => store.create(job));
    await operator.stop();
    const baseline = await timeBareStarts(nats, jenkins, config, options);
    return {
      n,
      requestsPerResync: requests / options.resyncs,
      requestKinds: [...kinds].map(([kind, count]) => `${kind} ${(count / options.resyncs).toFixed(1)}`).join(', '),
      resyncMs: resyncMs / options.resyncs,
      floorMs: floorMs / options.resyncs,
      startP50: percentile(starts, 50),
      startP99: percentile(starts, 99),
      baselineP50: percentile(baseline, 50),
      baselineP99: percentile(baseline, 99),
    };
  } finally {
    await nc.close();
    await jenkins.close();
  }
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  const nats = await startNats();
  const rounds: Round[] = [];
  try {
    for (const n of options.sizes) rounds.push(await runRound(nats, n, options));
  } finally {
    await nats.stop();
  }
  const j = options.jobs;
  const fixed = (value: number, digits = 1): string => value.toFixed(digits);
  emitSection(
    {
      id: 'operator',
      title: 'jenkins-operator: Jenkins requests per resync, resync time, ProwJob → build request',
      command: 'npm run bench:operator',
      about:
        `${availableParallelism()} CPUs, Node ${process.version}. N unfinished ProwJobs over J = ${j} Jenkins jobs of the test Jenkins, the real JenkinsOperator in-process; ` +
        `${options.resyncs} full resyncs and ${options.starts} new ProwJobs created one at a time per round; times in ms. Floors: "reads alone" is the J + 1 listings by a bare ` +
        'JenkinsClient; "bare" is a KV watcher that POSTs each new key at once without looking first. Prow lists one Jenkins job per unfinished ProwJob (N + 1).',
      tables: [
        {
          rows: [
            ['N', 'requests/resync', 'target J+1', 'Prow-style N+1', 'resync', 'reads alone', 'ratio', 'start p50', 'start p99', 'bare p50', 'bare p99', 'p99 ratio'],
            ...rounds.map((r) => [
              String(r.n),
              fixed(r.requestsPerResync),
              String(j + 1),
              String(r.n + 1),
              fixed(r.resyncMs),
              fixed(r.floorMs),
              `${fixed(r.resyncMs / r.floorMs, 2)}×`,
              fixed(r.startP50),
              fixed(r.startP99),
              fixed(r.baselineP50),
              fixed(r.baselineP99),
              `${fixed(r.startP99 / r.baselineP99, 2)}×`,
            ]),
          ],
        },
      ],
      notes: [
        ...rounds.map((r) => `N=${r.n}: one resync's requests: ${r.requestKinds}`),
        ...rounds.map(
        (r) =>
          `target: operator at N=${r.n}: requests per resync ${fixed(r.requestsPerResync)} ≤ J+1 = ${j + 1}: ${verdict(r.requestsPerResync <= j + 1)}; ` +
          `creation → POST p99 ${fixed(r.startP99)} ms < ${TARGET_START_P99_MS} ms: ${verdict(r.startP99 < TARGET_START_P99_MS)}`,
        ),
      ],
    },
    options.json,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
