/**
 * Prow's TestRunRequested (pkg/plugins/trigger/trigger_test.go), case by case, driven through the
 * planner: an org member asks for the jobs of each case by name, and the case's ProwJobs are what
 * the bucket holds afterwards.
 *
 * Prow's fake ProwJob client refuses chosen jobs. Here the real bucket refuses one: the job `first`
 * carries an annotation larger than the nats-server's 1 MB message limit, so writing its ProwJob
 * fails the way any store failure does.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { configOf, PlannerHarness, type JobFields } from './harness.js';

const MEMBER = 'alice';
const JOBS: JobFields[] = [
  { name: 'first', context: 'first-context' },
  { name: 'second', context: 'second-context' },
];
const TOO_BIG = { annotations: { 'example.com/notes': 'x'.repeat(1_100_000) } };

interface Case {
  name: string;
  /** The comment that asks for the requested jobs. */
  body: string;
  jobs?: JobFields[];
  mergeable?: boolean;
  expectedJobs: string[];
  expectedErr?: boolean;
}

const CASES: Case[] = [
  { name: 'nothing requested means nothing done', body: '/retest', expectedJobs: [] },
  { name: 'disjoint sets of jobs get triggered', body: '/test first\n/test second', expectedJobs: ['first', 'second'] },
  { name: 'all requested jobs get run', body: '/test first second', expectedJobs: ['first', 'second'] },
  {
    name: "failure on job creation bubbles up but doesn't stop others from starting",
    body: '/test first second',
    jobs: [{ ...JOBS[0]!, ...TOO_BIG }, JOBS[1]!],
    expectedJobs: ['second'],
    expectedErr: true,
  },
  { name: 'no errors and unmergable PR means we should see no trigger', body: '/test first second', mergeable: false, expectedJobs: [] },
];

describe("Prow's TestRunRequested, through the planner", () => {
  let harness: PlannerHarness;

  beforeAll(async () => {
    harness = await PlannerHarness.start();
    harness.github.addOrgMember('org', MEMBER);
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('ports every case of the table', () => {
    expect(CASES).toHaveLength(5);
  });

  it.each(CASES)('TestRunRequested: $name', async (tc) => {
    const planner = harness.planner(configOf({ presubmits: { 'org/repo': tc.jobs ?? JOBS } }));
    const pr = harness.openPr({ author: MEMBER, baseRef: 'branch', mergeable: tc.mergeable ?? null });
    const handled = planner.handle(harness.comment(pr, tc.body, MEMBER));

    if (tc.expectedErr) await expect(handled).rejects.toThrow(/cannot create 1 of 2 ProwJobs \(first\)/);
    else await handled;

    expect((await harness.jobsOf(pr)).map((job) => job.spec.job).sort()).toEqual(tc.expectedJobs);
  });
});
