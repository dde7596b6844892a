import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { load } from 'cheerio';
import type { ProwJob } from '@bowline/prowjob';
import { FakeJenkins, freePort, waitFor, type FakeBuild } from '@bowline/testing';
import { startDeckServer, type DeckServer } from './deck-server.js';
import { makeJob } from './jobs.js';
import { startOperatorProcess, type OperatorProcess } from './operator-process.js';

// /log/<name>: the console of the build, read through the real jenkins-operator (its built
// main.js, which starts the builds on the test Jenkins and serves /logs/<prowjob>).
const JOB = 'pull-widgets-unit';
const HOSTILE_LINE = '<script>alert("log")</script> & done';

/** A job triggered now, so the operator starts it at once and no age limit ends it. */
function triggeredNow(): ProwJob {
  const job = makeJob({ job: JOB, pr: 3 });
  const now = new Date().toISOString();
  return { ...job, metadata: { ...job.metadata, creationTimestamp: now }, status: { ...job.status, startTime: now } };
}

let deck: DeckServer;
let jenkins: FakeJenkins;
let operator: OperatorProcess;
let offline: DeckServer;

beforeAll(async () => {
  jenkins = await FakeJenkins.start({ jobs: [JOB], user: 'bowline', apiToken: 'jenkins-token' });
  const operatorPort = await freePort();
  deck = await startDeckServer([], { operatorUrl: `http://127.0.0.1:${operatorPort}` });
  // A deck whose jenkins-operator is not running.
  offline = await startDeckServer([], { operatorUrl: `http://127.0.0.1:${await freePort()}` });
  operator = await startOperatorProcess({ natsUrl: deck.bucket.nats.url, jenkins, jobs: [JOB], port: operatorPort });
}, 40_000);

afterAll(async () => {
  await operator?.stop();
  await offline?.stop();
  await deck?.stop();
  await jenkins?.close();
});

async function getPage(server: DeckServer, path: string): Promise<{ status: number; headers: Headers; $: ReturnType<typeof load> }> {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, headers: response.headers, $: load(await response.text()) };
}

describe('/log/<name>', () => {
  let job: ProwJob;
  let build: FakeBuild;

  it('says the job has no build yet while Jenkins holds it in its queue', async () => {
    job = triggeredNow();
    await deck.store.create(job);
    await waitFor('the operator to ask Jenkins for the build', () => jenkins.findQueueItem(job.metadata.name));
    await waitFor('the deck to see the job', () => deck.deck.index.get(job.metadata.name));
    const { status, $ } = await getPage(deck, `/log/${job.metadata.name}`);
    expect(status).toBe(404);
    expect($('h1').text()).toBe(`Build log of ${JOB}`);
    expect($('.notice').text()).toBe(`ProwJob ${job.metadata.name} has no Jenkins build yet.`);
  });

  it('streams the console of the build, escaped, with a link to the same build in Jenkins', async () => {
    build = jenkins.startBuild(jenkins.findQueueItem(job.metadata.name)!.id);
    await waitFor('the deck to see the build', () => deck.deck.index.get(job.metadata.name)?.status.jenkins_build_id === String(build.number));
    jenkins.finishBuild(build, 'SUCCESS', HOSTILE_LINE);

    const response = await fetch(`${deck.url}/log/${job.metadata.name}`);
    expect(response.status).toBe(200);
    // Passed on as it comes: no length known before the end.
    expect(response.headers.get('content-length')).toBeNull();
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const text = await response.text();
    const $ = load(text);
    expect($('pre#log').text()).toBe(build.console);
    // The console's own <script> arrives escaped: the page's only scripts are the deck's own files.
    expect($('script').toArray().map((script) => $(script).attr('src'))).toEqual(['/static/deck-actions.js']);
    expect(text).toContain('&lt;script&gt;alert(&quot;log&quot;)&lt;/script&gt; &amp; done');
    expect($('#jenkins-build').attr('href')).toBe(build.url);
    expect(jenkins.requestsTo({ method: 'GET', path: `/job/${JOB}/${build.number}/consoleText` }).length).toBeGreaterThan(0);
  });

  it('says so on a clear page when the jenkins-operator cannot be reached', async () => {
    await offline.store.create(deck.deck.index.get(job.metadata.name)!);
    await waitFor('the second deck to see the job', () => offline.deck.index.get(job.metadata.name)?.status.url);
    const { status, $ } = await getPage(offline, `/log/${job.metadata.name}`);
    expect(status).toBe(502);
    expect($('.notice').text()).toContain('The jenkins-operator cannot be reached');
    expect($('#jenkins-build').attr('href')).toBe(build.url);
  });

  it('answers 404 with a page for a ProwJob it does not have', async () => {
    const { status, $ } = await getPage(deck, '/log/no-such-job');
    expect(status).toBe(404);
    expect($('main').text()).toContain('There is no ProwJob named no-such-job');
  });
});
