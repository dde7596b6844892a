import { availableParallelism } from 'node:os';
import { Octokit } from '@octokit/rest';
import { connectGitHub } from '@bowline/github';
import { createLogger } from '@bowline/observability';
import { FakeGitHub } from '@bowline/testing';
import { readWholeNumberOptions } from '../options.js';
import { emitSection, type Section } from '../report.js';
import { distribution, ms, ratio, type Distribution } from '../stats.js';

// What one GitHub request costs through the services' client (`connectGitHub`: the request hook of
// libs/github/src/resilience.ts, conditional GETs) beside a plain Octokit, one request at a time
// against the test GitHub in this process. Every comment's path has such requests on it (the
// planner's GET of the pull request, the reporter's status POST), so what the client adds to each
// is added to issue 21's end-to-end tail.

const USAGE = `usage: npm run bench:github -- [--count N] [--warmup N] [--json FILE]

  --count N    measured requests of each kind per client (default 500)
  --warmup N   unmeasured requests of each kind per client first (default 50)
  --json FILE  also write the results for bench/all.ts`;

/** Requests are measured in rounds, the clients taking turns, so a spell of load falls on all of them. */
const ROUNDS = 5;
const OWNER = 'acme';
const REPO = 'widgets';
const SHA = 'a'.repeat(40);
const TOKEN = 'bench-token';

interface Client {
  name: string;
  octokit: Octokit;
}

type Kind = 'GET pull request' | 'POST status';
const KINDS: Kind[] = ['GET pull request', 'POST status'];

function call(octokit: Octokit, kind: Kind): Promise<unknown> {
  return kind === 'GET pull request'
    ? octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: 1 })
    : octokit.rest.repos.createCommitStatus({ owner: OWNER, repo: REPO, sha: SHA, state: 'pending', context: 'bench/github' });
}

/** Times `count` requests of `kind`, one after the other, in ms. */
async function timeSequential(octokit: Octokit, kind: Kind, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await call(octokit, kind);
    samples.push(performance.now() - started);
  }
  return samples;
}

async function main(): Promise<void> {
  const options = readWholeNumberOptions(process.argv.slice(2), USAGE, { count: 500, warmup: 50 });
  const github = await FakeGitHub.start({ tokens: [TOKEN] });
  try {
    github.addPullRequest({ org: OWNER, repo: REPO, number: 1, author: 'alice', headSha: SHA, files: [] });
    const logger = createLogger({ service: 'bench-github', level: 'warn' });
    const clients: Client[] = [
      { name: 'plain Octokit', octokit: new Octokit({ auth: TOKEN, baseUrl: github.url }) },
      { name: 'connectGitHub, writeIntervalMs 0', octokit: connectGitHub({ apiUrl: github.url, token: TOKEN, writeIntervalMs: 0 }, { logger, service: 'bench-github' }).octokit },
    ];

    const samples = new Map<string, number[]>();
    for (const client of clients) for (const kind of KINDS) await timeSequential(client.octokit, kind, options.warmup);
    const perRound = Math.ceil(options.count / ROUNDS);
    for (let round = 0; round < ROUNDS; round += 1) {
      const count = Math.min(perRound, options.count - round * perRound);
      for (const kind of KINDS) {
        for (const client of clients) {
          const key = `${client.name}\0${kind}`;
          samples.set(key, [...(samples.get(key) ?? []), ...(await timeSequential(client.octokit, kind, count))]);
        }
      }
    }
    emitSection(report(options.count, clients, samples), options.json);
  } finally {
    await github.close();
  }
}

function report(count: number, clients: Client[], samples: Map<string, number[]>): Section {
  const of = (client: Client, kind: Kind): Distribution => distribution(samples.get(`${client.name}\0${kind}`) ?? []);
  const rows: string[][] = [['client', 'request', 'requests', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'p50 ÷ plain', 'p99 ÷ plain']];
  const plain = clients[0]!;
  for (const kind of KINDS) {
    const floor = of(plain, kind);
    for (const client of clients) {
      const d = of(client, kind);
      rows.push([client.name, kind, String(d.count), ms(d.p50, 2), ms(d.p90, 2), ms(d.p99, 2), ms(d.max, 2), ratio(d.p50, floor.p50), ratio(d.p99, floor.p99)]);
    }
  }
  const resilient = clients[1]!;
  const overhead = KINDS.map((kind) => `${kind} ${ms(of(resilient, kind).p50 - of(plain, kind).p50, 2)} ms`).join(', ');
  return {
    id: 'github',
    title: 'GitHub client: one request through connectGitHub beside a plain Octokit',
    command: 'npm run bench:github',
    about:
      `${availableParallelism()} CPUs, Node ${process.version}. ${count} requests of each kind per client, one at a time, against the test GitHub (FakeGitHub) in the same process, ` +
      `the clients taking turns in ${ROUNDS} rounds after a warm-up. connectGitHub is the services' client: the request hook (pacing with nothing to wait for at an interval of 0, ` +
      'rate limits, 5xx retries) and conditional GETs, so its GETs are answered 304 and served from its cache, as the planner’s re-reads are.',
    tables: [{ rows }],
    notes: [`added by connectGitHub at p50: ${overhead}`],
  };
}

try {
  await main();
} catch (error) {
  console.error(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
