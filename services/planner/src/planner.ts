import { AsyncLocalStorage } from 'node:async_hooks';
import type { KV } from '@nats-io/kv';
import { Counter, Histogram, type Registry } from 'prom-client';
import { ack, type EventEnvelope, type Outcome } from '@bowline/bus';
import { runsAgainstBranch, type ConfigSource, type Presubmit } from '@bowline/config';
import { botLoginOf, isNotFound, type Octokit } from '@bowline/github';
import { describeError, type Logger } from '@bowline/observability';
import { isFinished, newPresubmitJob, prowJobName, transition, type ProwJobStore, type Refs } from '@bowline/prowjob';
import {
  aggregateFilter,
  commandFilter,
  commandText,
  filterPresubmits,
  OK_TO_TEST,
  RETEST,
  RETEST_REQUIRED,
  retestFilter,
  retestRequiredFilter,
  TEST_ALL,
  TEST_HELP,
  TEST_WITH_ANY_TARGET,
  TEST_WITHOUT_TARGET,
  testAllFilter,
  type Filter,
} from './filters.js';
import {
  approvalExpiredComment,
  cannotTriggerComment,
  helpComment,
  marker,
  NEEDS_OK_TO_TEST_LABEL,
  OK_TO_TEST_LABEL,
  welcomeComment,
} from './messages.js';
import { handlePush } from './postsubmits.js';
import { TrustChecker } from './trust.js';

export interface PlannerDeps {
  github: Octokit;
  /** The bot's login; asked of GitHub (`GET /user`) when not given. */
  botLogin?: () => Promise<string>;
  store: ProwJobStore;
  config: ConfigSource;
  logger: Logger;
  registry: Registry;
  /** Where `per_commit` approvals are kept; without it every approval counts as stale. */
  claims?: KV;
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
  labels?: { name?: string }[];
}

interface Repository {
  name: string;
  owner: { login: string };
}

interface IssueCommentPayload {
  action: string;
  issue: { number: number; state: string; pull_request?: unknown; labels?: { name?: string }[] };
  comment: { body: string; user: { login: string } };
  repository: Repository;
}

interface PullRequestPayload {
  action: string;
  pull_request: PullRequest;
  repository: Repository;
  sender?: { login: string };
  label?: { name: string };
  changes?: { base?: { ref?: { from?: string } } };
}

interface Context {
  envelope: EventEnvelope<unknown>;
  log: Logger;
  org: string;
  repo: string;
}

/**
 * Prow's trigger plugin: turns comments and pull request events into ProwJobs for the Jenkins
 * presubmits of config.yaml, for trusted people and trusted pull requests only.
 */
export class Planner {
  private readonly now: () => Date;
  private readonly created: Counter;
  private readonly aborted: Counter;
  private readonly bot: () => Promise<string>;
  private readonly trust: TrustChecker;
  /** GitHub requests made while handling the current event (5,000 an hour is the usual budget). */
  private readonly calls = new AsyncLocalStorage<{ count: number }>();
  private readonly callsPerEvent: Histogram;

  constructor(private readonly deps: PlannerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.bot = deps.botLogin ?? botLoginOf(deps.github);
    this.trust = new TrustChecker({ github: deps.github, config: deps.config, bot: this.bot, now: this.now });
    this.created = new Counter({ name: 'bowline_planner_prowjobs_created_total', help: 'ProwJobs created, by event', labelNames: ['event'], registers: [deps.registry] });
    this.callsPerEvent = new Histogram({
      name: 'bowline_planner_github_requests_per_event',
      help: 'GitHub API requests made to handle one event',
      labelNames: ['event'],
      buckets: [0, 1, 2, 3, 4, 6, 8, 12, 20],
      registers: [deps.registry],
    });
    deps.github.hook.before('request', () => {
      const current = this.calls.getStore();
      if (current) current.count += 1;
    });
    this.aborted = new Counter({ name: 'bowline_planner_prowjobs_aborted_total', help: 'Unfinished ProwJobs aborted, by event', labelNames: ['event'], registers: [deps.registry] });
  }

  async handle(envelope: EventEnvelope): Promise<Outcome> {
    const calls = { count: 0 };
    try {
      return await this.calls.run(calls, () => this.dispatch(envelope));
    } finally {
      this.callsPerEvent.observe({ event: envelope.event }, calls.count);
    }
  }

  private async dispatch(envelope: EventEnvelope): Promise<Outcome> {
    if (envelope.event === 'issue_comment') return this.handleComment(envelope as EventEnvelope<unknown> as EventEnvelope<IssueCommentPayload>);
    if (envelope.event === 'pull_request') return this.handlePullRequest(envelope as EventEnvelope<unknown> as EventEnvelope<PullRequestPayload>);
    if (envelope.event === 'push') return handlePush({ store: this.deps.store, config: this.deps.config, logger: this.deps.logger, now: this.now, created: this.created }, envelope);
    return ack;
  }

