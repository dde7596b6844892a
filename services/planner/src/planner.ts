import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import { ack, type EventEnvelope, type Outcome } from '@bowline/bus';
import type { ConfigSource, Presubmit } from '@bowline/config';
import { botLoginOf, isCollaborator, isOrgMember, type Octokit } from '@bowline/github';
import type { Logger } from '@bowline/observability';
import { newPresubmitJob, prowJobName, type ProwJobStore, type Refs } from '@bowline/prowjob';
import {
  aggregateFilter,
  commandFilter,
  commandText,
  filterPresubmits,
  OK_TO_TEST,
  retestFilter,
  RETEST,
  TEST_ALL,
  testAllFilter,
  type Filter,
} from './filters.js';

export interface PlannerDeps {
  github: Octokit;
  store: ProwJobStore;
  config: ConfigSource;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
}

/** The parts of a GitHub pull request the planner reads, from an event or from the API. */
interface PullRequest {
  number: number;
  state: string;
  draft?: boolean;
  title: string;
  html_url?: string;
  user: { login: string };
  head: { sha: string; ref: string };
  base: { sha: string; ref: string };
}

interface Repository {
  name: string;
  owner: { login: string };
}

interface IssueCommentPayload {
  action: string;
  issue: { number: number; state: string; pull_request?: unknown };
  comment: { body: string; user: { login: string } };
  repository: Repository;
}

interface PullRequestPayload {
  action: string;
  pull_request: PullRequest;
  repository: Repository;
}

/** Pull request actions after which Prow runs the default set of jobs. */
const RUN_ON_ACTIONS = new Set(['opened', 'reopened', 'ready_for_review', 'synchronize']);

/**
 * Prow's trigger plugin: turns comments and pull request events into ProwJobs for the Jenkins
 * presubmits of config.yaml, for trusted people only.
 */
export class Planner {
  private readonly now: () => Date;
  private readonly created: Counter;
  private readonly bot: () => Promise<string>;

  constructor(private readonly deps: PlannerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.bot = botLoginOf(deps.github);
    this.created = new Counter({
      name: 'bowline_planner_prowjobs_created_total',
      help: 'ProwJobs created, by event',
      labelNames: ['event'],
      registers: [deps.registry],
    });
  }

  async handle(envelope: EventEnvelope): Promise<Outcome> {
    if (envelope.event === 'issue_comment') return this.handleComment(envelope as EventEnvelope<unknown> as EventEnvelope<IssueCommentPayload & Record<string, unknown>>);
    if (envelope.event === 'pull_request') return this.handlePullRequest(envelope as EventEnvelope<unknown> as EventEnvelope<PullRequestPayload & Record<string, unknown>>);
    return ack;
  }

  private async handleComment(envelope: EventEnvelope<IssueCommentPayload>): Promise<Outcome> {
    const { payload } = envelope;
    if (payload.action !== 'created' || !payload.issue.pull_request || payload.issue.state !== 'open') return ack;
    const org = payload.repository.owner.login;
    const repo = payload.repository.name;
    const number = payload.issue.number;
    const commenter = payload.comment.user.login;
    const log = this.deps.logger.child({ deliveryId: envelope.id, repo: `${org}/${repo}`, pr: number, user: commenter });

    const body = commandText(payload.comment.body);
    const presubmits = this.jenkinsPresubmits(org, repo);
    // A trusted `/ok-to-test` vouches for the pull request and runs what `/test all` runs, as
    // Prow's trigger does with honor_ok_to_test (the default).
    const testAll = TEST_ALL.test(body) || OK_TO_TEST.test(body);
    const retest = RETEST.test(body);
    if (!testAll && !retest && !presubmits.some((p) => p.trigger.test(body))) return ack;
    if (commenter === (await this.bot())) return ack;
    if (!(await this.isTrusted(org, repo, commenter))) {
      log.info('commenter is neither org member nor collaborator: nothing started');
      return ack;
    }

    const { data: pr } = await this.deps.github.rest.pulls.get({ owner: org, repo, pull_number: number });
    if (pr.state !== 'open') return ack;

    const filters: Filter[] = [commandFilter(body)];
    if (retest) filters.push(await this.retestFilterFor(org, repo, pr.head.sha));
    if (testAll) filters.push(testAllFilter);
    const pull = pr as PullRequest;
    return this.start(envelope, log, org, repo, pull, aggregateFilter(filters), presubmits, { user: commenter, comment: payload.comment.body });
  }

