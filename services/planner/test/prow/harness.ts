import { Writable } from 'node:stream';
import { Kvm, type KV } from '@nats-io/kv';
import { Registry } from 'prom-client';
import { PLANNER_CLAIMS_BUCKET, type EventEnvelope } from '@bowline/bus';
import { parseConfig, staticConfigSource } from '@bowline/config';
import { createGitHub, type Octokit } from '@bowline/github';
import { createLogger } from '@bowline/observability';
import type { ProwJob } from '@bowline/prowjob';
import { FakeGitHub, pullRequestCommentPayload, pullRequestPayload, startProwJobBucket, type ProwJobBucket } from '@bowline/testing';
import { Planner } from '../../src/planner.js';

/**
 * What the ports of Prow's trigger tables share: a real nats-server with the ProwJob bucket, the
 * GitHub test server playing Prow's fake client (its bot is Prow's `k8s-ci-robot`), and a planner
 * per case built from that case's config.yaml. Each pull request gets a number of its own, so cases
 * never see each other's jobs, labels or comments.
 */
export class PlannerHarness {
  private lastNumber = 0;
  private lastDelivery = 0;

  private constructor(
    readonly github: FakeGitHub,
    readonly octokit: Octokit,
    readonly bucket: ProwJobBucket,
    readonly claims: KV,
  ) {}

  static readonly BOT = 'k8s-ci-robot';

  static async start(): Promise<PlannerHarness> {
    const [github, bucket] = await Promise.all([FakeGitHub.start({ botLogin: PlannerHarness.BOT }), startProwJobBucket()]);
    const octokit = createGitHub({ apiUrl: github.url, token: 'test-token' }, createLogger({ service: 'test', level: 'silent' }));
    const claims = await new Kvm(bucket.nc).create(PLANNER_CLAIMS_BUCKET, { history: 1 });
    return new PlannerHarness(github, octokit, bucket, claims);
  }

  async stop(): Promise<void> {
    await this.github.close();
    await this.bucket.stop();
  }

  /** A planner reading `config` (config.yaml text); `logs` collects what it logs, one object a line. */
  planner(config: string, logs?: Record<string, unknown>[]): Planner {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logs?.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger({ service: 'planner', level: logs ? 'debug' : 'silent', destination });
    return new Planner({ github: this.octokit, store: this.bucket.store, claims: this.claims, config: staticConfigSource(parseConfig(config, 'config.yaml')), logger, registry: new Registry() });
  }

  /** Adds a fresh pull request to the GitHub test server. */
  openPr(options: PrOptions = {}): Pr {
    const number = (this.lastNumber += 1);
    const pr: Pr = {
      org: options.org ?? 'org',
      repo: options.repo ?? 'repo',
      number,
      author: options.author ?? 'contributor',
      headSha: `${number}`.padStart(4, '0').padEnd(40, 'c'),
      headRef: `topic-${number}`,
      baseRef: options.baseRef ?? 'master',
      baseSha: `${number}`.padStart(4, '0').padEnd(40, 'b'),
      title: `Pull request ${number}`,
      state: options.state ?? 'open',
      draft: options.draft ?? false,
      mergeable: options.mergeable ?? null,
      files: options.files ?? ['CHANGED'],
      labels: options.labels ?? [],
    };
    this.github.addPullRequest(pr);
    return pr;
  }

  /** An `issue_comment` `created` event; the labels are the pull request's, as GitHub sends them. */
  comment(pr: Pr, body: string, commenter: string, change?: (payload: Record<string, unknown>) => void): EventEnvelope {
    const payload = pullRequestCommentPayload({ ...pr, commenter, body, prAuthor: pr.author, labels: this.github.labels(pr.org, pr.repo, pr.number) });
    change?.(payload);
    return { id: this.deliveryId(), event: 'issue_comment', receivedAt: new Date().toISOString(), payload };
  }

  /** A `pull_request` event for `pr` as GitHub holds it now; `extra` is merged into the payload. */
  pullRequestEvent(pr: Pr, action: string, extra: Record<string, unknown> = {}): EventEnvelope {
    const payload = pullRequestPayload({ action, ...pr, labels: this.github.labels(pr.org, pr.repo, pr.number) });
    Object.assign(payload, extra);
    return { id: this.deliveryId(), event: 'pull_request', receivedAt: new Date().toISOString(), payload };
  }

