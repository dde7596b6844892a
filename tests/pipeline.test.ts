import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pullRequestCommentPayload, signWebhook, startPipeline, waitFor, type Pipeline } from '@bowline/testing';

// The whole pipeline, as deployed: nats-server, the five services as processes, and the local
// GitHub and Jenkins stand-ins. Every assertion is on what those stand-ins recorded.
const CONFIG = `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    always_run: true
    branches: [master]
    context: ci/jenkins/unit
  - name: integration
    agent: jenkins
    always_run: true
    branches: [master]
    context: ci/jenkins/integration
  - name: docs
    agent: jenkins
    run_if_changed: ^docs/
    context: ci/jenkins/docs
  - name: release-smoke
    agent: jenkins
    always_run: true
    branches: [release-.*]
  - name: lint
    agent: kubernetes
    always_run: true
    spec:
      containers:
      - image: golang:1.22
sinker:
  resync_period: 1s
  max_prowjob_age: 1h
bowline:
  jenkins_operator:
    resync_period: 1s
`;

const PR = { org: 'acme', repo: 'widgets', number: 7, author: 'alice', headSha: 'a'.repeat(40), baseRef: 'master', baseSha: 'b'.repeat(40) };
const OUTSIDERS_PR = { ...PR, number: 8, author: 'mallory', headSha: 'c'.repeat(40) };

