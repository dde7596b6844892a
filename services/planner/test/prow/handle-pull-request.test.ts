/**
 * Prow's TestHandlePullRequest (pkg/plugins/trigger/pull-request_test.go), case by case, driven
 * through the planner against the GitHub test server and a real nats-server.
 *
 * As in Prow's test: `t` is the only member of `org`, only org members are trusted, and the one
 * presubmit `jib` runs by itself on `master`. `ok-to-test` is on the pull request when the case
 * says so; a case that checks an abort starts with an unfinished ProwJob of the pull request.
 *
 * One deliberate difference (README, "Behaviour, where Prow leaves a choice"): Prow's trigger
 * leaves an aborted job unfinished for its controller to complete, and the table asserts
 * `!Complete()`; a Bowline ProwJob only moves forward and is finished as soon as it is aborted
 * (the jenkins-operator still stops its build from the aborted state).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig } from '@bowline/config';
import { isFinished, newPresubmitJob, prowJobName } from '@bowline/prowjob';
import { configOf, PlannerHarness, type Pr } from './harness.js';

const CONFIG = configOf({ presubmits: { 'org/repo': [{ name: 'jib', always_run: true }] } }, { trust: { only_org_members: true, trusted_orgs: ['org'] } });

interface Case {
  name: string;
  author: 't' | 'u';
  shouldBuild?: boolean;
  shouldComment?: boolean;
  hasOkToTest?: boolean;
  prLabel?: string;
  prChanges?: boolean;
  prAction: string;
  prIsDraft?: boolean;
  eventSender?: string;
  jobToAbort?: boolean;
  issueLabelsAdded?: string[];
}

const CASES: Case[] = [
  { name: 'Trusted user open PR should build', author: 't', shouldBuild: true, prAction: 'opened' },
  { name: 'Trusted user open draft PR should not build and should comment', author: 't', prAction: 'opened', prIsDraft: true, shouldComment: true },
  { name: 'Untrusted user open PR with ok-to-test should not add needs-ok-to-test', author: 'u', shouldComment: true, prAction: 'opened', hasOkToTest: true },
  { name: 'Untrusted user open PR without ok-to-test should add needs-ok-to-test', author: 'u', shouldComment: true, prAction: 'opened', issueLabelsAdded: ['needs-ok-to-test'] },
  { name: 'Untrusted user open PR should not build and should comment', author: 'u', shouldComment: true, prAction: 'opened', issueLabelsAdded: ['needs-ok-to-test'] },
  { name: 'Untrusted user open draft PR should not build and should comment', author: 'u', shouldComment: true, prAction: 'opened', prIsDraft: true, issueLabelsAdded: ['needs-ok-to-test'] },
  { name: 'Trusted user reopen PR should build', author: 't', shouldBuild: true, prAction: 'reopened' },
  { name: 'Trusted user reopen draft PR should not build', author: 't', prAction: 'reopened', prIsDraft: true },
  { name: 'Trusted user switch PR from draft to normal should build', author: 't', shouldBuild: true, prAction: 'ready_for_review' },
  { name: 'Untrusted user switch PR from draft to normal should not build', author: 'u', prAction: 'ready_for_review' },
  { name: 'Untrusted user switch PR from draft to normal with ok-to-test should build', author: 'u', hasOkToTest: true, shouldBuild: true, prAction: 'ready_for_review' },
  { name: 'Untrusted user reopen PR with ok-to-test should build', author: 'u', shouldBuild: true, hasOkToTest: true, prAction: 'reopened' },
  { name: 'Untrusted user reopen PR without ok-to-test should not build', author: 'u', prAction: 'reopened' },
  { name: 'Untrusted user reopen draft PR should not build', author: 'u', prAction: 'reopened', prIsDraft: true },
  { name: 'Trusted user edit PR with changes should build', author: 't', shouldBuild: true, prChanges: true, prAction: 'edited' },
  { name: 'Trusted user edit draft PR with changes should not build', author: 't', prChanges: true, prAction: 'edited', prIsDraft: true },
  { name: 'Trusted user edit PR without changes should not build', author: 't', prAction: 'edited' },
  { name: 'Untrusted user edit PR without changes and without ok-to-test should not build', author: 'u', prAction: 'edited' },
  { name: 'Untrusted user edit PR with changes and without ok-to-test should not build', author: 'u', prChanges: true, prAction: 'edited' },
  { name: 'Untrusted user edit PR without changes and with ok-to-test should not build', author: 'u', hasOkToTest: true, prAction: 'edited' },
  { name: 'Untrusted user edit PR with changes and with ok-to-test should build', author: 'u', shouldBuild: true, hasOkToTest: true, prChanges: true, prAction: 'edited' },
  { name: 'Trusted user sync PR should build', author: 't', shouldBuild: true, prAction: 'synchronize' },
  { name: 'Untrusted user sync PR without ok-to-test should not build', author: 'u', prAction: 'synchronize' },
  { name: 'Untrusted user sync PR with ok-to-test should build', author: 'u', shouldBuild: true, hasOkToTest: true, prAction: 'synchronize' },
  { name: 'Trusted user labeled PR with lgtm should not build', author: 't', prAction: 'labeled', prLabel: 'lgtm' },
  { name: 'Untrusted user labeled PR with lgtm should build', author: 'u', shouldBuild: true, prAction: 'labeled', prLabel: 'lgtm' },
  { name: 'Untrusted user labeled PR without lgtm should not build', author: 'u', prAction: 'labeled', prLabel: 'test' },
  { name: 'Trusted user closed PR should not build', author: 't', prAction: 'closed' },
  { name: 'Trusted user labeled PR with ok-to-test should build', author: 't', shouldBuild: true, eventSender: 'not-k8s-ci-robot', prAction: 'labeled', prLabel: 'ok-to-test' },
  { name: 'Untrusted user labeled PR with ok-to-test should build', author: 'u', shouldBuild: true, eventSender: 'not-k8s-ci-robot', prAction: 'labeled', prLabel: 'ok-to-test' },
  { name: 'Label added by a bot. Build should not be triggered in this case.', author: 'u', eventSender: PlannerHarness.BOT, prLabel: 'ok-to-test', prAction: 'labeled' },
  { name: 'Abort jobs if PR is closed', author: 't', hasOkToTest: true, prAction: 'closed', jobToAbort: true },
  { name: 'Abort jobs if PR is changed to draft', author: 't', hasOkToTest: true, prAction: 'converted_to_draft', jobToAbort: true },
  { name: 'Abort old jobs and build on push', author: 't', hasOkToTest: true, prAction: 'synchronize', shouldBuild: true, jobToAbort: true },
];

describe("Prow's TestHandlePullRequest, through the planner", () => {
  let harness: PlannerHarness;

  beforeAll(async () => {
    harness = await PlannerHarness.start();
    harness.github.addOrgMember('org', 't');
  });

  afterAll(async () => {
    await harness?.stop();
  });

  /** An unfinished ProwJob of `pr`, started earlier by someone's `/test`. */
  async function earlierJob(pr: Pr): Promise<string> {
    const [presubmit] = parseConfig(CONFIG, 'config.yaml').presubmits['org/repo']!;
    const name = prowJobName('an-earlier-comment', presubmit!.name);
    const refs = { org: pr.org, repo: pr.repo, base_ref: pr.baseRef, base_sha: pr.baseSha, pulls: [{ number: pr.number, author: pr.author, sha: 'e'.repeat(40) }] };
    await harness.bucket.store.create(newPresubmitJob(presubmit!, { name, refs, now: new Date(), cause: { event: 'issue_comment', deliveryId: 'an-earlier-comment' } }));
    return name;
  }

  it('ports every case of the table', () => {
    expect(CASES).toHaveLength(34);
  });

  it.each(CASES)('TestHandlePullRequest: $name', async (tc) => {
    const planner = harness.planner(CONFIG);
    const pr = harness.openPr({ author: tc.author, draft: tc.prIsDraft, labels: tc.hasOkToTest ? ['ok-to-test'] : [] });
    const aborted = tc.jobToAbort ? await earlierJob(pr) : undefined;
    const event = harness.pullRequestEvent(pr, tc.prAction, {
      label: { name: tc.prLabel ?? '' },
      sender: { login: tc.eventSender ?? tc.author },
      ...(tc.prChanges ? { changes: { base: { ref: { from: 'REF' }, sha: { from: 'SHA' } } } } : {}),
    });

    await planner.handle(event);

    const started = (await harness.jobsOf(pr)).filter((job) => job.metadata.name !== aborted);
    expect(started.length > 0).toBe(tc.shouldBuild ?? false);
    expect(harness.comments(pr).length > 0).toBe(tc.shouldComment ?? false);
    expect(harness.labelsAdded(pr)).toEqual(tc.issueLabelsAdded ?? []);
    if (aborted) {
      const job = (await harness.bucket.store.get(aborted))!.job;
      expect(job.status.state).toBe('aborted');
      // Deliberately unlike Prow, which leaves it for its controller to complete.
      expect(isFinished(job)).toBe(true);
    }
  });
});
