import { describe, expect, it } from '@jest/globals';
import { commandText, parseConfig, type Presubmit } from '@bowline/config';
import {
  aggregateFilter,
  commandFilter,
  filterPresubmits,
  OK_TO_TEST,
  RETEST,
  retestFilter,
  TEST_ALL,
  testAllFilter,
  type Filter,
} from '../src/filters.js';

const CONFIG = `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    always_run: true
  - name: main-only
    agent: jenkins
    always_run: true
    branches: [^main$]
  - name: not-on-release
    agent: jenkins
    always_run: true
    skip_branches: [^release-]
  - name: docs
    agent: jenkins
    run_if_changed: ^docs/
  - name: code
    agent: jenkins
    skip_if_only_changed: \\.md$
  - name: e2e
    agent: jenkins
  - name: perf
    agent: jenkins
    always_run: true
    optional: true
  - name: gcp
    agent: jenkins
    always_run: true
    trigger: ((?m)^/test( all| gcp),?(\\s+|$))
    rerun_command: /test gcp
`;

const presubmits = parseConfig(CONFIG, 'config.yaml').presubmits['acme/widgets']!;
const job = (name: string): Presubmit => presubmits.find((p) => p.name === name)!;

/** A changed-files provider that remembers whether it was asked. */
function filesProvider(files: string[]): { changes: () => Promise<string[]>; asked: () => number } {
  let asked = 0;
  return {
    changes: async () => {
      asked += 1;
      return files;
    },
    asked: () => asked,
  };
}

const names = (jobs: Presubmit[]) => jobs.map((p) => p.name).sort();

describe("Prow's command regexes", () => {
  it.each<[string, boolean]>([
    ['/test all', true],
    ['/test all,', true],
    ['/test all because the flake is fixed', true],
    ['LGTM\n/test all', true],
    ['/test all\nthanks', true],
    ['/test allx', false],
    ['/test al', false],
    [' /test all', false],
    ['please /test all', false],
    ['/TEST ALL', false],
  ])('TEST_ALL on %j is %s', (body, expected) => {
    expect(TEST_ALL.test(body)).toBe(expected);
  });

  it.each<[string, boolean]>([
    ['/retest', true],
    ['/retest  ', true],
    ['flaky again\n/retest', true],
    ['/retest\nthanks', true],
    ['/retest please', false],
    ['/retest-required', false],
    ['could you /retest', false],
  ])('RETEST on %j is %s', (body, expected) => {
    expect(RETEST.test(body)).toBe(expected);
  });

  it.each<[string, boolean]>([
    ['/ok-to-test', true],
    ['looks safe\n/ok-to-test ', true],
    ['/ok-to-test now', false],
  ])('OK_TO_TEST on %j is %s', (body, expected) => {
    expect(OK_TO_TEST.test(body)).toBe(expected);
  });
});

describe('commandText', () => {
  it.each<[string, string, boolean]>([
    ['a plain command', '/test all', true],
    ['a command after prose', 'Fixed the flake.\n/test all', true],
    ['a command after a closed fence', '```\nlog output\n```\n/test all', true],
    ['a command with Windows line endings after a closed fence', '```\r\nlog\r\n```\r\n/test all\r\n', true],
    ['a command after a quote', '> can you rerun?\n/test all', true],
    ['a command inside a backtick fence', '```\n/test all\n```', false],
    ['a command inside a fence with an info string', '```sh\n/test all\n```', false],
    ['a command inside a tilde fence', '~~~\n/test all\n~~~', false],
    ['a command inside an indented fence', '   ```\n/test all\n   ```', false],
    ['a command inside an unclosed fence', 'see:\n```\n/test all', false],
    ['a command inside a four-backtick fence that shows a three-backtick one', '````\n```\n/test all\n```\n````', false],
    ['a command after a tilde fence that a backtick line does not close', '~~~\n```\n/test all\n~~~', false],
    ['a quoted command', '> /test all', false],
    ['a quoted command with a leading space', '  > /test all', false],
    ['a command in a nested quote', '>> /test all', false],
    ['a command in a quote with Windows line endings', 'hi\r\n> /test all\r\n', false],
  ])('keeps %s: %j → %s', (_title, body, commands) => {
    expect(TEST_ALL.test(commandText(body))).toBe(commands);
  });
});

