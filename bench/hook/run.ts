import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, pullRequestCommentPayload, REPO_ROOT, signWebhook, startNats, waitFor } from '@bowline/testing';
import { startChildServer, type ChildServer } from './child-server.js';
import { emitSection, verdict, type Section } from '../report.js';
import { runLoad, type LoadResult, type PreparedRequest } from './load-generator.js';

// The hook's throughput and latency next to a bare node:http server's, measured in one run on the
// same machine, so the ratio means something even where the absolute figures do not carry over.

const USAGE = `usage: npm run bench:hook -- [--concurrency N] [--duration SECONDS | --requests N] [--warmup SECONDS] [--json FILE]

  --concurrency N     requests in flight at once (default 100)
  --duration S        length of the measured phase per server (default 5)
  --requests N        measure N requests per server instead of a fixed duration
  --warmup S          unmeasured warm-up per server (default 1)
  --json FILE         also write the results for bench/all.ts`;

/** The issue's targets for the hook. */
const TARGET_THROUGHPUT_RATIO = 0.5;
const TARGET_P99_MS = 20;
const TARGET_CONCURRENCY = 100;
/** Issue 21: the hook at ≥ 0.8× the throughput of a minimal hook doing only the necessary work. */
const TARGET_FLOOR_RATIO = 0.8;

/** Distinct signed bodies, cycled: enough variety to be realistic, few enough to sign up front. */
const BODY_POOL = 256;
const COMMANDS = ['/test all', '/retest', '/test unit', 'LGTM, thanks!\n\n/test integration'];
const REQUEST_TIMEOUT_MS = 10_000;
const HOOK_MAIN = join(REPO_ROOT, 'services', 'hook', 'dist', 'main.js');
const BASELINE_MAIN = fileURLToPath(new URL('./baseline-server.js', import.meta.url));
const MINIMAL_HOOK_MAIN = fileURLToPath(new URL('./minimal-hook.js', import.meta.url));

interface Options {
  concurrency: number;
  durationMs: number;
  requests: number | undefined;
  warmupMs: number;
  json: string | undefined;
}

/** What the run started, undone in reverse order at the end, on error, and on Ctrl-C. */
const cleanups: Array<() => Promise<void>> = [];

async function cleanUp(): Promise<void> {
  for (let step = cleanups.pop(); step; step = cleanups.pop()) {
    await step().catch((error: unknown) => console.error(`bench: clean-up step failed: ${String(error)}`));
  }
}

function readOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      concurrency: { type: 'string', default: '100' },
      duration: { type: 'string', default: '5' },
      requests: { type: 'string' },
      warmup: { type: 'string', default: '1' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (flag: string, text: string, integer: boolean): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new UsageError(`--${flag} must be a positive ${integer ? 'whole number' : 'number'}, not "${text}"`);
    }
    return n;
  };
  const warmup = Number(values.warmup);
  if (!Number.isFinite(warmup) || warmup < 0) throw new UsageError(`--warmup must be 0 or more seconds, not "${values.warmup}"`);
  return {
    concurrency: positive('concurrency', values.concurrency, true),
    durationMs: positive('duration', values.duration, false) * 1000,
    requests: values.requests === undefined ? undefined : positive('requests', values.requests, true),
    warmupMs: warmup * 1000,
    json: values.json,
  };
}

class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Signs every body before anything is measured. The delivery id is not covered by the signature,
 * so each request still gets its own (JetStream would otherwise drop it as a duplicate and skip
 * the write) at the cost of one randomUUID() in the loop, the same for both servers.
 */
function prepareDeliveries(secret: string): { next: () => PreparedRequest; bodyBytes: number } {
  const signed = Array.from({ length: BODY_POOL }, (_, i) => {
    const payload = pullRequestCommentPayload({
      org: 'acme',
      repo: 'widgets',
      number: 1 + (i % 64),
      commenter: 'alice',
      body: COMMANDS[i % COMMANDS.length]!,
    });
    payload.comment.id = 1_000_000 + i;
    payload.comment.html_url = `${payload.issue.html_url}#issuecomment-${payload.comment.id}`;
    const { headers, body } = signWebhook({ event: 'issue_comment', payload, secret });
    const bytes = Buffer.from(body);
    return { headers: { ...headers, 'content-length': String(bytes.length) }, body: bytes };
  });
  let n = 0;
  return {
    bodyBytes: signed[0]!.body.length,
    next: () => {
      const delivery = signed[n++ % BODY_POOL]!;
      return { headers: { ...delivery.headers, 'X-GitHub-Delivery': randomUUID() }, body: delivery.body };
    },
  };
}

