import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isValidProwJob, KubeApiServer, pullRequestCommentPayload, startPipeline, waitFor, type KubeObject, type Pipeline } from '@bowline/testing';

// Bowline's whole pipeline as deployed, plus kube-bridge as a process, against the test Kubernetes
// API server (no real cluster here): the ProwJobs a `/test all` creates appear in the "cluster" and
// follow their builds, and a ProwJob created in the cluster, as Prow's hook would, is run by
// Bowline's jenkins-operator with its status written back.
const NS = 'prow';
const TOKEN = 'kube-bridge-e2e-token';
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
bowline:
  jenkins_operator:
    resync_period: 1s
  kubernetes:
    enabled: true
    namespace: ${NS}
`;
const PR = { org: 'acme', repo: 'widgets', number: 7, author: 'alice', headSha: 'a'.repeat(40), baseRef: 'master', baseSha: 'b'.repeat(40) };

describe('kube-bridge in the pipeline: ProwJobs in the cluster', () => {
  let pipeline: Pipeline;
  let server: KubeApiServer;
  let dir: string;
  /** Every state each ProwJob resource was stored with, in order. */
  const states = new Map<string, string[]>();

  beforeAll(async () => {
    server = await KubeApiServer.start({ tokens: [TOKEN] });
    server.store.onEvent(({ type, object }) => {
      if (type === 'DELETED') return;
      const name = object.metadata.name!;
      const state = (object.status as { state: string }).state;
      const seen = states.get(name) ?? [];
      if (seen.at(-1) !== state) seen.push(state);
      states.set(name, seen);
    });
    dir = mkdtempSync(join(tmpdir(), 'kube-e2e-'));
    writeFileSync(join(dir, 'kubeconfig'), server.kubeconfig(TOKEN, NS));
    pipeline = await startPipeline({ config: CONFIG, kubeconfig: join(dir, 'kubeconfig') });
    pipeline.github.addPullRequest({ ...PR, headRef: 'feature', title: 'Add sprockets', files: ['src/sprocket.go'] });
    pipeline.github.addOrgMember('acme', 'alice');
    pipeline.jenkins.addJob('unit');
    pipeline.jenkins.addJob('integration');
  }, 60_000);

  afterAll(async () => {
    await pipeline?.stop();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const resources = (job: string): KubeObject[] => server.store.list(NS).filter((o) => (o.spec as { job: string }).job === job);
  const statusOf = (object: KubeObject) => object.status as { state: string; url?: string; completionTime?: string; jenkins_build_id?: string };

  it('shows a /test all as ProwJob resources whose status follows each build to its end', async () => {
    const comment = pullRequestCommentPayload({ org: PR.org, repo: PR.repo, number: PR.number, commenter: 'alice', body: '/test all', prAuthor: PR.author });
    expect((await pipeline.deliver('issue_comment', comment, 'delivery-kube-test-all')).status).toBe(202);

    await waitFor('both ProwJobs in the cluster', () => resources('unit').length === 1 && resources('integration').length === 1);
    const unitItem = await waitFor('the unit queue item', () => pipeline.jenkins.queue().find((q) => q.job === 'unit'));
    const integrationItem = await waitFor('the integration queue item', () => pipeline.jenkins.queue().find((q) => q.job === 'integration'));
    const unitBuild = pipeline.jenkins.startBuild(unitItem.id);
    const integrationBuild = pipeline.jenkins.startBuild(integrationItem.id);
    await waitFor('both resources pending', () => [...resources('unit'), ...resources('integration')].every((o) => statusOf(o).state === 'pending'));
    pipeline.jenkins.finishBuild(unitBuild, 'SUCCESS');
    pipeline.jenkins.finishBuild(integrationBuild, 'FAILURE');
    await waitFor('both resources finished', () => statusOf(resources('unit')[0]!).completionTime && statusOf(resources('integration')[0]!).completionTime, { timeoutMs: 20_000 });

    const [unit] = resources('unit');
    const [integration] = resources('integration');
    expect(states.get(unit!.metadata.name!)).toEqual(['triggered', 'pending', 'success']);
    expect(states.get(integration!.metadata.name!)).toEqual(['triggered', 'pending', 'failure']);
    expect(statusOf(unit!)).toMatchObject({ state: 'success', url: unitBuild.url });
    expect(unit!.metadata.labels).toMatchObject({ 'created-by-prow': 'true', 'prow.k8s.io/job': 'unit', 'prow.k8s.io/refs.pull': '7', 'bowline.dev/origin': 'bowline' });
    for (const object of [unit, integration]) expect(isValidProwJob(object)).toBe(true);
  });

  it('runs a Jenkins ProwJob created directly in the cluster: one Jenkins build, and the final status written back', async () => {
    const name = '5b1c6bd4-2f0e-11f1-9c3a-0242ac120002';
    server.store.create(NS, {
      apiVersion: 'prow.k8s.io/v1',
      kind: 'ProwJob',
      metadata: { name, labels: { 'created-by-prow': 'true', 'prow.k8s.io/type': 'presubmit', 'prow.k8s.io/job': 'unit' }, annotations: { 'prow.k8s.io/job': 'unit' } },
      spec: {
        type: 'presubmit',
        agent: 'jenkins',
        job: 'unit',
        context: 'ci/jenkins/unit',
        rerun_command: '/test unit',
        report: true,
        refs: { org: 'acme', repo: 'widgets', base_ref: 'master', base_sha: PR.baseSha, pulls: [{ number: 7, author: 'alice', sha: PR.headSha }] },
      },
      status: { state: 'triggered', startTime: new Date().toISOString() },
    });
    const item = await waitFor('its Jenkins build queued', () => pipeline.jenkins.findQueueItem(name));
    const build = pipeline.jenkins.startBuild(item.id);
    await waitFor('the resource pending', () => statusOf(server.store.get(NS, name)!).state === 'pending');
    pipeline.jenkins.finishBuild(build, 'SUCCESS');
    await waitFor('the final status in the cluster', () => statusOf(server.store.get(NS, name)!).completionTime, { timeoutMs: 20_000 });

    const object = server.store.get(NS, name)!;
    expect(statusOf(object)).toMatchObject({ state: 'success', url: build.url });
    expect(states.get(name)).toEqual(['triggered', 'pending', 'success']);
    expect(object.metadata.labels!['bowline.dev/origin']).toBeUndefined();
    expect(isValidProwJob(object)).toBe(true);
    const builds = pipeline.jenkins.requestsTo({ method: 'POST', path: /buildWithParameters$/ }).filter((r) => r.body.includes(name) || r.query.get('PROW_JOB_ID') === name);
    expect(builds).toHaveLength(1);
  });
});