  private async handleComment(envelope: EventEnvelope<IssueCommentPayload>): Promise<Outcome> {
    const { payload } = envelope;
    if (payload.action !== 'created' || !payload.issue.pull_request || payload.issue.state !== 'open') return ack;
    const org = payload.repository.owner.login;
    const repo = payload.repository.name;
    const number = payload.issue.number;
    const commenter = payload.comment.user.login;
    const ctx: Context = { envelope, org, repo, log: this.deps.logger.child({ deliveryId: envelope.id, repo: `${org}/${repo}`, pr: number, user: commenter }) };

    const body = commandText(payload.comment.body);
    const presubmits = this.jenkinsPresubmits(org, repo);
    const okToTest = OK_TO_TEST.test(body);
    const testAll = TEST_ALL.test(body);
    const retest = RETEST.test(body);
    const retestRequired = RETEST_REQUIRED.test(body);
    const help = TEST_HELP.test(body) || TEST_WITHOUT_TARGET.test(body);
    const named = presubmits.some((p) => p.trigger.test(body));
    const anyTest = TEST_WITH_ANY_TARGET.test(body);
    if (!okToTest && !testAll && !retest && !retestRequired && !help && !named && !anyTest) return ack;
    if (commenter === (await this.bot())) return ack;

    if (!(await this.trust.isTrusted(org, repo, commenter))) {
      ctx.log.info('commenter may not start tests: explained');
      await this.commentOnce(ctx, number, marker('cannot-trigger', envelope.id), cannotTriggerComment(commenter));
      return ack;
    }

    const { data } = await this.deps.github.rest.pulls.get({ owner: org, repo, pull_number: number });
    const pr = data as PullRequest;
    if (pr.state !== 'open') return ack;

    if (okToTest) {
      await this.approve(ctx, pr);
    } else if (!(await this.isTrustedPullRequest(ctx, pr))) {
      // Prow: on a pull request that still needs `/ok-to-test`, only that command starts tests.
      ctx.log.info('pull request needs /ok-to-test before tests run');
      return ack;
    }

    if (help) {
      await this.replyWithHelp(ctx, pr, commenter, presubmits, false);
      return ack;
    }
    const filters: Filter[] = [commandFilter(body)];
    if (retest || retestRequired) {
      const { failed, all } = await this.contextsOf(org, repo, pr.head.sha);
      filters.push(retest ? retestFilter(failed, all) : retestRequiredFilter(failed, all));
    }
    if (testAll || okToTest) filters.push(testAllFilter);
    const started = await this.start(ctx, pr, aggregateFilter(filters), presubmits, { user: commenter, comment: payload.comment.body });
    // `/test foo` where foo is no job of this branch: say what can be asked for, as Prow does.
    if (started === 0 && anyTest && !testAll && !named) await this.replyWithHelp(ctx, pr, commenter, presubmits, true);
    return ack;
  }

  private async handlePullRequest(envelope: EventEnvelope<PullRequestPayload>): Promise<Outcome> {
    const { payload } = envelope;
    const pr = payload.pull_request;
    const org = payload.repository.owner.login;
    const repo = payload.repository.name;
    const ctx: Context = { envelope, org, repo, log: this.deps.logger.child({ deliveryId: envelope.id, repo: `${org}/${repo}`, pr: pr.number, user: pr.user.login }) };

    switch (payload.action) {
      case 'closed':
      case 'converted_to_draft':
        await this.abortJobs(ctx, pr.number, () => true, payload.action === 'closed' ? 'Aborted: the pull request was closed.' : 'Aborted: the pull request became a draft.');
        return ack;
      case 'opened':
        if (pr.draft) {
          ctx.log.info('draft pull request: nothing started until it is ready for review');
          return ack;
        }
        if (!(await this.trust.isTrusted(org, repo, pr.user.login)) && !hasLabel(pr, OK_TO_TEST_LABEL)) {
          await this.addLabel(ctx, pr.number, NEEDS_OK_TO_TEST_LABEL);
          await this.commentOnce(ctx, pr.number, marker('welcome', String(pr.number)), welcomeComment(pr.user.login, org));
          ctx.log.info('author not trusted: waiting for /ok-to-test');
          return ack;
        }
        await this.start(ctx, pr, testAllFilter, this.jenkinsPresubmits(org, repo), { user: pr.user.login });
        return ack;
      case 'edited':
        // Prow reruns on an edit only when the base branch changed.
        if (!payload.changes?.base?.ref?.from) return ack;
        return this.runIfTrusted(ctx, pr);
      case 'synchronize':
        await this.abortJobs(ctx, pr.number, (sha) => sha !== pr.head.sha, 'Aborted: a newer commit was pushed.');
        return this.runIfTrusted(ctx, pr);
      case 'reopened':
      case 'ready_for_review':
        return this.runIfTrusted(ctx, pr);
      case 'labeled':
        if (payload.label?.name !== OK_TO_TEST_LABEL || payload.sender?.login === (await this.bot())) return ack;
        // Labelling by hand is an approval too (GitHub lets only people with triage rights do it).
        await this.removeLabel(ctx, pr.number, NEEDS_OK_TO_TEST_LABEL);
        await this.recordApproval(ctx, pr);
        await this.start(ctx, pr, testAllFilter, this.jenkinsPresubmits(org, repo), { user: payload.sender?.login ?? pr.user.login });
        return ack;
      default:
        return ack;
    }
  }