  private async handlePullRequest(envelope: EventEnvelope<PullRequestPayload>): Promise<Outcome> {
    const { payload } = envelope;
    const pr = payload.pull_request;
    if (!RUN_ON_ACTIONS.has(payload.action) || pr.state !== 'open') return ack;
    const org = payload.repository.owner.login;
    const repo = payload.repository.name;
    const log = this.deps.logger.child({ deliveryId: envelope.id, repo: `${org}/${repo}`, pr: pr.number, user: pr.user.login });
    if (pr.draft) {
      log.info('draft pull request: nothing started');
      return ack;
    }
    if (!(await this.isTrusted(org, repo, pr.user.login))) {
      log.info('author is neither org member nor collaborator: nothing started');
      return ack;
    }
    return this.start(envelope, log, org, repo, pr, testAllFilter, this.jenkinsPresubmits(org, repo), { user: pr.user.login });
  }

  private async start(
    envelope: EventEnvelope<unknown>,
    log: Logger,
    org: string,
    repo: string,
    pr: PullRequest,
    filter: Filter,
    presubmits: Presubmit[],
    cause: { user: string; comment?: string },
  ): Promise<Outcome> {
    let files: Promise<string[]> | undefined;
    const changes = () => (files ??= this.changedFiles(org, repo, pr.number));
    const selected = await filterPresubmits(filter, presubmits, pr.base.ref, changes);
    const refs: Refs = {
      org,
      repo,
      base_ref: pr.base.ref,
      base_sha: pr.base.sha,
      pulls: [{ number: pr.number, author: pr.user.login, sha: pr.head.sha, ref: pr.head.ref, title: pr.title, link: pr.html_url }],
    };
    const now = this.now();
    for (const presubmit of selected) {
      const name = prowJobName(envelope.id, presubmit.name);
      const job = newPresubmitJob(presubmit, { name, refs, now, cause: { event: envelope.event, deliveryId: envelope.id, ...cause } });
      const isNew = await this.deps.store.create(job);
      if (isNew) this.created.inc({ event: envelope.event });
      log.info({ job: presubmit.name, prowjob: name, replay: !isNew }, isNew ? 'ProwJob created' : 'ProwJob exists already');
    }
    if (selected.length === 0) log.info('no job matched');
    return ack;
  }

  private jenkinsPresubmits(org: string, repo: string): Presubmit[] {
    return (this.deps.config.get().presubmits[`${org}/${repo}`] ?? []).filter((p) => p.agent === 'jenkins');
  }

  private async changedFiles(owner: string, repo: string, pull_number: number): Promise<string[]> {
    const files = await this.deps.github.paginate(this.deps.github.rest.pulls.listFiles, { owner, repo, pull_number, per_page: 100 });
    return files.map((f) => f.filename);
  }

  /** `/retest` reruns what failed on the head commit, and required jobs that never reported. */
  private async retestFilterFor(owner: string, repo: string, sha: string): Promise<Filter> {
    const statuses = await this.deps.github.paginate(this.deps.github.rest.repos.listCommitStatusesForRef, {
      owner,
      repo,
      ref: sha,
      per_page: 100,
    });
    const latest = new Map<string, string>();
    // GitHub lists statuses newest first: the first one seen per context is its current state.
    for (const status of statuses) if (!latest.has(status.context)) latest.set(status.context, status.state);
    const failed = new Set([...latest].filter(([, state]) => state === 'failure' || state === 'error').map(([context]) => context));
    return retestFilter(failed, new Set(latest.keys()));
  }

  private async isTrusted(org: string, repo: string, user: string): Promise<boolean> {
    if (user === (await this.bot())) return true;
    return (await isOrgMember(this.deps.github, org, user)) || (await isCollaborator(this.deps.github, org, repo, user));
  }
}
