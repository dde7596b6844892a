/**
 * `make demo`: the whole pipeline on this machine. A real nats-server and the five services run
 * as separate processes; GitHub and Jenkins are the local stand-ins from libs/testing. One pull
 * request is played through: opened by an outside contributor (welcomed, labelled
 * needs-ok-to-test), `/test all` from an org member (held: the pull request needs `/ok-to-test`
 * first, as in Prow), `/ok-to-test`, one job passes and one fails, `/retest`, and the failed job
 * passes. Exits 0 when GitHub ends with every status green and no failure comment.
 */
import { connectBus, openProwJobBucket } from '@bowline/bus';
import { createLogger } from '@bowline/observability';
import { ProwJobStore, type ProwJob } from '@bowline/prowjob';
import { startPipeline, type Pipeline } from './pipeline.js';
import { waitFor } from './wait.js';
import { pullRequestCommentPayload, pullRequestPayload } from './webhooks.js';

const CONFIG = `# The demo's config.yaml: two Jenkins presubmits, and a kubernetes job Bowline leaves alone.
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    always_run: true
    context: ci/jenkins/unit
  - name: integration
    agent: jenkins
    always_run: true
    context: ci/jenkins/integration
  - name: lint
    agent: kubernetes
    always_run: true
    spec: { containers: [{ image: golang }] }
bowline:
  jenkins_operator:
    resync_period: 1s
`;

const PR = { org: 'acme', repo: 'widgets', number: 42, author: 'bob', headSha: 'c0ffee'.padEnd(40, '0'), headRef: 'sprockets', baseRef: 'main', baseSha: 'ba5e'.padEnd(40, '0'), title: 'Add sprockets' };
const started = Date.now();

function say(source: string, text: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  console.log(`${seconds}s  ${source.padEnd(8)} ${text}`);
}

function describeJob(job: ProwJob): string {
  const build = job.status.jenkins_build_id ? ` build #${job.status.jenkins_build_id}` : '';
  const url = job.status.url ? ` ${job.status.url}` : '';
  return `${job.spec.job.padEnd(12)} ${job.status.state.padEnd(9)} ${job.status.description ?? ''}${build}${url}`;
}