  private async runIfTrusted(ctx: Context, pr: PullRequest): Promise<Outcome> {
    if (pr.state !== 'open' || pr.draft) return ack;
    if (!(await this.isTrustedPullRequest(ctx, pr))) {
      ctx.log.info('pull request not trusted: nothing started');
      return ack;
    }
    await this.start(ctx, pr, testAllFilter, this.jenkinsPresubmits(ctx.org, ctx.repo), { user: pr.user.login });
    return ack;
  }

  /**
   * A pull request is trusted when its author is, or when it carries `ok-to-test`; with
   * `ok_to_test: per_commit` the approval must also be for the current head commit, and a stale
   * one puts `needs-ok-to-test` back.
   */
  private async isTrustedPullRequest(ctx: Context, pr: PullRequest): Promise<boolean> {
    if (await this.trust.isTrusted(ctx.org, ctx.repo, pr.user.login)) return true;
    if (!hasLabel(pr, OK_TO_TEST_LABEL)) return false;
    if (this.deps.config.get().bowline.trust.okToTest !== 'per_commit') return true;
    if ((await this.approvedSha(ctx, pr)) === pr.head.sha) return true;
    await this.removeLabel(ctx, pr.number, OK_TO_TEST_LABEL);
    await this.addLabel(ctx, pr.number, NEEDS_OK_TO_TEST_LABEL);
    await this.commentOnce(ctx, pr.number, marker('approval-expired', pr.head.sha), approvalExpiredComment(pr.user.login, pr.head.sha));
    ctx.log.info({ sha: pr.head.sha }, 'approval covered an earlier commit: waiting for a new /ok-to-test');
    return false;
  }

  /** `/ok-to-test` from a trusted user: swap the labels and remember which commit was approved. */
  private async approve(ctx: Context, pr: PullRequest): Promise<void> {
    if (hasLabel(pr, NEEDS_OK_TO_TEST_LABEL)) await this.removeLabel(ctx, pr.number, NEEDS_OK_TO_TEST_LABEL);
    if (!hasLabel(pr, OK_TO_TEST_LABEL) && !(await this.trust.isTrusted(ctx.org, ctx.repo, pr.user.login))) await this.addLabel(ctx, pr.number, OK_TO_TEST_LABEL);
    await this.recordApproval(ctx, pr);
    pr.labels = [...(pr.labels ?? []).filter((l) => l.name !== NEEDS_OK_TO_TEST_LABEL), { name: OK_TO_TEST_LABEL }];
  }

  private approvalKey(ctx: Context, number: number): string {
    return `approval.${keyPart(ctx.org)}.${keyPart(ctx.repo)}.${number}`;
  }

  private async recordApproval(ctx: Context, pr: PullRequest): Promise<void> {
    await this.deps.claims?.put(this.approvalKey(ctx, pr.number), pr.head.sha);
  }

  private async approvedSha(ctx: Context, pr: PullRequest): Promise<string | undefined> {
    const entry = await this.deps.claims?.get(this.approvalKey(ctx, pr.number));
    return entry?.operation === 'PUT' ? entry.string() : undefined;
  }

  /** Creates one ProwJob per selected presubmit; returns how many were selected. */
  private async start(ctx: Context, pr: PullRequest, filter: Filter, presubmits: Presubmit[], cause: { user: string; comment?: string }): Promise<number> {
    const { envelope, log, org, repo } = ctx;
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
    // The action (`opened`, `labeled`…) says, in the job's history, which pull request event ran it.
    const { action } = envelope.payload as { action?: unknown };
    for (const presubmit of selected) {
      const name = prowJobName(envelope.id, presubmit.name);
      const job = newPresubmitJob(presubmit, {
        name,
        refs,
        now,
        cause: { event: envelope.event, deliveryId: envelope.id, ...(typeof action === 'string' ? { action } : {}), ...cause },
      });
      const isNew = await this.deps.store.create(job);
      if (isNew) this.created.inc({ event: envelope.event });
      log.info({ job: presubmit.name, prowjob: name, replay: !isNew }, isNew ? 'ProwJob created' : 'ProwJob exists already');
    }
    if (selected.length === 0) log.info('no job matched');
    return selected.length;
  }

