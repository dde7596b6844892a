import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '@bowline/testing';
import { plotLatency } from './plot.js';
import { markdownTable, type Section } from './report.js';

// `make bench`: every benchmark, one after the other, each in its own process (so none inherits
// another's heap or timers), then bench/RESULTS.md and bench/latency.png from what they wrote.

const USAGE = `usage: npm run bench -- [--quick] [--only e2e,burst,hook,operator,planner,economy,github,deck] [--out DIR]

  --quick     smaller sizes everywhere (about 2 minutes), for a developer's check
  --only IDS  run only these benchmarks
  --out DIR   where RESULTS.md and latency.png go (default bench/)`;

interface Benchmark {
  id: string;
  script: string;
  args: string[];
  quick: string[];
  /** JSON files it writes beside its own (the burst also writes the footprint). */
  extra?: string[];
}

const BENCHMARKS: Benchmark[] = [
  { id: 'e2e', script: 'e2e/run.js', args: [], quick: ['--count', '100', '--floor-samples', '50'] },
  { id: 'burst', script: 'burst/run.js', args: [], quick: ['--comments', '400', '--pulls', '100'], extra: ['footprint'] },
  { id: 'hook', script: 'hook/run.js', args: [], quick: ['--duration', '2'] },
  { id: 'operator', script: 'operator/run.js', args: [], quick: ['--sizes', '100,1000', '--starts', '100'] },
  { id: 'planner', script: 'planner/run.js', args: [], quick: ['--events', '500'] },
  { id: 'economy', script: 'economy/run.js', args: [], quick: [] },
  { id: 'github', script: 'github/run.js', args: [], quick: ['--count', '200'] },
  { id: 'deck', script: 'deck/run.js', args: [], quick: ['--prowjobs', '2000', '--history', '20000'] },
];

function readOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const only = values.only?.split(',').map((id) => id.trim());
  for (const id of only ?? []) if (!BENCHMARKS.some((b) => b.id === id)) throw new Error(`--only: no benchmark "${id}"\n${USAGE}`);
  return { quick: values.quick, only, out: values.out ?? join(REPO_ROOT, 'bench') };
}

function run(script: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], { stdio: 'inherit' });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function text(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', cwd: REPO_ROOT, timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function markdown(sections: Section[], started: Date, seconds: number, failed: string[], quick: boolean, load: number[]): string {
  const dirty = text('git', ['status', '--porcelain', '--untracked-files=no']) !== '' ? ' (with uncommitted changes)' : '';
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '# Bowline benchmark results',
    '',
    `Written by \`make bench\`${quick ? ' --quick (smaller sizes: not the figures to quote)' : ''} on ${started.toISOString().replace(/\.\d+Z$/, 'Z')}, in ${Math.round(seconds)} s.`,
    '',
    `- commit: \`${text('git', ['rev-parse', '--short', 'HEAD'])}\`${dirty} (${text('git', ['log', '-1', '--format=%s'])})`,
    `- machine: ${availableParallelism()} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, load average at start ${load.map((l) => l.toFixed(2)).join(' ')}`,
    `- Node ${process.version}, ${text(process.env.NATS_SERVER_BIN ?? 'nats-server', ['--version'])}, Chromium ${text(process.env.CHROMIUM_BIN ?? '/usr/bin/chromium', ['--version'])}`,
    '',
    'Each benchmark measures its floor or baseline in the same run and prints the ratio: on a shared 2-core VM the absolute figures move with ' +
      'whatever else runs, the ratios much less. How each is measured: [README.md](README.md).',
    '',
    '## Targets',
    '',
    ...sections.flatMap((s) => s.notes.filter((n) => n.startsWith('target:')).map((n) => `- ${s.title.split(':')[0]}: ${n.slice('target: '.length)}`)),
    ...(failed.length ? ['', `**Failed to run:** ${failed.join(', ')} (see the output of \`make bench\`).`] : []),
    '',
  ];
  if (sections.some((s) => s.samples)) lines.push('![latency distribution](latency.png)', '');
  for (const section of sections) {
    lines.push(`## ${section.title}`, '', `\`${section.command}\``, '', section.about, '');
    for (const table of section.tables) {
      if (table.caption) lines.push(`${table.caption}:`, '');
      lines.push(markdownTable(table.rows), '');
    }
    for (const note of section.notes) lines.push(`- ${note}`);
    lines.push('');
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  const started = new Date();
  const load = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'bowline-bench-'));
  const sections: Section[] = [];
  const failed: string[] = [];
  try {
    for (const benchmark of BENCHMARKS) {
      if (options.only && !options.only.includes(benchmark.id)) continue;
      const json = join(dir, `${benchmark.id}.json`);
      console.log(`\n### ${benchmark.id}`);
      const loadBefore = loadavg()[0]!;
      const code = await run(benchmark.script, [...(options.quick ? benchmark.quick : benchmark.args), '--json', json]);
      if (code !== 0 || !existsSync(json)) {
        failed.push(benchmark.id);
        continue;
      }
      for (const file of [json, ...(benchmark.extra ?? []).map((extra) => join(dir, `${benchmark.id}.${extra}.json`))]) {
        if (!existsSync(file)) continue;
        const section = JSON.parse(readFileSync(file, 'utf8')) as Section;
        // Other work on a shared machine moves every figure: say how busy it was.
        section.notes.push(`machine load (1-minute average) ${loadBefore.toFixed(2)} before this benchmark, ${loadavg()[0]!.toFixed(2)} after, on ${availableParallelism()} cores`);
        sections.push(section);
      }
    }
    const seconds = (Date.now() - started.getTime()) / 1000;
    const resultsFile = join(options.out, 'RESULTS.md');
    writeFileSync(resultsFile, markdown(sections, started, seconds, failed, options.quick, load));
    const e2e = sections.find((s) => s.id === 'e2e');
    if (e2e?.samples) {
      const plot = join(options.out, 'latency.png');
      await plotLatency(e2e.samples, `${e2e.command.replace(/^npm run bench:e2e -- /, '')} · commit ${text('git', ['rev-parse', '--short', 'HEAD'])} · ${started.toISOString().slice(0, 10)}`, plot);
      console.log(`\nwrote ${plot}`);
    }
    console.log(`wrote ${resultsFile} (${Math.round(seconds)} s${failed.length ? `; failed: ${failed.join(', ')}` : ''})`);
    if (failed.length) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
