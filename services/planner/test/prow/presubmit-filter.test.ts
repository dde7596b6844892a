/**
 * Prow's TestPresubmitFilter (pkg/pjutil/filter_test.go), case by case, driven through the planner.
 *
 * Prow's table gives, for each job, the filter's three answers: asked for, forced, run by default.
 * What a planner shows of them is which jobs it starts, once Prow's Presubmit.ShouldRun has weighed
 * them against the changed files: an asked-for job starts if it runs by itself (`always_run`), is
 * forced or runs by default, or else if its file filter selects the changed files. So each case
 * runs on two pull requests, one changing `other-file` and one changing `sometimes` (the file
 * filters of the table's jobs), and the jobs started on each must be those the three answers give.
 *
 * As in Prow's test, the head commit's statuses are: existing-successful success, existing-pending
 * pending, existing-error error, existing-failure failure. Prow's table repeats job names and
 * contexts within a case; Bowline's config check refuses that (as Prow's own validation does), so
 * repeated ones get a suffix here, with the same status.
 *
 * Not applicable: "not honored ok-to-test comment selects no tests" (Bowline has no
 * `ignore_ok_to_test`).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { configOf, PlannerHarness, type JobFields } from './harness.js';

const MEMBER = 'alice';
type Answers = [shouldRun: boolean, forced: boolean, defaults: boolean];
const NO: Answers = [false, false, false];

const STATUSES: [string, 'success' | 'pending' | 'error' | 'failure'][] = [
  ['existing-successful', 'success'],
  ['existing-successful-2', 'success'],
  ['existing-successful-3', 'success'],
  ['existing-successful-4', 'success'],
  ['existing-pending', 'pending'],
  ['existing-error', 'error'],
  ['existing-failure', 'failure'],
];

const trigger = (word: string) => ({ trigger: `(?m)^/test (?:.*? )?${word}(?: .*?)?$`, rerun_command: `/test ${word}` });

/** The four jobs of Prow's /test all and /ok-to-test cases. */
const AUTOMATIC_AND_TRIGGERED: JobFields[] = [
  { name: 'always-runs', always_run: true, context: 'always-runs' },
  { name: 'runs-if-changed', context: 'runs-if-changed', run_if_changed: 'sometimes' },
  { name: 'runs-if-changed-2', context: 'runs-if-changed-2', skip_if_only_changed: 'sometimes' },
  { name: 'runs-if-triggered', context: 'runs-if-triggered', ...trigger('trigger') },
];

/** The jobs of Prow's /retest cases, one per status and one that never reported. */
const BY_STATUS: JobFields[] = [
  { name: 'successful-job', context: 'existing-successful' },
  { name: 'pending-job', context: 'existing-pending' },
  { name: 'failure-job', context: 'existing-failure' },
  { name: 'error-job', context: 'existing-error' },
  { name: 'missing-always-runs', context: 'missing-always-runs', always_run: true },
];

interface Case {
  name: string;
  body: string;
  presubmits: JobFields[];
  expected: Answers[];
  /** GitHub fails the statuses request: the comment must not need them, or must fail with it. */
  statusErr?: boolean;
  expectErr?: boolean;
}