  /** Aborts this pull request's unfinished ProwJobs whose head commit `which` selects. */
  private async abortJobs(ctx: Context, number: number, which: (sha: string) => boolean, description: string): Promise<void> {
    const mine = (await this.deps.store.list()).filter(
      ({ job }) =>
        job.spec.type === 'presubmit' &&
        !isFinished(job) &&
        job.spec.refs.org === ctx.org &&
        job.spec.refs.repo === ctx.repo &&
        job.spec.refs.pulls?.[0]?.number === number &&
        which(job.spec.refs.pulls[0].sha),
    );
    for (const { job } of mine) {
      const done = await this.deps.store.update(job.metadata.name, (current) => transition(current, 'aborted', this.now(), { description }));
      if (done) {
        this.aborted.inc({ event: ctx.envelope.event });
        ctx.log.info({ job: job.spec.job, prowjob: job.metadata.name }, 'ProwJob aborted');
      }
    }
  }

  private async replyWithHelp(ctx: Context, pr: PullRequest, user: string, presubmits: Presubmit[], notFound: boolean): Promise<void> {
    const available = presubmits.filter((p) => runsAgainstBranch(p, pr.base.ref));
    const automatic = available.filter((p) => p.alwaysRun || p.runIfChanged || p.skipIfOnlyChanged);
    await this.commentOnce(ctx, pr.number, marker('help', ctx.envelope.id), helpComment(user, pr.base.ref, available, notFound, automatic));
  }

  /** Posts a comment unless one with its marker is there already (a redelivered event). */
  private async commentOnce(ctx: Context, number: number, mark: string, text: string): Promise<void> {
    const { github } = this.deps;
    const comments = await github.paginate(github.rest.issues.listComments, { owner: ctx.org, repo: ctx.repo, issue_number: number, per_page: 100 });
    const bot = await this.bot();
    if (comments.some((c) => c.user?.login === bot && (c.body ?? '').includes(mark))) return;
    await github.rest.issues.createComment({ owner: ctx.org, repo: ctx.repo, issue_number: number, body: `${text}\n\n${mark}` });
  }

  private async addLabel(ctx: Context, number: number, label: string): Promise<void> {
    await this.deps.github.rest.issues.addLabels({ owner: ctx.org, repo: ctx.repo, issue_number: number, labels: [label] });
  }

  private async removeLabel(ctx: Context, number: number, label: string): Promise<void> {
    try {
      await this.deps.github.rest.issues.removeLabel({ owner: ctx.org, repo: ctx.repo, issue_number: number, name: label });
    } catch (error) {
      // Not there: nothing to remove.
      if (!isNotFound(error)) throw error;
      ctx.log.debug({ label, err: describeError(error) }, 'label was not on the pull request');
    }
  }

  private jenkinsPresubmits(org: string, repo: string): Presubmit[] {
    return (this.deps.config.get().presubmits[`${org}/${repo}`] ?? []).filter((p) => p.agent === 'jenkins');
  }

  private async changedFiles(owner: string, repo: string, pull_number: number): Promise<string[]> {
    const files = await this.deps.github.paginate(this.deps.github.rest.pulls.listFiles, { owner, repo, pull_number, per_page: 100 });
    return files.map((f) => f.filename);
  }

  /** The head commit's contexts: the latest state of each (GitHub lists statuses newest first). */
  private async contextsOf(owner: string, repo: string, sha: string): Promise<{ failed: Set<string>; all: Set<string> }> {
    const statuses = await this.deps.github.paginate(this.deps.github.rest.repos.listCommitStatusesForRef, { owner, repo, ref: sha, per_page: 100 });
    const latest = new Map<string, string>();
    for (const status of statuses) if (!latest.has(status.context)) latest.set(status.context, status.state);
    const failed = new Set([...latest].filter(([, state]) => state === 'failure' || state === 'error').map(([context]) => context));
    return { failed, all: new Set(latest.keys()) };
  }
}

function hasLabel(pr: PullRequest, name: string): boolean {
  return (pr.labels ?? []).some((l) => l.name === name);
}

/** NATS KV keys allow `[-/_=.a-zA-Z0-9]`. */
function keyPart(text: string): string {
  return text.replace(/[^-_=a-zA-Z0-9]/g, '_');
}