describe('the pipeline from a pull request comment to GitHub statuses', () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({ config: CONFIG });
    pipeline.github.addPullRequest({ ...PR, headRef: 'feature', title: 'Add sprockets', files: ['src/sprocket.go'] });
    pipeline.github.addPullRequest({ ...OUTSIDERS_PR, headRef: 'gears', title: 'Add gears', files: ['src/gear.go'] });
    pipeline.github.addOrgMember('acme', 'alice');
    pipeline.jenkins.addJob('unit');
    pipeline.jenkins.addJob('integration');
    pipeline.jenkins.addJob('docs');
    pipeline.jenkins.addJob('release-smoke');
  }, 60_000);

  afterAll(async () => {
    await pipeline?.stop();
  });

  const comment = (commenter: string, body: string) => pullRequestCommentPayload({ org: PR.org, repo: PR.repo, number: PR.number, commenter, body, prAuthor: PR.author });
  const statuses = () => pipeline.github.statuses(PR.org, PR.repo, PR.headSha);

  it("starts exactly one Jenkins build per matching job for an org member's /test all", async () => {
    const answer = await pipeline.deliver('issue_comment', comment('alice', '/test all'), 'delivery-test-all');
    expect(answer.status).toBe(202);

    await waitFor('both jobs queued or built', () => allStarted(pipeline).length === 2 && allStarted(pipeline));
    const started = allStarted(pipeline);
    expect(started.map((s) => s.job).sort()).toEqual(['integration', 'unit']);
    for (const { parameters } of started) {
      expect(parameters).toMatchObject({
        CI: 'true',
        PULL_NUMBER: '7',
        PULL_HEAD_REF: 'feature',
        PULL_PULL_SHA: PR.headSha,
        PULL_BASE_REF: 'master',
        PULL_BASE_SHA: PR.baseSha,
        REPO_OWNER: 'acme',
        REPO_NAME: 'widgets',
        SRC_HOST: 'github.com',
        SRC_BASE: 'acme/widgets',
        JOB_TYPE: 'presubmit',
        PULL_REFS: `master:${PR.baseSha},7:${PR.headSha}`,
      });
      expect(parameters.PROW_JOB_ID).toMatch(/^[0-9a-f-]{36}$/);
      expect(parameters.BUILD_ID).toMatch(/^\d+$/);
      expect(JSON.parse(parameters.JOB_SPEC!)).toMatchObject({ type: 'presubmit', prowjobid: parameters.PROW_JOB_ID, refs: { org: 'acme', repo: 'widgets' } });
    }
    expect(pipeline.jenkins.requestsTo({ method: 'POST', path: /buildWithParameters$/ })).toHaveLength(2);
  });

  it('reports pending then success for a passing build, and failure plus the failure comment for a failing one, linking to the builds', async () => {
    const unit = await waitFor('the unit queue item', () => pipeline.jenkins.queue().find((q) => q.job === 'unit'));
    const integration = await waitFor('the integration queue item', () => pipeline.jenkins.queue().find((q) => q.job === 'integration'));
    const unitBuild = pipeline.jenkins.startBuild(unit.id);
    const integrationBuild = pipeline.jenkins.startBuild(integration.id);
    await waitFor('running statuses with build links', () =>
      statuses().filter((s) => s.state === 'pending' && s.target_url !== null).length === 2,
    );
    pipeline.jenkins.finishBuild(unitBuild, 'SUCCESS');
    pipeline.jenkins.finishBuild(integrationBuild, 'FAILURE');

    await waitFor('the failure comment', () => pipeline.github.comments(PR.org, PR.repo, PR.number).length === 1);
    await waitFor('final statuses', () => statuses().some((s) => s.state === 'success') && statuses().some((s) => s.state === 'failure'));

    const unitStatuses = statuses().filter((s) => s.context === 'ci/jenkins/unit');
    expect(statesBeforeLast(unitStatuses)).toEqual(['pending']);
    // Prow's descriptions (pkg/jenkins/controller.go) with the base sha Tide reads (pkg/config ContextDescriptionWithBaseSha).
    const withBaseSha = (description: string) => expect.stringMatching(new RegExp(`^${description.replace(/\./g, '\\.')}\u2001+ BaseSHA:${PR.baseSha}$`));
    expect(unitStatuses.filter((s) => s.state === 'pending').at(-1)).toMatchObject({ description: withBaseSha('Jenkins job running.'), target_url: unitBuild.url });
    expect(unitStatuses.at(-1)).toMatchObject({ description: withBaseSha('Jenkins job succeeded.'), target_url: unitBuild.url });
    const integrationStatuses = statuses().filter((s) => s.context === 'ci/jenkins/integration');
    expect(statesBeforeLast(integrationStatuses)).toEqual(['pending']);
    expect(integrationStatuses.at(-1)).toMatchObject({ description: withBaseSha('Jenkins job failed.'), target_url: integrationBuild.url });

    const [report] = pipeline.github.comments(PR.org, PR.repo, PR.number);
    expect(report!.user.login).toBe(pipeline.github.botLogin);
    expect(report!.body).toContain('@alice: The following test **failed**');
    expect(report!.body).toContain('Test name | Commit | Details | Required | Rerun command');
    expect(report!.body).toContain(`ci/jenkins/integration | ${PR.headSha} | [link](${integrationBuild.url}) | true | \`/test integration\``);
    expect(report!.body).not.toContain('ci/jenkins/unit');
    expect(report!.body).toContain('<!-- test report -->');
  });

  it('starts nothing new when the same delivery is sent twice', async () => {
    const again = await pipeline.deliver('issue_comment', comment('alice', '/test all'), 'delivery-test-all');
    expect(again.status).toBe(202);
    expect(again.body).toContain('already received');
    await expectNothingStartedBefore(pipeline, 'unit', 'delivery-marker-1');
  });

  // On a trusted pull request (alice's) Prow would run it: TestHandleGenericComment "accept /test
  // from non-trusted member if PR author is trusted".
  it('starts nothing for a comment from someone who is neither member nor collaborator, on their own pull request', async () => {
    const onOwnPr = pullRequestCommentPayload({ org: OUTSIDERS_PR.org, repo: OUTSIDERS_PR.repo, number: OUTSIDERS_PR.number, commenter: 'mallory', body: '/test all', prAuthor: 'mallory' });
    const answer = await pipeline.deliver('issue_comment', onOwnPr, 'delivery-outsider');
    expect(answer.status).toBe(202);
    await waitFor('the collaborator check of mallory', () => pipeline.github.requestsTo({ path: '/repos/acme/widgets/collaborators/mallory' }).length > 0);
    await expectNothingStartedBefore(pipeline, 'integration', 'delivery-marker-2');
  });

  it('answers 401 to a request with a bad signature and starts nothing', async () => {
    const forged = signWebhook({ event: 'issue_comment', payload: comment('alice', '/test all'), secret: 'not-the-secret', deliveryId: 'delivery-forged' });
    const answer = await fetch(pipeline.hookUrl, { method: 'POST', headers: forged.headers, body: forged.body });
    expect(answer.status).toBe(401);
    await expectNothingStartedBefore(pipeline, 'unit', 'delivery-marker-3');
  });

  /**
   * Proves a negative without sleeping on faith: after the event under test, a trusted `/test
   * <job>` is sent; once its build is requested, the planner has read past the earlier event, and
   * exactly one more build request must exist.
   */
  async function expectNothingStartedBefore(p: Pipeline, job: string, markerDelivery: string): Promise<void> {
    const before = p.jenkins.requestsTo({ method: 'POST', path: /buildWithParameters$/ }).length;
    const marker = await p.deliver('issue_comment', comment('alice', `/test ${job}`), markerDelivery);
    expect(marker.status).toBe(202);
    await waitFor('the marker build request', () => p.jenkins.requestsTo({ method: 'POST', path: /buildWithParameters$/ }).length > before);
    // Give a message handled concurrently with the marker time to act, if it (wrongly) would.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = p.jenkins.requestsTo({ method: 'POST', path: /buildWithParameters$/ });
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)!.path).toBe(`/job/${job}/buildWithParameters`);
  }
});

/** The distinct states reported before the last one: only `pending` may precede a final state. */
function statesBeforeLast(list: { state: string }[]): string[] {
  return [...new Set(list.slice(0, -1).map((s) => s.state))];
}

function allStarted(p: Pipeline): { job: string; parameters: Record<string, string> }[] {
  return [...p.jenkins.queue(), ...p.jenkins.builds()].map((x) => ({ job: x.job, parameters: x.parameters }));
}