const CASES: Case[] = [
  {
    name: "test all comment selects all tests that don't need an explicit trigger",
    body: '/test all',
    presubmits: AUTOMATIC_AND_TRIGGERED,
    expected: [[true, false, false], [true, false, false], [true, false, false], NO],
  },
  {
    name: "honored ok-to-test comment selects all tests that don't need an explicit trigger",
    body: '/ok-to-test',
    presubmits: AUTOMATIC_AND_TRIGGERED,
    expected: [[true, false, false], [true, false, false], [true, false, false], NO],
  },
  { name: 'statuses are not gathered unless retest is specified (will error but we should not see it)', body: 'not a command', presubmits: [], expected: [], statusErr: true },
  { name: 'statuses are gathered when retest is specified and gather error is propagated', body: '/retest', presubmits: [], expected: [], statusErr: true, expectErr: true },
  {
    name: 'retest command selects for errored or failed contexts and required but missing contexts',
    body: '/retest',
    presubmits: BY_STATUS,
    expected: [NO, NO, [true, false, true], [true, false, true], [true, false, false]],
  },
  {
    name: 'retest command selects for errored or failed contexts unless they are optional',
    body: '/retest-required',
    presubmits: BY_STATUS.map((job) => (job.name === 'failure-job' ? { ...job, optional: true } : job)),
    expected: [NO, NO, NO, [true, false, true], [true, false, false]],
  },
  {
    name: 'test-manual-required triggers only required manual jobs without file conditions',
    body: '/test-manual-required',
    presubmits: [
      { name: 'manual-required', context: 'manual-required', ...trigger('manual') },
      { name: 'manual-optional', optional: true, context: 'manual-optional', ...trigger('manual-optional') },
      { name: 'always-runs', always_run: true, context: 'always-runs' },
      { name: 'run-if-changed', context: 'run-if-changed', ...trigger('conditional'), run_if_changed: 'sometimes' },
      { name: 'skip-if-only-changed', context: 'skip-if-only-changed', ...trigger('skip'), skip_if_only_changed: 'sometimes' },
    ],
    expected: [[true, true, false], NO, NO, NO, NO],
  },
  {
    name: 'explicit test command filters for jobs that match',
    body: '/test trigger',
    presubmits: [
      { name: 'always-runs', always_run: true, context: 'always-runs', ...trigger('trigger') },
      { name: 'runs-if-changed', context: 'runs-if-changed', run_if_changed: 'sometimes', ...trigger('trigger') },
      { name: 'runs-if-changed-2', context: 'runs-if-changed-2', skip_if_only_changed: 'sometimes', ...trigger('trigger') },
      { name: 'runs-if-triggered', context: 'runs-if-triggered', ...trigger('trigger') },
      { name: 'always-runs-2', always_run: true, context: 'always-runs-2', ...trigger('other-trigger') },
      { name: 'runs-if-changed-3', context: 'runs-if-changed-3', run_if_changed: 'sometimes', ...trigger('other-trigger') },
      { name: 'runs-if-changed-4', context: 'runs-if-changed-4', skip_if_only_changed: 'sometimes', ...trigger('other-trigger') },
      { name: 'runs-if-triggered-2', context: 'runs-if-triggered-2', ...trigger('other-trigger') },
    ],
    expected: [[true, true, true], [true, true, true], [true, true, true], [true, true, true], NO, NO, NO, NO],
  },
  {
    name: 'comments matching more than one case will select the union of presubmits',
    body: '/test trigger\n/test all\n/retest',
    presubmits: [
      { name: 'always-runs', always_run: true, context: 'existing-successful-2', ...trigger('other-trigger') },
      { name: 'runs-if-changed', context: 'existing-successful-3', run_if_changed: 'sometimes', ...trigger('other-trigger') },
      { name: 'runs-if-changed-2', context: 'existing-successful-4', skip_if_only_changed: 'sometimes', ...trigger('other-trigger') },
      { name: 'runs-if-triggered', context: 'runs-if-triggered', ...trigger('trigger') },
      ...BY_STATUS,
    ],
    expected: [[true, false, false], [true, false, false], [true, false, false], [true, true, true], NO, NO, [true, false, true], [true, false, true], [true, false, false]],
  },
];

/** Prow's Presubmit.ShouldRun for a job the filter answered for (none of these has branches). */
function starts(job: JobFields, [shouldRun, forced, defaults]: Answers, files: string[]): boolean {
  if (!shouldRun) return false;
  if (job.always_run || forced || defaults) return true;
  if (typeof job.run_if_changed === 'string') return files.some((file) => new RegExp(job.run_if_changed as string).test(file));
  if (typeof job.skip_if_only_changed === 'string') return files.some((file) => !new RegExp(job.skip_if_only_changed as string).test(file));
  return false;
}

describe("Prow's TestPresubmitFilter, through the planner", () => {
  let harness: PlannerHarness;

  beforeAll(async () => {
    harness = await PlannerHarness.start();
    harness.github.addOrgMember('org', MEMBER);
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('ports every case of the table but the one Bowline has no setting for', () => {
    expect(CASES).toHaveLength(9);
    for (const tc of CASES) expect(tc.expected).toHaveLength(tc.presubmits.length);
  });

  it.each(CASES)('TestPresubmitFilter: $name', async (tc) => {
    const planner = harness.planner(configOf({ presubmits: { 'org/repo': tc.presubmits } }));
    for (const files of [['other-file'], ['sometimes']]) {
      const pr = harness.openPr({ author: MEMBER, files });
      await harness.setStatuses(pr, STATUSES);
      const statuses = `/repos/${pr.org}/${pr.repo}/commits/${pr.headSha}/statuses`;
      if (tc.statusErr) harness.github.inject({ method: 'GET', path: statuses }, { status: 500, body: { message: 'Server Error' } });

      const handled = planner.handle(harness.comment(pr, tc.body, MEMBER));

      if (tc.expectErr) await expect(handled).rejects.toThrow();
      else await handled;
      if (tc.statusErr && !tc.expectErr) expect(harness.github.requestsTo({ path: statuses })).toEqual([]);
      const expected = tc.presubmits.filter((job, i) => starts(job, tc.expected[i]!, files)).map((job) => job.name);
      expect({ files, started: (await harness.jobsOf(pr)).map((job) => job.spec.job).sort() }).toEqual({ files, started: expected.sort() });
    }
  });
});