async function startBaseline(): Promise<{ server: ChildServer; port: number }> {
  const port = await freePort();
  const server = await startChildServer('baseline', BASELINE_MAIN, { PORT: String(port) }, (running) =>
    waitFor('the baseline server to listen', () => probe(`http://127.0.0.1:${port}/`, 404, running), { timeoutMs: 10_000 }),
  );
  return { server, port };
}

async function startHook(natsUrl: string, secretFile: string, main = HOOK_MAIN, name = 'hook'): Promise<{ server: ChildServer; port: number }> {
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx tsc -b, or make bench)`);
  const port = await freePort();
  const env = { NATS_URL: natsUrl, GITHUB_WEBHOOK_SECRET_FILE: secretFile, PORT: String(port), LOG_LEVEL: 'warn' };
  // /readyz turns 200 once NATS is connected and the EVENTS stream exists: the first webhook is
  // then a plain publish, not stream creation.
  const server = await startChildServer(name, main, env, (running) =>
    waitFor(`the ${name} to be ready`, () => probe(`http://127.0.0.1:${port}/readyz`, 200, running), { timeoutMs: 20_000 }),
  );
  return { server, port };
}

async function probe(url: string, status: number, running: () => boolean): Promise<boolean> {
  if (!running()) throw new Error('the process exited');
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.status === status;
  } catch {
    return false;
  }
}

/** Starts a server, loads it, checks it survived, and stops it before the next one starts. */
async function measure(
  start: () => Promise<{ server: ChildServer; port: number }>,
  options: Options,
  next: () => PreparedRequest,
  after?: (port: number) => Promise<void>,
): Promise<LoadResult> {
  const { server, port } = await start();
  cleanups.push(() => server.stop());
  const result = await runLoad({ port, path: '/hook', timeoutMs: REQUEST_TIMEOUT_MS, next, ...options });
  if (server.exitCode() !== null) {
    throw new Error(`${server.name} exited (${String(server.exitCode())}) during the run:\n${server.output()}`);
  }
  await after?.(port);
  await cleanups.pop()!();
  return result;
}

/** Sums the hook's `bowline_hook_requests_total` by outcome, to show what JetStream stored. */
async function readHookOutcomes(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const outcomes = new Map<string, number>();
  for (const match of text.matchAll(/^bowline_hook_requests_total\{([^}]*)\} (\S+)$/gm)) {
    const outcome = /outcome="([^"]*)"/.exec(match[1]!)?.[1] ?? 'unknown';
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + Number(match[2]));
  }
  return outcomes;
}

