/**
 * Prow's TestPresubmitShouldRun (pkg/config/jobs_test.go), case by case, driven through the
 * planner: whether the case's one job starts on a pull request against the case's branch that
 * changes the case's files.
 *
 * Prow calls Presubmit.ShouldRun(ref, changes, forced, defaults) directly. A planner calls it with
 * what a comment's filter answered: `/test all` asks with forced and defaults off, `/retest` of a
 * job whose context failed asks with forced off and defaults on. Every case of the table has forced
 * off, so its `defaults` picks the comment. Two jobs that `/test all` never asks for (they run only
 * when asked by name) are asked by `/retest` of their failed context instead, so that only the
 * branch can stop them, which is what those cases are about. A file-listing error is GitHub
 * answering 500 to the changed files: the event fails and nothing starts, to be retried.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { configOf, PlannerHarness, type JobFields } from './harness.js';

const MEMBER = 'alice';
const FOO = { trigger: '(?m)^/test (?:.*? )?foo(?: .*?)?$', rerun_command: '/test foo' };

interface Case {
  name: string;
  fileChanges?: string[];
  fileError?: boolean;
  job: Omit<JobFields, 'name'>;
  ref: string;
  defaults?: boolean;
  /** Asked by `/retest` of its failed context though `defaults` is off: see the header. */
  askedByRetest?: boolean;
  expectedRun: boolean;
  expectedErr?: boolean;
}

const CASES: Case[] = [
  { name: "job skipped on the branch won't run", job: { skip_branches: ['master'] }, ref: 'master', askedByRetest: true, expectedRun: false },
  { name: 'job enabled on the branch will run', job: { branches: ['something'], always_run: true }, ref: 'something', expectedRun: true },
  { name: "job running only on other branches won't run", job: { branches: ['master'] }, ref: 'release-1.11', askedByRetest: true, expectedRun: false },
  { name: "job on a branch that's not skipped will run", job: { skip_branches: ['master'], always_run: true }, ref: 'other', expectedRun: true },
  { name: 'job with always_run: true should run', job: { always_run: true }, ref: 'master', expectedRun: true },
  { name: 'job with always_run: false and no run_if_changed or skip_if_only_changed should not run', job: { always_run: false, ...FOO }, ref: 'master', expectedRun: false },
  { name: 'job with run_if_changed but file get errors should not run', job: { ...FOO, run_if_changed: 'file' }, ref: 'master', fileError: true, expectedRun: false, expectedErr: true },
  {
    name: 'job with skip_if_only_changed but file get errors should not run',
    job: { ...FOO, skip_if_only_changed: 'file' },
    ref: 'master',
    fileChanges: ['something'],
    fileError: true,
    expectedRun: false,
    expectedErr: true,
  },
  { name: 'job with run_if_changed not matching should not run', job: { ...FOO, run_if_changed: '^file$' }, ref: 'master', fileChanges: ['something'], expectedRun: false },
  {
    name: 'job with skip_if_only_changed all matching should not run',
    job: { ...FOO, skip_if_only_changed: 'file$' },
    ref: 'master',
    fileChanges: ['onefile', 'two-file', 'pkg/controller/three_file'],
    expectedRun: false,
  },
  { name: 'job with run_if_changed not matching should run when default=true', job: { ...FOO, run_if_changed: '^file$' }, ref: 'master', fileChanges: ['something'], defaults: true, expectedRun: true },
  {
    name: 'job with skip_if_only_changed all matching should run when default=true',
    job: { ...FOO, skip_if_only_changed: 'file$' },
    ref: 'master',
    fileChanges: ['onefile', 'two-file', 'pkg/controller/three_file'],
    defaults: true,
    expectedRun: true,
  },
  { name: 'job with run_if_changed matching should run', job: { ...FOO, run_if_changed: '^file$' }, ref: 'master', fileChanges: ['file'], expectedRun: true },
  {
    name: 'job with skip_if_all_changed partially matching should run',
    job: { ...FOO, skip_if_only_changed: 'file$' },
    ref: 'master',
    fileChanges: ['onefile', 'two-file', 'pkg/controller/three_file.go'],
    expectedRun: true,
  },
];

describe("Prow's TestPresubmitShouldRun, through the planner", () => {
  let harness: PlannerHarness;

  beforeAll(async () => {
    harness = await PlannerHarness.start();
    harness.github.addOrgMember('org', MEMBER);
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('ports every case of the table', () => {
    expect(CASES).toHaveLength(14);
  });

  it.each(CASES)('TestPresubmitShouldRun: $name', async (tc) => {
    const planner = harness.planner(configOf({ presubmits: { 'org/repo': [{ name: 'foo', context: 'pull-foo', ...tc.job }] } }));
    const pr = harness.openPr({ author: MEMBER, baseRef: tc.ref, files: tc.fileChanges ?? [] });
    const byRetest = tc.defaults || tc.askedByRetest;
    if (byRetest) await harness.setStatuses(pr, [['pull-foo', 'failure']]);
    if (tc.fileError) harness.github.inject({ method: 'GET', path: `/repos/${pr.org}/${pr.repo}/pulls/${pr.number}/files` }, { status: 500, body: { message: 'Server Error' } });

    const handled = planner.handle(harness.comment(pr, byRetest ? '/retest' : '/test all', MEMBER));

    if (tc.expectedErr) await expect(handled).rejects.toThrow();
    else await handled;
    expect((await harness.jobsOf(pr)).length > 0).toBe(tc.expectedRun);
  });
});
