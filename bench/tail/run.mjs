// Tail-latency harness (issue 21 item 1), kept apart from bench/e2e: hook, planner,
// jenkins-operator and reporter as real processes (their dist/, so `npx tsc -b` first) on a real
// nats-server, the test GitHub and Jenkins servers of libs/testing in this process, and --count
// signed `/test unit` comments at --rate a second, each on its own pull request. Prints p50, p90,
// p99 and max of webhook → Jenkins buildWithParameters and webhook → first pending status (the
// test servers' recorders timestamp each request), the same split at the hop where the ProwJob
// was created (the KV_prowjobs stream's own timestamps), each service's CPU per comment, and the
// load average. It finds where time goes; bench/e2e is the benchmark.
//
//   node bench/tail/run.mjs [--count 200] [--rate 10] [--resync 10s] [--write-interval 0s]
//                           [--runs 1] [--prof DIR] [--trace-gc] [--log-level info]
//
// --prof writes a V8 CPU profile of each service under DIR/<service>/. TAIL_STEPS=1 prints the
// first requests of each of eight comments; TAIL_METRICS=1 the operator's Jenkins requests and
// resync times; TAIL_LOGS=PREFIX keeps each service's log in PREFIX.<service>.log.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { FakeGitHub, FakeJenkins, startNats, freePort, waitFor, signWebhook, sendWebhook, pullRequestCommentPayload } from '../../libs/testing/dist/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: opt } = parseArgs({
  options: {
    count: { type: 'string', default: '200' },
    rate: { type: 'string', default: '10' },
    resync: { type: 'string', default: '10s' },
    'write-interval': { type: 'string', default: '0s' },
    prof: { type: 'string' },
    'trace-gc': { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'info' },
    runs: { type: 'string', default: '1' },
    jobs: { type: 'string', default: '1' },
  },
});
const COUNT = Number(opt.count);
const RATE = Number(opt.rate);
const SECRET = 'bench-secret';
const JOBS = Array.from({ length: Number(opt.jobs) }, (_, i) => (i === 0 ? 'unit' : `unit${i}`));

const config = `presubmits:
  acme/widgets:
${JOBS.map((j) => `  - name: ${j}\n    agent: jenkins\n    always_run: true\n    context: ci/jenkins/${j}\n`).join('')}bowline:
  jenkins_operator:
    resync_period: ${opt.resync}
`;

