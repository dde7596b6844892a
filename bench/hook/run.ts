import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, pullRequestCommentPayload, REPO_ROOT, signWebhook, startNats, waitFor } from '@bowline/testing';
import { startChildServer, type ChildServer } from './child-server.js';
import { formatTable } from '../table.js';
import { runLoad, type LoadResult, type PreparedRequest } from './load-generator.js';

// The hook's throughput and latency next to a bare node:http server's, measured in one run on the
// same machine, so the ratio means something even where the absolute figures do not carry over.

const USAGE = `usage: npm run bench:hook -- [--concurrency N] [--duration SECONDS | --requests N] [--warmup SECONDS]

  --concurrency N     requests in flight at once (default 100)
  --duration S        length of the measured phase per server (default 5)
  --requests N        measure N requests per server instead of a fixed duration
  --warmup S          unmeasured warm-up per server (default 1)`;

/** The targets for the hook. */
const TARGET_THROUGHPUT_RATIO = 0.5;
const TARGET_P99_MS = 20;
const TARGET_CONCURRENCY = 100;

/** Distinct signed bodies, cycled: enough variety to be realistic, few enough to sign up front. */
const BODY_POOL = 256;
const COMMANDS = ['/test all', '/retest', '/test unit', 'LGTM, thanks!\n\n/test integration'];
const REQUEST_TIMEOUT_MS = 10_000;
const HOOK_MAIN = join(REPO_ROOT, 'services', 'hook', 'dist', 'main.js');
const BASELINE_MAIN = fileURLToPath(new URL('./baseline-server.js', import.meta.url));

interface Options {
  concurrency: number;
  durationMs: number;
  requests: number | undefined;
  warmupMs: number;
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

async function startHook(natsUrl: string, secretFile: string): Promise<{ server: ChildServer; port: number }> {
  if (!existsSync(HOOK_MAIN)) throw new Error(`${HOOK_MAIN} is missing: build first (npx tsc -b, or make bench)`);
  const port = await freePort();
  const env = { NATS_URL: natsUrl, GITHUB_WEBHOOK_SECRET_FILE: secretFile, PORT: String(port), LOG_LEVEL: 'warn' };
  // /readyz turns 200 once NATS is connected and the EVENTS stream exists: the first webhook is
  // then a plain publish, not stream creation.
  const server = await startChildServer('hook', HOOK_MAIN, env, (running) =>
    waitFor('the hook to be ready', () => probe(`http://127.0.0.1:${port}/readyz`, 200, running), { timeoutMs: 20_000 }),
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

function printReport(options: Options, bodyBytes: number, results: Array<[string, LoadResult]>, hookOutcomes: Map<string, number>): void {
  const ms = (value: number): string => (Number.isNaN(value) ? '-' : value.toFixed(2));
  const rows = [
    ['server', 'requests', 'errors', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms'],
    ...results.map(([name, r]) => [name, String(r.requests), String(r.errorCount), r.acceptedPerSecond.toFixed(0), ms(r.p50), ms(r.p90), ms(r.p99)]),
  ];
  const phase = options.requests === undefined ? `${options.durationMs / 1000} s` : `${options.requests} requests`;
  console.log(`\nBowline hook benchmark: ${availableParallelism()} CPUs, Node ${process.version}, ${natsServerVersion()}`);
  console.log(
    `concurrency ${options.concurrency}, warm-up ${options.warmupMs / 1000} s, measured ${phase} per server, ` +
      `issue_comment payload ${(bodyBytes / 1024).toFixed(1)} KiB (${BODY_POOL} distinct bodies, signed before the run)\n`,
  );
  console.log(formatTable(rows));

  for (const [name, r] of results) {
    if (r.errorCount > 0) {
      const kinds = [...r.errors].map(([kind, count]) => `${kind} ×${count}`).join(', ');
      console.log(`\n${name} errors: ${kinds}`);
    }
  }
  const outcomes = [...hookOutcomes].map(([outcome, count]) => `${outcome} ${count}`).join(', ');
  console.log(`\nhook outcomes, warm-up included (bowline_hook_requests_total): ${outcomes || 'none'}`);

  const hook = results.find(([name]) => name === 'hook')![1];
  const baseline = results.find(([name]) => name === 'baseline')![1];
  const throughputRatio = hook.acceptedPerSecond / baseline.acceptedPerSecond;
  const p99Ratio = hook.p99 / baseline.p99;
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
  console.log(`\nhook / baseline: throughput ${throughputRatio.toFixed(2)}×, p99 ${p99Ratio.toFixed(2)}×\n`);
  const where =
    options.concurrency === TARGET_CONCURRENCY ? '' : `  (measured at ${options.concurrency} concurrent; the target is for ${TARGET_CONCURRENCY})`;
  const targets = [
    [`throughput ≥ ${TARGET_THROUGHPUT_RATIO}× baseline`, `${throughputRatio.toFixed(2)}×`, verdict(throughputRatio >= TARGET_THROUGHPUT_RATIO)],
    [`p99 < ${TARGET_P99_MS} ms at ${TARGET_CONCURRENCY} concurrent`, `${ms(hook.p99)} ms`, `${verdict(hook.p99 < TARGET_P99_MS)}${where}`],
  ];
  const nameWidth = Math.max(...targets.map(([name]) => name!.length));
  const valueWidth = Math.max(...targets.map(([, value]) => value!.length));
  for (const [name, value, result] of targets) console.log(`target  ${name!.padEnd(nameWidth)}  ${value!.padStart(valueWidth)}  ${result}`);
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

  const nats = await startNats();
  cleanups.push(() => nats.stop());
  let hookOutcomes = new Map<string, number>();
  console.log(`hook: measuring at ${options.concurrency} concurrent, against nats-server on ${nats.url} …`);
  const hook = await measure(() => startHook(nats.url, secretFile), options, next, async (port) => {
    hookOutcomes = await readHookOutcomes(port);
  });
  await cleanups.pop()!();

  printReport(options, bodyBytes, [['baseline', baseline], ['hook', hook]], hookOutcomes);
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