  envelope(event: string, payload: Record<string, unknown>): EventEnvelope {
    return { id: this.deliveryId(), event, receivedAt: new Date().toISOString(), payload };
  }

  async jobsOf(pr: Pr): Promise<ProwJob[]> {
    return (await this.bucket.store.list())
      .map((stored) => stored.job)
      .filter((job) => job.spec.refs.org === pr.org && job.spec.refs.repo === pr.repo && job.spec.refs.pulls?.[0]?.number === pr.number);
  }

  /** The contexts of the jobs started for `pr`, each once, sorted. */
  async startedContexts(pr: Pr): Promise<string[]> {
    return [...new Set((await this.jobsOf(pr)).map((job) => job.spec.context))].sort();
  }

  /** Labels the planner asked GitHub to add to `pr`, in order (Prow's fake `IssueLabelsAdded`). */
  labelsAdded(pr: Pr): string[] {
    return this.github
      .requestsTo({ method: 'POST', path: `/repos/${pr.org}/${pr.repo}/issues/${pr.number}/labels` })
      .flatMap((request) => (JSON.parse(request.body) as { labels: string[] }).labels);
  }

  /** Labels the planner asked GitHub to remove from `pr` (Prow's fake `IssueLabelsRemoved`). */
  labelsRemoved(pr: Pr): string[] {
    const prefix = `/repos/${pr.org}/${pr.repo}/issues/${pr.number}/labels/`;
    return this.github
      .requestsTo({ method: 'DELETE' })
      .filter((request) => request.path.startsWith(prefix))
      .map((request) => decodeURIComponent(request.path.slice(prefix.length)));
  }

  /** Comments on `pr`, oldest first, as `{ id, body }`. */
  comments(pr: Pr): { id: number; user: string; body: string }[] {
    return this.github.comments(pr.org, pr.repo, pr.number).map((c) => ({ id: c.id, user: c.user.login, body: c.body }));
  }

  /** Posts statuses on the head commit as the bot would. */
  async setStatuses(pr: Pr, statuses: [context: string, state: 'success' | 'failure' | 'error' | 'pending'][]): Promise<void> {
    for (const [context, state] of statuses) {
      await this.octokit.rest.repos.createCommitStatus({ owner: pr.org, repo: pr.repo, sha: pr.headSha, context, state });
    }
  }

  private deliveryId(): string {
    return `delivery-${(this.lastDelivery += 1)}`;
  }
}

export interface PrOptions {
  org?: string;
  repo?: string;
  author?: string;
  baseRef?: string;
  state?: 'open' | 'closed';
  draft?: boolean;
  mergeable?: boolean | null;
  files?: string[];
  labels?: string[];
}

export interface Pr {
  org: string;
  repo: string;
  number: number;
  author: string;
  headSha: string;
  headRef: string;
  baseRef: string;
  baseSha: string;
  title: string;
  state: 'open' | 'closed';
  draft: boolean;
  mergeable: boolean | null;
  files: string[];
  labels: string[];
}

/** A job of a Prow test table, with config.yaml's field names. */
export type JobFields = Record<string, unknown> & { name: string };

/**
 * config.yaml for a case, written as JSON (which YAML reads as it is) so each job reads like the
 * Go struct it ports. Every job is given `agent: jenkins`, the only agent Bowline runs.
 */
export function configOf(jobs: { presubmits?: Record<string, JobFields[]>; postsubmits?: Record<string, JobFields[]> }, bowline?: Record<string, unknown>): string {
  const jenkins = (byRepo: Record<string, JobFields[]> = {}) =>
    Object.fromEntries(Object.entries(byRepo).map(([repo, list]) => [repo, list.map((job) => ({ agent: 'jenkins', ...job }))]));
  return JSON.stringify({ presubmits: jenkins(jobs.presubmits), postsubmits: jenkins(jobs.postsubmits), ...(bowline ? { bowline } : {}) }, null, 1);
}