function natsServerVersion(): string {
  try {
    return execFileSync(process.env.NATS_SERVER_BIN ?? 'nats-server', ['--version'], { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return 'nats-server (version unknown)';
  }
}

function report(options: Options, bodyBytes: number, results: Array<[string, LoadResult]>, hookOutcomes: Map<string, number>): Section {
  const fixed = (value: number): string => (Number.isNaN(value) ? '-' : value.toFixed(2));
  const result = (name: string): LoadResult => results.find(([n]) => n === name)![1];
  const hook = result('hook');
  const baseline = result('baseline');
  const floor = result('minimal hook');
  const phase = options.requests === undefined ? `${options.durationMs / 1000} s` : `${options.requests} requests`;
  const errors = results
    .filter(([, r]) => r.errorCount > 0)
    .map(([name, r]) => `${name} errors: ${[...r.errors].map(([kind, count]) => `${kind} ×${count}`).join(', ')}`);
  const outcomes = [...hookOutcomes].map(([outcome, count]) => `${outcome} ${count}`).join(', ');
  const where = options.concurrency === TARGET_CONCURRENCY ? '' : ` (measured at ${options.concurrency} concurrent; the target is for ${TARGET_CONCURRENCY})`;
  const baselineRatio = hook.acceptedPerSecond / baseline.acceptedPerSecond;
  const floorRatio = hook.acceptedPerSecond / floor.acceptedPerSecond;
  return {
    id: 'hook',
    title: 'Hook: accepted webhooks per second and latency',
    command: 'npm run bench:hook',
    about:
      `${availableParallelism()} CPUs, Node ${process.version}, ${natsServerVersion()}. Closed loop of ${options.concurrency} requests in flight, warm-up ${options.warmupMs / 1000} s, ` +
      `measured ${phase} per server, one server at a time, each its own process; issue_comment payload ${(bodyBytes / 1024).toFixed(1)} KiB (${BODY_POOL} distinct bodies, signed before the run). ` +
      'baseline: bare node:http reading the body and answering 202. minimal hook (the true floor): read body, HMAC, JSON.parse, JetStream publish with ack, 202 ' +
      '(bench/hook/minimal-hook.ts). hook: the real service. Each JetStream server is a fresh nats-server.',
    tables: [
      {
        rows: [
          ['server', 'requests', 'errors', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'hook req/s ÷ this'],
          ...results.map(([name, r]) => [
            name,
            String(r.requests),
            String(r.errorCount),
            r.acceptedPerSecond.toFixed(0),
            fixed(r.p50),
            fixed(r.p90),
            fixed(r.p99),
            `${(hook.acceptedPerSecond / r.acceptedPerSecond).toFixed(2)}×`,
          ]),
        ],
      },
    ],
    notes: [
      ...errors,
      `hook outcomes, warm-up included (bowline_hook_requests_total): ${outcomes || 'none'}`,
      `target: throughput ≥ ${TARGET_FLOOR_RATIO}× the minimal hook: ${floorRatio.toFixed(2)}×, ${verdict(floorRatio >= TARGET_FLOOR_RATIO)}`,
      `target: throughput ≥ ${TARGET_THROUGHPUT_RATIO}× bare node:http: ${baselineRatio.toFixed(2)}×, ${verdict(baselineRatio >= TARGET_THROUGHPUT_RATIO)}`,
      `target: p99 < ${TARGET_P99_MS} ms at ${TARGET_CONCURRENCY} concurrent: ${fixed(hook.p99)} ms, ${verdict(hook.p99 < TARGET_P99_MS)}${where}`,
    ],
  };
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'bowline-bench-hook-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const secret = randomBytes(32).toString('hex');
  const secretFile = join(dir, 'webhook-secret');
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const { next, bodyBytes } = prepareDeliveries(secret);

  // One server at a time: on two cores, two servers under load at once would measure each other.
  console.log(`baseline: measuring at ${options.concurrency} concurrent …`);
  const baseline = await measure(startBaseline, options, next);

  // Each JetStream server fresh, so neither the floor nor the hook writes to a stream the other filled.
  const floorNats = await startNats();
  cleanups.push(() => floorNats.stop());
  console.log(`minimal hook: measuring at ${options.concurrency} concurrent, against nats-server on ${floorNats.url} …`);
  const floor = await measure(() => startHook(floorNats.url, secretFile, MINIMAL_HOOK_MAIN, 'minimal hook'), options, next);
  await cleanups.pop()!();

  const nats = await startNats();
  cleanups.push(() => nats.stop());
  let hookOutcomes = new Map<string, number>();
  console.log(`hook: measuring at ${options.concurrency} concurrent, against nats-server on ${nats.url} …`);
  const hook = await measure(() => startHook(nats.url, secretFile), options, next, async (port) => {
    hookOutcomes = await readHookOutcomes(port);
  });
  await cleanups.pop()!();

  emitSection(report(options, bodyBytes, [['baseline', baseline], ['minimal hook', floor], ['hook', hook]], hookOutcomes), options.json);
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\nbench: ${signal}: stopping what the benchmark started`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    console.error(`bench: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (!interrupted) {
    // After Ctrl-C the servers are being stopped under the load generator: its failures are expected.
    console.error(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  }
} finally {
  await cleanUp();
}
