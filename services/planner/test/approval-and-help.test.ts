/**
 * What Prow's trigger does that its test tables leave out, read from its code
 * (pkg/plugins/trigger/generic-comment.go, pull-request.go, trigger.go): `/ok-to-test cancel`, the
 * welcome's invitation to join the org, the draft note, a stale help reply pruned, a pull request
 * that cannot merge; and Bowline's `ok_to_test: per_commit` around them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { configOf, PlannerHarness } from './prow/harness.js';

const MEMBER = 'alice';
const OUTSIDER = 'mallory';
const REGULAR_CONTRIBUTOR = 'rita';
const CONFIG = (trust: Record<string, unknown> = {}) =>
  configOf({ presubmits: { 'org/repo': [{ name: 'unit', always_run: true }, { name: 'e2e' }] } }, { trust: { ok_to_test: 'per_pull_request', ...trust } });

describe('approvals, welcomes and help replies as Prow words them', () => {
  let harness: PlannerHarness;

  beforeAll(async () => {
    harness = await PlannerHarness.start();
    harness.github.addOrgMember('org', MEMBER);
    // Three merged pull requests in the org: Prow's threshold for the prominent invitation.
    for (const n of [1, 2, 3]) harness.github.addPullRequest({ org: 'org', repo: 'other', number: n, author: REGULAR_CONTRIBUTOR, headSha: `${n}`.padEnd(40, 'm'), merged: true });
  });

  afterAll(async () => {
    await harness?.stop();
  });

  const bodies = (pr: ReturnType<PlannerHarness['openPr']>) => harness.comments(pr).map((c) => c.body);
  const labels = (pr: ReturnType<PlannerHarness['openPr']>) => harness.github.labels(pr.org, pr.repo, pr.number);

  describe('/ok-to-test cancel', () => {
    it('from a trusted user removes ok-to-test and puts needs-ok-to-test back; the pull request is untrusted again', async () => {
      const planner = harness.planner(CONFIG());
      const pr = harness.openPr({ author: OUTSIDER, labels: ['ok-to-test'] });

      await planner.handle(harness.comment(pr, '/ok-to-test cancel', MEMBER));

      expect(labels(pr)).toEqual(['needs-ok-to-test']);
      expect(await harness.jobsOf(pr)).toEqual([]);
      await planner.handle(harness.comment(pr, '/test unit', OUTSIDER));
      expect(await harness.jobsOf(pr)).toEqual([]);
      expect(bodies(pr)).toEqual([expect.stringContaining(`@${OUTSIDER}: Cannot trigger testing until a trusted user reviews the PR`)]);
    });

    it('from anyone else is refused in Prow\'s words, and changes nothing', async () => {
      const planner = harness.planner(CONFIG());
      const pr = harness.openPr({ author: OUTSIDER, labels: ['ok-to-test'] });

      await planner.handle(harness.comment(pr, '/ok-to-test cancel', OUTSIDER));

      expect(labels(pr)).toEqual(['ok-to-test']);
      expect(bodies(pr)).toEqual([expect.stringMatching(/^@mallory: Only trusted users can revoke `\/ok-to-test`\.\n\n<details>\n\nIn response to \[this\]\(.+\):\n\n>\/ok-to-test cancel\n/)]);
      expect(await harness.jobsOf(pr)).toEqual([]);
    });

    it('forgets a per_commit approval: approving again is needed even at the same commit', async () => {
      const planner = harness.planner(CONFIG({ ok_to_test: 'per_commit' }));
      const pr = harness.openPr({ author: OUTSIDER });
      await planner.handle(harness.comment(pr, '/ok-to-test', MEMBER));
      await planner.handle(harness.comment(pr, '/ok-to-test cancel', MEMBER));
      // ok-to-test put back by the bot itself is no approval.
      harness.github.addPullRequest({ ...pr, labels: ['ok-to-test'] });
      await planner.handle(harness.pullRequestEvent(pr, 'labeled', { label: { name: 'ok-to-test' }, sender: { login: PlannerHarness.BOT } }));

      await planner.handle(harness.comment(pr, '/test e2e', OUTSIDER));

      expect((await harness.jobsOf(pr)).map((job) => job.spec.job)).toEqual(['unit']);
      expect(labels(pr)).toEqual(['needs-ok-to-test']);
    });
  });

  describe('the welcome', () => {
    it("carries Prow's invitation to join the org", async () => {
      const pr = harness.openPr({ author: OUTSIDER });

      await harness.planner(CONFIG({ trusted_orgs: ['partners'] })).handle(harness.pullRequestEvent(pr, 'opened'));

      const [welcome] = bodies(pr);
      expect(welcome).toContain(
        "I'm waiting for a [org](https://github.com/orgs/org/people) or [partners](https://github.com/orgs/partners/people) member to verify that this patch is reasonable to test. If it is, they should reply with `/ok-to-test` on its own line. Until that is done, I will not automatically test new commits in this PR, but the usual testing commands by org members will still work.\n\nRegular contributors should [join the org](https://github.com/orgs/org/people) to skip this step.\n\nOnce the patch is verified, the new status will be reflected by the `ok-to-test` label.",
      );
      const search = harness.github.requestsTo({ method: 'GET', path: '/search/issues' }).at(-1);
      expect(search?.query.get('q')).toBe(`type:pr is:merged org:org author:${OUTSIDER}`);
    });

    it('shows the prominent tip to an author with three merged pull requests in the org', async () => {
      const pr = harness.openPr({ author: REGULAR_CONTRIBUTOR });

      await harness.planner(CONFIG()).handle(harness.pullRequestEvent(pr, 'opened'));

      expect(bodies(pr)[0]).toContain(">[!TIP]\n>**We noticed you've done this a few times! Consider [joining the org](https://github.com/orgs/org/people) to skip this step");
    });

    it('falls back to the regular invitation when the search fails', async () => {
      const pr = harness.openPr({ author: REGULAR_CONTRIBUTOR });
      harness.github.inject({ method: 'GET', path: '/search/issues' }, { status: 503, body: { message: 'Service Unavailable' }, times: 10 });

      await harness.planner(CONFIG()).handle(harness.pullRequestEvent(pr, 'opened'));

      expect(bodies(pr)[0]).toContain('Regular contributors should [join the org](https://github.com/orgs/org/people) to skip this step.');
      expect(labels(pr)).toEqual(['needs-ok-to-test']);
    });
  });

  it("answers a trusted author's draft with Prow's note and runs nothing", async () => {
    const pr = harness.openPr({ author: MEMBER, draft: true });

    await harness.planner(CONFIG()).handle(harness.pullRequestEvent(pr, 'opened'));

    expect(bodies(pr)).toEqual([expect.stringContaining('Skipping CI for Draft Pull Request.\nIf you want CI signal for your change, please convert it to an actual PR.\nYou can still manually trigger a test run with `/test all`')]);
    expect(await harness.jobsOf(pr)).toEqual([]);
  });

  it('deletes its help reply once a later /test starts jobs', async () => {
    const planner = harness.planner(CONFIG());
    const pr = harness.openPr({ author: MEMBER });
    await planner.handle(harness.comment(pr, '/test integration', MEMBER));
    expect(bodies(pr)).toEqual([expect.stringContaining('The specified target(s) for `/test` were not found.')]);
    // Someone else's comment quoting the help stays.
    harness.github.addComment(pr.org, pr.repo, pr.number, OUTSIDER, '> The specified target(s) for `/test` were not found.\nhuh?');

    await planner.handle(harness.comment(pr, '/test e2e', MEMBER));

    expect(bodies(pr)).toEqual(['> The specified target(s) for `/test` were not found.\nhuh?']);
    expect((await harness.jobsOf(pr)).map((job) => job.spec.job)).toEqual(['e2e']);
  });

  it('starts nothing for a pull request event GitHub says cannot merge', async () => {
    const pr = harness.openPr({ author: MEMBER, mergeable: false });

    await harness.planner(CONFIG()).handle(harness.pullRequestEvent(pr, 'opened'));

    expect(await harness.jobsOf(pr)).toEqual([]);
  });
});
