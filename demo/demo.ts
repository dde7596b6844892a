/**
 * `make demo`: the whole pipeline on this machine. A real nats-server and the five services run
 * as separate processes; GitHub and Jenkins are the local stand-ins from libs/testing. One pull
 * request is played through, with Prow's trust rules: opened by an outside contributor (welcomed,
 * labelled needs-ok-to-test, nothing runs); `/test all` from an org member runs at once (a trusted
 * commenter may test any pull request); the flaky integration job fails; the author's own
 * `/retest` is refused (the pull request is not trusted yet); the member's `/ok-to-test` swaps the
 * labels and runs the default set again; integration fails once more; now the author's `/retest`
 * is accepted and reruns only integration, which passes. Exits 0 when GitHub ends with every
 * status green and no failure comment. The deck runs beside them (demo/deck.ts) and its address is
 * printed; with DEMO_HOLD=1 everything keeps running after the play until Ctrl-C, so a person can
 * look at the pages, sign in through the GitHub stand-in, and rerun or abort jobs.
 */
import { connectBus, openProwJobBucket } from '@bowline/bus';
import { createLogger } from '@bowline/observability';
import { ProwJobStore, type ProwJob, type ProwJobState } from '@bowline/prowjob';
import { pullRequestCommentPayload, pullRequestPayload, startPipeline, waitFor, type Pipeline } from '@bowline/testing';
import { signInHelp, startDemoDeck, type DemoDeck } from './deck.js';

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
  // The integration job is flaky: its first two builds fail, later ones pass.
  jenkins.autoRun({
    startAfterMs: 300,
    finishAfterMs: 2500,
    result: (build) => (build.job === 'integration' && build.number <= 2 ? 'FAILURE' : 'SUCCESS'),
  });

  jenkins.onRequest((r) => {
    if (r.method === 'POST') say('jenkins', `${r.method} ${r.path} → ${r.status}`);
  });
  github.onRequest((r) => {
    // GETs, and the sign-in's OAuth exchange (a form, not JSON), are not what the demo shows.
    if (r.method === 'GET' || r.path.startsWith('/login/oauth/')) return;
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

  const comment = (commenter: string, body: string) => pullRequestCommentPayload({ ...PR, commenter, body, prAuthor: PR.author, labels: github.labels(PR.org, PR.repo, PR.number) });
  const ended = async (job: string, state: ProwJobState) => (await store.list()).filter((s) => s.job.spec.job === job && s.job.status.state === state).length;
  const hasComment = (text: string) => github.comments(PR.org, PR.repo, PR.number).some((c) => c.body.includes(text));
  const BUILDS = { timeoutMs: 30_000 };

  try {
    say('webhook', `pull_request opened #${PR.number} by ${PR.author} (not an org member): nothing may run yet`);
    await pipeline.deliver('pull_request', pullRequestPayload({ action: 'opened', ...PR }));
    await waitFor('the welcome comment', () => hasComment('Thanks for your PR.'));

    say('webhook', 'issue_comment "/test all" by alice (org member): a trusted commenter may test any pull request, as in Prow');
    await pipeline.deliver('issue_comment', comment('alice', '/test all'));
    await waitFor('unit to pass and integration to fail', async () => (await ended('unit', 'success')) === 1 && (await ended('integration', 'failure')) === 1, BUILDS);
    await waitFor('the failure comment', () => hasComment('<!-- test report -->'), BUILDS);

    say('webhook', `issue_comment "/retest" by ${PR.author}: the pull request is not trusted yet`);
    await pipeline.deliver('issue_comment', comment(PR.author, '/retest'));
    await waitFor('the refusal', () => hasComment('Cannot trigger testing until a trusted user reviews the PR'));

    say('webhook', 'issue_comment "/ok-to-test" by alice: the labels swap and the default set runs again');
    await pipeline.deliver('issue_comment', comment('alice', '/ok-to-test'));
    // As a person would, the author waits for GitHub to show the failure before asking again.
    await waitFor('unit to pass and integration to fail again', async () => (await ended('unit', 'success')) === 2 && (await ended('integration', 'failure')) === 2, BUILDS);
    await waitFor('GitHub to show the failure', () => latest(pipeline, 'ci/jenkins/integration') === 'failure', BUILDS);

    say('webhook', `issue_comment "/retest" by ${PR.author}: accepted now that the pull request is trusted`);
    await pipeline.deliver('issue_comment', comment(PR.author, '/retest'));
    await waitFor('integration to pass on retest', async () => (await ended('integration', 'success')) === 1 && latest(pipeline, 'ci/jenkins/integration') === 'success', BUILDS);
    await waitFor('the failure comment to go', () => !hasComment('<!-- test report -->'), BUILDS);
  } finally {
    watcher.stop();
    await bus.close();
  }

  const unitBuilds = jenkins.builds('unit').length;
  const integrationBuilds = jenkins.builds('integration').length;
  console.log(`\nDone: unit built ${unitBuilds}×, integration ${integrationBuilds}× (the last retest reran only the failed job);`);
  console.log('every status on the head commit is green and the failure comment is gone.');
  if (unitBuilds !== 2 || integrationBuilds !== 3) throw new Error('unexpected number of builds');
  if (latest(pipeline, 'ci/jenkins/unit') !== 'success') throw new Error('unit is not green');
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

console.log('Bowline demo: a real nats-server and the six services (hook, planner, jenkins-operator,');
console.log('reporter, sinker, deck) as separate processes. GitHub and Jenkins are LOCAL STAND-INS from');
console.log('libs/testing, not the real services; the README says how to point Bowline at real ones.\n');

/** Services log JSON; the demo shows their warnings and errors, why nothing ran, and the deck's actions. */
function showLog(service: string, line: string): void {
  try {
    const entry = JSON.parse(line) as { level: number; msg: string; user?: string; prowjob?: string; reason?: string };
    if (entry.level >= 40 || /not trusted|untrusted|nothing started/.test(entry.msg)) say(service, entry.msg);
    else if (/from the deck|deck (rerun|abort) refused|signed (in|out)/.test(entry.msg)) say(service, `${entry.msg} (${[entry.user, entry.prowjob, entry.reason].filter(Boolean).join(', ')})`);
  } catch {
    say(service, line);
  }
}

const pipeline = await startPipeline({ config: CONFIG, onLog: showLog });
say('demo', `nats ${pipeline.nats.url}, hook ${pipeline.hookUrl}, GitHub stand-in ${pipeline.github.url}, Jenkins stand-in ${pipeline.jenkins.url}`);
const hold = process.env.DEMO_HOLD === '1';
let failed = false;
let deck: DemoDeck | undefined;
try {
  deck = await startDemoDeck(pipeline, (line) => showLog('deck', line));
  say('demo', `deck ${deck.url} : open it to watch the jobs live${hold ? '' : ' (DEMO_HOLD=1 keeps everything running after the play)'}`);
  await play(pipeline);
  console.log(`\n${hold ? '' : 'With DEMO_HOLD=1 (make demo DEMO_HOLD=1) the demo stays up, and then:\n'}${signInHelp(deck.url)}`);
  if (hold) {
    console.log('\nDEMO_HOLD=1: everything keeps running; press Ctrl-C to stop.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    console.log('\nstopping');
  }
} catch (error) {
  failed = true;
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await deck?.stop();
  await pipeline.stop();
}
process.exit(failed ? 1 : 0);
