import { afterAll, afterEach, beforeAll, beforeEach } from '@jest/globals';
import { Registry } from 'prom-client';
import { parseConfig, staticConfigSource, type Config } from '@bowline/config';
import { createGitHub } from '@bowline/github';
import { JenkinsClient } from '@bowline/jenkins';
import { createLogger } from '@bowline/observability';
import { newPostsubmitJob, type ProwJob, type ProwJobStore } from '@bowline/prowjob';
import { FakeGitHub, FakeJenkins, startProwJobBucket, waitFor, type GitHubStatus, type ProwJobBucket } from '@bowline/testing';
// The reporter is what turns the operator's changes into GitHub statuses; Prow's controller tests
// count the reports a sync makes, so these tables run the real one beside the operator.
import { Reporter, REPORTER_NAME } from '../../../reporter/src/reporter.js';
import { JenkinsMasters } from '../../src/jenkins-masters.js';
import { JenkinsOperator } from '../../src/operator.js';

export const ORG = 'acme';
export const REPO = 'widgets';
export const PULL = 1;
export const BASE_SHA = 'b'.repeat(40);
export const HEAD_SHA = 'a'.repeat(40);

const logger = createLogger({ service: 'test', level: 'silent' });
// A job only the reporter acts on (the operator runs `jenkins` jobs only): once its status is on
// GitHub, every change written before it has been looked at (see `settled`).
const MARKER = parseConfig(`postsubmits:\n  ${ORG}/${REPO}:\n  - name: settle-marker\n    agent: kubernetes\n`, 'marker.yaml').postsubmits[`${ORG}/${REPO}`]![0]!;

/**
 * The operator (and, for the tables that count reports, the reporter) on a real nats-server,
 * against the test Jenkins and GitHub: a fresh Jenkins with `jenkinsJobs`, a fresh GitHub with the
 * pull request acme/widgets#1 and an empty bucket for every case.
 */
export class OperatorHarness {
  jenkins!: FakeJenkins;
  github!: FakeGitHub;
  /** Added to the real time, so a case can step past the operator's waits without sleeping. */
  clockOffsetMs = 0;
  private bucket!: ProwJobBucket;
  private operator?: JenkinsOperator;
  private reporter?: Reporter;
  private markers = 0;

  constructor(private readonly jenkinsJobs: string[]) {
    beforeAll(async () => {
      this.bucket = await startProwJobBucket();
    });
    afterAll(async () => {
      await this.bucket?.stop();
    });
    beforeEach(async () => {
      this.clockOffsetMs = 0;
      this.jenkins = await FakeJenkins.start({ jobs: this.jenkinsJobs });
      this.github = await FakeGitHub.start();
      this.github.addPullRequest({ org: ORG, repo: REPO, number: PULL, author: 'alice', headSha: HEAD_SHA, baseSha: BASE_SHA });
    });
    afterEach(async () => {
      await this.operator?.stop();
      await this.reporter?.stop();
      this.operator = undefined;
      this.reporter = undefined;
      await this.jenkins.close();
      await this.github.close();
      for (const { job } of await this.store.list()) await this.bucket.kv.purge(job.metadata.name);
    });
  }

  get store(): ProwJobStore {
    return this.bucket.store;
  }

  readonly now = (): Date => new Date(Date.now() + this.clockOffsetMs);

  async startOperator(config: Config, options: { startRetryMs?: number } = {}): Promise<JenkinsOperator> {
    const source = staticConfigSource(config);
    const client = new JenkinsClient({ url: this.jenkins.url, auth: { kind: 'basic', user: 'bowline', token: 'jenkins-token' }, logger, retryBaseMs: 5 });
    this.operator = new JenkinsOperator({
      store: this.store,
      masters: new JenkinsMasters({ config: source, defaultClient: client, logger }),
      config: source,
      logger,
      registry: new Registry(),
      now: this.now,
      ...options,
    });
    await this.operator.start();
    return this.operator;
  }

  async startReporter(config: Config): Promise<Reporter> {
    const github = createGitHub({ apiUrl: this.github.url, token: 'test-token' }, logger);
    this.reporter = new Reporter({ github, config: staticConfigSource(config), store: this.store, logger, registry: new Registry() });
    await this.reporter.start();
    return this.reporter;
  }

  async create(job: ProwJob): Promise<ProwJob> {
    if (!(await this.store.create(job))) throw new Error(`ProwJob ${job.metadata.name} exists already`);
    return job;
  }

  async read(name: string): Promise<ProwJob> {
    const stored = await this.store.get(name);
    if (!stored) throw new Error(`ProwJob ${name} is gone`);
    return stored.job;
  }

  /** Waits until the reporter has reported the job's current state. */
  async reported(name: string): Promise<ProwJob> {
    return waitFor(`${name} reported`, async () => {
      const job = await this.read(name);
      return job.status.prev_report_states?.[REPORTER_NAME] === job.status.state && job;
    });
  }

  /** One operator pass over every job in the bucket, as Prow's tests call one sync. */
  async sync(): Promise<void> {
    await this.operator!.settled();
    await this.operator!.sync((await this.store.list()).map((s) => s.job));
    await this.operator!.settled();
  }

  /** Once the operator is done, waits for the reporter to have reported everything it was shown. */
  async settled(): Promise<void> {
    await this.operator?.settled();
    if (!this.reporter) return;
    this.markers += 1;
    const marker = newPostsubmitJob(MARKER, {
      name: `settle-marker-${this.markers}`,
      refs: { org: ORG, repo: REPO, base_ref: 'main', base_sha: BASE_SHA },
      now: new Date(),
      cause: { event: 'test', deliveryId: `marker-${this.markers}` },
    });
    marker.spec.context = `settle-marker-${this.markers}`;
    await this.create(marker);
    await waitFor('the settle marker reported', () => this.github.statuses(ORG, REPO, BASE_SHA).some((s) => s.context === marker.spec.context));
    await this.reporter.idle();
  }

  /** Statuses of one context, on the pull request's head commit and on the base commit. */
  statuses(context: string): GitHubStatus[] {
    return [...this.github.statuses(ORG, REPO, HEAD_SHA), ...this.github.statuses(ORG, REPO, BASE_SHA)].filter((s) => s.context === context);
  }

  /** `buildWithParameters` requests for the ProwJob, whatever Jenkins answered. */
  buildRequests(name: string): number {
    return this.jenkins.requestsTo({ method: 'POST', path: /\/buildWithParameters$/ }).filter((r) => new URLSearchParams(r.body).get('PROW_JOB_ID') === name).length;
  }
}
