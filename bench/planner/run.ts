import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseConfig, type Config, type Presubmit } from '@bowline/config';
import { filterPresubmits, mentionsCommand, presubmitFilter } from '@bowline/planner/dist/filters.js';
import { emitSection, verdict } from '../report.js';
import { distribution, ms, ratio } from '../stats.js';
import { readWholeNumberOptions } from '../options.js';

// Planner matching: a generated config of many jobs over many repositories, and the planner's own
// selection code (Prow's commentMatchesTrigger, PresubmitFilter and FilterPresubmits, in
// services/planner/src/filters.ts) timed for one event at a time, beside a bare loop that only
// tests each of the repository's triggers; and the memory the parsed config takes.

const USAGE = `usage: npm run bench:planner -- [--jobs 5000] [--repos 500] [--events 5000] [--json FILE]`;
const TARGET_P99_MS = 1;

function readOptions(argv: string[]) {
  return readWholeNumberOptions(argv, USAGE, { jobs: 5000, repos: 500, events: 5000 });
}

/**
 * Jobs as real configs mix them: most always run, some only when their files changed, some only
 * when asked by name, some only on some branches; a few are for another agent.
 */
function generatedConfig(jobs: number, repos: number): string {
  const lines = ['presubmits:'];
  for (let r = 0; r < repos; r += 1) {
    lines.push(`  org-${r % 50}/repo-${r}:`);
    for (let j = r; j < jobs; j += repos) {
      const name = `pull-repo-${r}-job-${j}`;
      lines.push(`  - name: ${name}`, `    agent: ${j % 23 === 0 ? 'kubernetes' : 'jenkins'}`, `    context: ci/${name}`);
      if (j % 23 === 0) lines.push('    spec:', '      containers:', '      - image: golang:1.22');
      switch (j % 5) {
        case 0:
        case 1:
          lines.push('    always_run: true');
          break;
        case 2:
          lines.push(`    run_if_changed: ^(src/mod-${j % 7}/|docs/)`);
          break;
        case 3:
          lines.push('    always_run: false');
          break;
        default:
          lines.push('    always_run: true', '    branches: [main, release-.*]');
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

const gc = (): void => {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
};

const COMMANDS = ['/test all', '/test pull-repo-R-job-J', 'LGTM\n\n/retest', '/ok-to-test', 'looks good to me', '/test ?'];

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  gc();
  const before = process.memoryUsage();
  const parseStarted = performance.now();
  const config: Config = parseConfig(generatedConfig(options.jobs, options.repos), 'bench-config.yaml');
  const parseMs = performance.now() - parseStarted;
  gc();
  const after = process.memoryUsage();
  const repoKeys = Object.keys(config.presubmits);
  const contexts = async () => ({ failed: new Set<string>(['ci/pull-repo-1-job-1']), all: new Set<string>() });
  const files = ['src/mod-3/a.go', 'README.md'];
  const changes = async (): Promise<readonly string[]> => files;

  const events = Array.from({ length: options.events }, (_, i) => {
    const key = repoKeys[(i * 7919) % repoKeys.length]!;
    const r = Number(key.split('-').at(-1));
    const body = COMMANDS[i % COMMANDS.length]!.replace('R', String(r)).replace('J', String(r + options.repos * (i % 3)));
    return { key, body, branch: i % 4 === 0 ? 'release-1.0' : 'main' };
  });

  // The planner's selection for one event: the repository's Jenkins presubmits (JobStarter's
  // look-up), whether the comment says anything, the filter it asks for, the jobs that run.
  const select = async (event: (typeof events)[number]): Promise<Presubmit[]> => {
    const presubmits = (config.presubmits[event.key] ?? []).filter((p) => p.agent === 'jenkins');
    if (!mentionsCommand(event.body, presubmits)) return [];
    return filterPresubmits(await presubmitFilter(event.body, contexts), presubmits, event.branch, changes);
  };
  // The floor: the same look-up and one test of each of the repository's triggers, nothing else.
  const bare = (event: (typeof events)[number]): number => {
    let n = 0;
    for (const p of config.presubmits[event.key] ?? []) if (p.trigger.test(event.body)) n += 1;
    return n;
  };

  const time = async (f: (event: (typeof events)[number]) => unknown): Promise<{ times: number[]; selected: number }> => {
    for (const event of events.slice(0, 500)) await f(event); // warm-up: the JIT, not the figures
    const times: number[] = [];
    let selected = 0;
    for (const event of events) {
      const started = performance.now();
      const result = await f(event);
      times.push(performance.now() - started);
      selected += Array.isArray(result) ? result.length : Number(result);
    }
    return { times, selected };
  };
  const planner = await time(select);
  const floor = await time(bare);
  const p = distribution(planner.times);
  const f = distribution(floor.times);
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
  emitSection(
    {
      id: 'planner',
      title: 'Planner matching: selecting the jobs for one event',
      command: 'npm run bench:planner',
      about:
        `${availableParallelism()} CPUs, Node ${process.version}. A generated config of ${options.jobs} presubmits over ${options.repos} repositories (always_run, run_if_changed, ` +
        `explicit-only, branch-limited; every 23rd for another agent), parsed by @bowline/config; ${options.events} comment events (\`/test all\`, \`/test <job>\`, \`/retest\`, ` +
        '`/ok-to-test`, `/test ?`, plain text) on random repositories, each timed through the planner\'s own mentionsCommand → presubmitFilter → filterPresubmits ' +
        '(services/planner/src/filters.ts, with changed files and contexts answered at once). Floor: the same repository look-up and one test of each trigger regex.',
      tables: [
        {
          rows: [
            ['selection', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs', 'jobs selected (all events)'],
            ['planner', ms(p.p50 * 1000), ms(p.p90 * 1000), ms(p.p99 * 1000), ms(p.max * 1000), String(planner.selected)],
            ['floor (trigger tests alone)', ms(f.p50 * 1000), ms(f.p90 * 1000), ms(f.p99 * 1000), ms(f.max * 1000), `${floor.selected} trigger matches`],
            ['planner ÷ floor', ratio(p.p50, f.p50), ratio(p.p90, f.p90), ratio(p.p99, f.p99), ratio(p.max, f.max), ''],
          ],
        },
        {
          caption: 'Memory of the parsed config',
          rows: [
            ['measure', 'value'],
            ['parse time', `${ms(parseMs)} ms`],
            ['heap used by the config', `${mib(after.heapUsed - before.heapUsed)} MiB`],
            ['process RSS after parse (this benchmark process)', `${mib(after.rss)} MiB`],
          ],
        },
      ],
      notes: [`selection p99 ${ms(p.p99, 3)} ms per event with ${options.jobs} jobs (the issue sets no target; under ${TARGET_P99_MS} ms: ${verdict(p.p99 < TARGET_P99_MS)})`],
    },
    options.json,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