async function play(pipeline: Pipeline): Promise<void> {
  const { github, jenkins } = pipeline;
  github.addPullRequest({ ...PR, files: ['sprocket.go', 'sprocket_test.go'] });
  github.addOrgMember('acme', 'alice');
  jenkins.addJob('unit');
  jenkins.addJob('integration');
  // The integration job is flaky: its first build fails, later ones pass.
  jenkins.autoRun({
    startAfterMs: 300,
    finishAfterMs: 2500,
    result: (build) => (build.job === 'integration' && build.number === 1 ? 'FAILURE' : 'SUCCESS'),
  });

  jenkins.onRequest((r) => {
    if (r.method === 'POST') say('jenkins', `${r.method} ${r.path} → ${r.status}`);
  });
  github.onRequest((r) => {
    if (r.method === 'GET') return;
    const body = r.body ? (JSON.parse(r.body) as Record<string, string>) : {};
    if (r.path.includes('/statuses/')) say('github', `status ${body.context} = ${body.state} "${body.description}"`);
    else if (r.method === 'DELETE' && r.path.includes('/labels/')) say('github', `label ${decodeURIComponent(r.path.split('/').pop() ?? '')} removed`);
    else if (r.method === 'DELETE') say('github', `${r.path} deleted (nothing fails any more)`);
    else if (r.path.endsWith('/labels')) say('github', `labels added: ${(JSON.parse(r.body) as { labels: string[] }).labels.join(', ')}`);
    else say('github', `${r.method} ${r.path}${body.body ? `\n${indent(body.body)}` : ''}`);
  });

  const bus = await connectBus({ servers: pipeline.nats.url, name: 'bowline-demo', logger: createLogger({ service: 'demo', level: 'silent' }) });
  const store = new ProwJobStore(await openProwJobBucket(bus.nc, { replicas: 1 }));
  // A job is printed when what a person sees of it changes, not for every revision (the reporter's
  // bookkeeping writes revisions too).
  const shown = new Map<string, string>();
  const watcher = await store.watch((name, stored) => {
    const line = stored && describeJob(stored.job);
    if (line && shown.get(name) !== line) {
      shown.set(name, line);
      say('prowjob', line);
    }
  }, createLogger({ service: 'demo', level: 'silent' }));

  try {
    say('webhook', `pull_request opened #${PR.number} by ${PR.author} (not an org member): nothing may run yet`);
    await pipeline.deliver('pull_request', pullRequestPayload({ action: 'opened', ...PR }));
    await waitFor('the welcome comment', () => github.comments(PR.org, PR.repo, PR.number).length === 1);

    say('webhook', 'issue_comment "/test all" by alice (org member)');
    await pipeline.deliver('issue_comment', pullRequestCommentPayload({ ...PR, commenter: 'alice', body: '/test all', prAuthor: PR.author }));
    await waitFor('the planner to hold it', () => pipeline.services.planner.logs.some((l) => l.includes('needs /ok-to-test')));

    say('webhook', 'issue_comment "/ok-to-test" by alice');
    await pipeline.deliver('issue_comment', pullRequestCommentPayload({ ...PR, commenter: 'alice', body: '/ok-to-test', prAuthor: PR.author }));
    await waitFor('the failure comment', () => github.comments(PR.org, PR.repo, PR.number).some((c) => c.body.includes('<!-- test report -->')), { timeoutMs: 30_000 });
    await waitFor('unit to succeed', () => latest(pipeline, 'ci/jenkins/unit') === 'success', { timeoutMs: 30_000 });

    say('webhook', 'issue_comment "/retest" by alice');
    await pipeline.deliver('issue_comment', pullRequestCommentPayload({ ...PR, commenter: 'alice', body: '/retest', prAuthor: PR.author }));
    await waitFor('integration to pass on retest', () => latest(pipeline, 'ci/jenkins/integration') === 'success', { timeoutMs: 30_000 });
    await waitFor('the failure comment to go', () => !github.comments(PR.org, PR.repo, PR.number).some((c) => c.body.includes('<!-- test report -->')), { timeoutMs: 30_000 });
  } finally {
    watcher.stop();
    await bus.close();
  }

  const unitBuilds = jenkins.builds('unit').length;
  const integrationBuilds = jenkins.builds('integration').length;
  console.log(`\nDone: unit built ${unitBuilds}×, integration ${integrationBuilds}× (the retest reran only the failed job);`);
  console.log('every status on the head commit is green and the failure comment is gone.');
  if (unitBuilds !== 1 || integrationBuilds !== 2) throw new Error('unexpected number of builds');
}

function latest(pipeline: Pipeline, context: string): string | undefined {
  return pipeline.github.statuses(PR.org, PR.repo, PR.headSha).filter((s) => s.context === context).at(-1)?.state;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `                  | ${line}`)
    .join('\n');
}

console.log('Bowline demo: a real nats-server and the five services (hook, planner, jenkins-operator,');
console.log('reporter, sinker) as separate processes. GitHub and Jenkins are LOCAL STAND-INS from');
console.log('libs/testing, not the real services; the README says how to point Bowline at real ones.\n');

const pipeline = await startPipeline({
  config: CONFIG,
  onLog: (service, line) => {
    // Services log JSON; the demo shows only their warnings and errors, and why nothing ran.
    try {
      const entry = JSON.parse(line) as { level: number; msg: string };
      if (entry.level >= 40 || /nothing started|ok-to-test/.test(entry.msg)) say(service, entry.msg);
    } catch {
      say(service, line);
    }
  },
});
say('demo', `nats ${pipeline.nats.url}, hook ${pipeline.hookUrl}, GitHub stand-in ${pipeline.github.url}, Jenkins stand-in ${pipeline.jenkins.url}`);
let failed = false;
try {
  await play(pipeline);
} catch (error) {
  failed = true;
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await pipeline.stop();
}
process.exit(failed ? 1 : 0);