function parsed(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function pct(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  return `n=${s.length} p50=${pct(s, 50)} p90=${pct(s, 90)} p99=${pct(s, 99)} max=${s.at(-1)}`;
}

async function runOnce(run) {
  const work = mkdtempSync(join(tmpdir(), 'bowline-tail-'));
  const files = { config: join(work, 'config.yaml'), secret: join(work, 'secret'), gh: join(work, 'gh'), jk: join(work, 'jk') };
  writeFileSync(files.config, config);
  writeFileSync(files.secret, `${SECRET}\n`);
  writeFileSync(files.gh, 'test-token\n');
  writeFileSync(files.jk, 'jenkins-token\n');
  const nats = await startNats();
  const github = await FakeGitHub.start({ tokens: ['test-token'] });
  const jenkins = await FakeJenkins.start({ user: 'bowline', apiToken: 'jenkins-token' });
  for (const j of JOBS) jenkins.addJob(j);
  github.addOrgMember('acme', 'alice');
  const base = 1000 + run * 10000;
  const sha = (n) => n.toString(16).padStart(40, 'a');
  for (let i = 0; i < COUNT + 20; i++) {
    const n = base + i;
    github.addPullRequest({ org: 'acme', repo: 'widgets', number: n, author: 'alice', headSha: sha(n), baseRef: 'master', baseSha: 'b'.repeat(40), headRef: `f${n}`, title: `PR ${n}`, files: ['src/x.go'] });
  }
  const sent = new Map();
  const toJenkins = new Map();
  const toStatus = new Map();
  const shaToPr = new Map();
  for (let i = 0; i < COUNT + 20; i++) shaToPr.set(sha(base + i), base + i);
  jenkins.onRequest((r) => {
    if (r.method === 'POST' && r.path.endsWith('/buildWithParameters')) {
      const pr = Number(new URLSearchParams(r.body).get('PULL_NUMBER') ?? r.query.get('PULL_NUMBER'));
      if (!toJenkins.has(pr)) toJenkins.set(pr, r.at);
    }
  });
  github.onRequest((r) => {
    const m = /^\/repos\/acme\/widgets\/statuses\/([0-9a-f]{40})$/.exec(r.path);
    if (r.method === 'POST' && m && JSON.parse(r.body).state === 'pending') {
      const pr = shaToPr.get(m[1]);
      if (!toStatus.has(pr)) toStatus.set(pr, r.at);
    }
  });
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    NATS_URL: nats.url,
    BOWLINE_CONFIG: files.config,
    LOG_LEVEL: opt['log-level'],
    GITHUB_WEBHOOK_SECRET_FILE: files.secret,
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN_FILE: files.gh,
    GITHUB_WRITE_INTERVAL: opt['write-interval'],
    JENKINS_URL: jenkins.url,
    JENKINS_USER: 'bowline',
    JENKINS_TOKEN_FILE: files.jk,
  };
  const children = [];
  const ports = {};
  for (const name of ['hook', 'planner', 'jenkins-operator', 'reporter']) {
    const port = await freePort();
    ports[name] = port;
    const args = [];
    if (opt.prof) {
      const dir = resolve(opt.prof, name);
      mkdirSync(dir, { recursive: true });
      args.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
    }
    if (opt['trace-gc']) args.push('--trace-gc');
    const child = spawn(process.execPath, [...args, join(ROOT, 'services', name, 'dist', 'main.js')], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => out.push(c));
    children.push({ name, child, out });
    await waitFor(`${name} ready`, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited: ${Buffer.concat(out)}`);
      try { return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200; } catch { return false; }
    }, { timeoutMs: 30000 });
  }
  const hookUrl = `http://127.0.0.1:${ports.hook}/hook`;
  const deliver = (n) => {
    const payload = pullRequestCommentPayload({ org: 'acme', repo: 'widgets', number: n, commenter: 'alice', body: '/test unit', prAuthor: 'alice' });
    return signWebhook({ event: 'issue_comment', payload, secret: SECRET });
  };
  // warm-up: a few comments not measured
  for (let i = 0; i < 5; i++) await sendWebhook(hookUrl, deliver(base + COUNT + i));
  await new Promise((r) => setTimeout(r, 2000));
  const signed = Array.from({ length: COUNT }, (_, i) => deliver(base + i));
  const cpuOf = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
  const cpu0 = Object.fromEntries(children.map(({ name, child }) => [name, cpuOf(child.pid)]));
  const self0 = process.cpuUsage();
  const load0 = loadavg()[0];
  const start = performance.now();
  const answers = [];
  for (let i = 0; i < COUNT; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sent.set(base + i, Date.now());
    answers.push(sendWebhook(hookUrl, signed[i]));
  }
  const statuses = (await Promise.all(answers)).map((a) => a.status);
  const bad = statuses.filter((s) => s !== 202).length;
  try {
    await waitFor('all started and reported', () => {
      for (let i = 0; i < COUNT; i++) if (!toJenkins.has(base + i) || !toStatus.has(base + i)) return false;
      return true;
    }, { timeoutMs: 120000 });
  } catch (e) { console.error(String(e)); }
  const load1 = loadavg()[0];
  const selfCpu = process.cpuUsage(self0);
  console.log('  CPU ms per comment: ' + children.map(({ name, child }) => `${name} ${((cpuOf(child.pid) - cpu0[name]) / COUNT).toFixed(1)}`).join(', ') + `, harness (fake GitHub+Jenkins) ${((selfCpu.user + selfCpu.system) / 1000 / COUNT).toFixed(1)}`);
  const j = [], s = [];
  for (let i = 0; i < COUNT; i++) {
    const t = sent.get(base + i);
    if (toJenkins.has(base + i)) j.push(toJenkins.get(base + i) - t);
    if (toStatus.has(base + i)) s.push(toStatus.get(base + i) - t);
  }
  const created = new Map();
  const published = new Map();
  {
    const nc = await connect({ servers: nats.url });
    const js = jetstream(nc);
    const c = await js.consumers.get('KV_prowjobs');
    const iter = await c.fetch({ max_messages: 100000, expires: 2000 });
    const info = await (await jetstreamManager(nc)).streams.info('KV_prowjobs');
    let left = info.state.messages;
    for await (const m of iter) {
      // A deletion's marker has no body: it is skipped.
      const n = parsed(m.string())?.spec?.refs?.pulls?.[0]?.number;
      if (n !== undefined && !created.has(n)) created.set(n, Math.floor(m.info.timestampNanos / 1e6));
      if (--left <= 0) break;
    }
    const ev = await js.consumers.get('EVENTS');
    const it2 = await ev.fetch({ max_messages: 100000, expires: 2000 });
    let left2 = (await (await jetstreamManager(nc)).streams.info('EVENTS')).state.messages;
    for await (const m of it2) {
      // Only comments on pull requests carry an issue number; anything else is skipped.
      const event = parsed(m.string());
      const n = (event?.payload ?? event)?.issue?.number;
      if (n !== undefined) published.set(n, Math.floor(m.info.timestampNanos / 1e6));
      if (--left2 <= 0) break;
    }
    await nc.close();
  }
  const routes = new Map();
  for (const r of github.requests) { const k = `${r.method} ${r.path.replace(/\d{3,}/g, 'N').replace(/[0-9a-f]{40}/g, 'SHA')} ${r.status}`; routes.set(k, (routes.get(k) ?? 0) + 1); }
  console.log('  GitHub requests:', [...routes].map(([k, v]) => `${k}: ${v}`).join('; '));
  const hk = [];
  for (let i = 0; i < COUNT; i++) { const n = base + i; if (published.has(n)) hk.push(published.get(n) - sent.get(n)); }
  console.log(`    webhook → EVENTS stored (hook) ms: ${summary(hk)}`);
  if (process.env.TAIL_STEPS) {
    const gets = new Map();
    for (const r of github.requests) { const m = /\/(pulls|issues)\/(\d+)/.exec(r.path); if (m) { const n = Number(m[2]); if (!gets.has(n)) gets.set(n, []); gets.get(n).push(`${r.method} ${m[1]}${r.path.endsWith('comments') ? '/comments' : ''} +${r.at - published.get(n)}`); } }
    for (let i = 0; i < Math.min(COUNT, 8); i++) { const n = base + i; console.log(`    PR ${n}: stored +0, ${(gets.get(n) ?? []).join(', ')}, created +${created.get(n) - published.get(n)}, POST +${toJenkins.get(n) - published.get(n)}`); }
  }
  const hp = [], op = [], rp = [];
  for (let i = 0; i < COUNT; i++) { const n = base + i; const c = created.get(n); if (c === undefined) continue; hp.push(c - sent.get(n)); if (toJenkins.has(n)) op.push(toJenkins.get(n) - c); if (toStatus.has(n)) rp.push(toStatus.get(n) - c); }
  const posts = jenkins.requestsTo({ method: 'POST', path: /buildWithParameters$/ }).length;
  console.log(`run ${run + 1}: ${COUNT} comments at ${RATE}/s, resync ${opt.resync}, write interval ${opt['write-interval']}, non-202 ${bad}, POSTs ${posts} (expected ${COUNT + 5}), load ${load0.toFixed(2)}→${load1.toFixed(2)}`);
  console.log(`  webhook → buildWithParameters ms: ${summary(j)}`);
  console.log(`  webhook → first pending status ms: ${summary(s)}`);
  console.log(`    webhook → ProwJob created (hook+planner) ms: ${summary(hp)}`);
  console.log(`    created → buildWithParameters (operator) ms: ${summary(op)}`);
  console.log(`    created → pending status (reporter) ms: ${summary(rp)}`);
  if (process.env.TAIL_DUMP) writeFileSync(`${process.env.TAIL_DUMP}.${run}.json`, JSON.stringify({ sent: [...sent], toJenkins: [...toJenkins], toStatus: [...toStatus] }));
  if (process.env.TAIL_METRICS) {
    const text = await (await fetch(`http://127.0.0.1:${ports['jenkins-operator']}/metrics`)).text();
    console.log(text.split('\n').filter((l) => /^bowline_operator_resync_seconds_(sum|count)|^bowline_jenkins_request/.test(l)).join('\n'));
    const jr = new Map();
    for (const r of jenkins.requests) { const k = `${r.method} ${r.path.replace(/\d+/g, 'N')}`; jr.set(k, (jr.get(k) ?? 0) + 1); }
    console.log('  Jenkins requests:', [...jr].map(([k, v]) => `${k}: ${v}`).join('; '));
  }
  await Promise.all(children.map(({ child }) => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); setTimeout(() => child.kill('SIGKILL'), 5000); })));
  if (process.env.TAIL_LOGS) for (const { name, out } of children) writeFileSync(`${process.env.TAIL_LOGS}.${name}.log`, Buffer.concat(out));
  await Promise.all([github.close(), jenkins.close(), nats.stop()]);
  rmSync(work, { recursive: true, force: true });
}

for (let run = 0; run < Number(opt.runs); run++) await runOnce(run);