describe('the presubmit filters', () => {
  it('has the command filter force exactly the jobs whose trigger matches, with defaults on', () => {
    const filter = commandFilter('/test e2e');
    expect(filter(job('e2e'))).toEqual({ shouldRun: true, forced: true, defaults: true });
    expect(filter(job('unit'))).toEqual({ shouldRun: false, forced: false, defaults: true });
  });

  it('has the test-all filter ask, unforced and with defaults off, only for the jobs that run by themselves', () => {
    expect(testAllFilter(job('unit'))).toEqual({ shouldRun: true, forced: false, defaults: false });
    expect(testAllFilter(job('docs'))).toEqual({ shouldRun: true, forced: false, defaults: false });
    expect(testAllFilter(job('e2e'))).toEqual({ shouldRun: false, forced: false, defaults: false });
  });

  // Prow's RetestFilter (pkg/pjutil/filter.go): a failed context reruns whatever its files say
  // (defaults on); a job that runs by itself and never reported is asked for, optional or not.
  it.each<[string, string, { shouldRun: boolean; forced: boolean; defaults: boolean }]>([
    ['reruns a failed context', 'unit', { shouldRun: true, forced: false, defaults: true }],
    ['reruns a failed optional context', 'perf', { shouldRun: true, forced: false, defaults: true }],
    ['does not rerun a passed context', 'main-only', { shouldRun: false, forced: false, defaults: false }],
    ['does not start a job that runs only when asked and never reported', 'e2e', { shouldRun: false, forced: false, defaults: false }],
    ['asks for an optional job that runs by itself and never reported', 'perf-never', { shouldRun: true, forced: false, defaults: false }],
  ])('has the retest filter: %s', (_title, name, expected) => {
    const optionalNever = { ...job('perf'), name: 'perf-never', context: 'perf-never' };
    const filter = retestFilter(new Set(['unit', 'perf']), new Set(['unit', 'perf', 'main-only']));
    const presubmit = name === 'perf-never' ? optionalNever : job(name);
    expect(filter(presubmit)).toEqual(expected);
  });

  it('lets the first filter that asks for a job decide, as Prow’s AggregateFilter', () => {
    const never: Filter = () => ({ shouldRun: false, forced: true, defaults: true });
    const aggregate = aggregateFilter([never, commandFilter('/test gcp'), testAllFilter]);
    expect(aggregate(job('gcp'))).toEqual({ shouldRun: true, forced: true, defaults: true });
    expect(aggregate(job('unit'))).toEqual({ shouldRun: true, forced: false, defaults: false });
    expect(aggregateFilter([never])(job('unit'))).toEqual({ shouldRun: false, forced: false, defaults: false });
  });
});

describe('filterPresubmits', () => {
  it.each<{ title: string; filter: Filter; branch: string; files: string[]; expected: string[]; asksForFiles: boolean }>([
    {
      title: '/test all on main with a source change',
      filter: testAllFilter,
      branch: 'main',
      files: ['src/a.go'],
      expected: ['code', 'gcp', 'main-only', 'not-on-release', 'perf', 'unit'],
      asksForFiles: true,
    },
    {
      title: '/test all on main with only a docs change',
      filter: testAllFilter,
      branch: 'main',
      files: ['docs/guide.md'],
      expected: ['docs', 'gcp', 'main-only', 'not-on-release', 'perf', 'unit'],
      asksForFiles: true,
    },
    {
      title: '/test all on a release branch',
      filter: testAllFilter,
      branch: 'release-1.0',
      files: ['docs/a.go'],
      expected: ['code', 'docs', 'gcp', 'perf', 'unit'],
      asksForFiles: true,
    },
    {
      title: '/test docs, forced whatever the files',
      filter: commandFilter('/test docs'),
      branch: 'main',
      files: ['src/a.go'],
      expected: ['docs'],
      asksForFiles: false,
    },
    {
      title: '/test e2e, a job with no filters that only runs when asked',
      filter: commandFilter('/test e2e'),
      branch: 'main',
      files: [],
      expected: ['e2e'],
      asksForFiles: false,
    },
    {
      title: '/test main-only on a branch the job excludes, forced or not',
      filter: commandFilter('/test main-only'),
      branch: 'release-1.0',
      files: [],
      expected: [],
      asksForFiles: false,
    },
    {
      title: 'only always_run jobs asked for',
      filter: commandFilter('/test unit\n/test gcp'),
      branch: 'main',
      files: [],
      expected: ['gcp', 'unit'],
      asksForFiles: false,
    },
  ])('selects the right jobs for $title', async ({ filter, branch, files, expected, asksForFiles }) => {
    const provider = filesProvider(files);
    expect(names(await filterPresubmits(filter, presubmits, branch, provider.changes))).toEqual(expected);
    expect(provider.asked() > 0).toBe(asksForFiles);
  });
});
