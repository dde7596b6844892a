import type { Counter } from 'prom-client';
import type { ChangedFiles, ConfigSource, Presubmit } from '@bowline/config';
import type { Octokit } from '@bowline/github';
import { BowlineError } from '@bowline/observability';
import { newPresubmitJob, prowJobName, transition, type GitHubPullRequest, type ProwJobStore } from '@bowline/prowjob';
import { filterPresubmits, testAllFilter } from './filters.js';
import { unfinishedOfOtherEvents, withinAllowedTeams, withinQuota, type GateDeps } from './job-gates.js';
import type { EventContext, PullRequest } from './pull-request.js';

/** Some ProwJobs of one event could not be created; the others were, and a retry creates the rest. */
export class StartJobsError extends BowlineError {}

/** Who or what asked for the jobs, kept on each ProwJob for its history. */
export interface StartCause {
  user: string;
  comment?: string;
}

/** Creates and aborts a pull request's ProwJobs: Prow's runRequested, buildAll and abortAllJobs. */
export class JobStarter {
  constructor(
    private readonly deps: {
      github: Octokit;
      store: ProwJobStore;
      config: ConfigSource;
      now: () => Date;
      created: Counter;
      aborted: Counter;
      /** The tenant's `allowed_teams` and `max_jobs_per_pr` rules, and where their replies go. */
      gates: Omit<GateDeps, 'store'>;
    },
  ) {}

  /** The repository's Jenkins presubmits; jobs for other agents belong to another Prow. */
  presubmits(org: string, repo: string): Presubmit[] {
    return (this.deps.config.get().presubmits[`${org}/${repo}`] ?? []).filter((p) => p.agent === 'jenkins');
  }

  /** The pull request's changed files, listed at most once however many jobs ask. */
  changedFiles(ctx: EventContext, number: number): ChangedFiles {
    let files: Promise<string[]> | undefined;
    return () => (files ??= this.listFiles(ctx, number));
  }

  /** Prow's buildAll: the jobs that run by themselves, if their files say so. */
  async startDefaultSet(ctx: EventContext, pr: PullRequest, cause: StartCause): Promise<void> {
    const presubmits = this.presubmits(ctx.org, ctx.repo);
    await this.start(ctx, pr, await filterPresubmits(testAllFilter, presubmits, pr.base.ref, this.changedFiles(ctx, pr.number)), cause);
  }

  /**
   * Prow's runRequested: one ProwJob per job, none when GitHub says the pull request cannot merge
   * (a conflict would fail every build). Then the tenant's rules (job-gates.ts): jobs limited to
   * `allowed_teams` start only for their members, and no more than `max_jobs_per_pr` run at once.
   * A job that cannot be created does not stop the others; the error comes after, so the event is
   * retried and creates only what is missing.
   */
  async start(ctx: EventContext, pr: PullRequest, asked: readonly Presubmit[], cause: StartCause): Promise<void> {
    const { envelope, log } = ctx;
    if (asked.length === 0) {
      log.info('no job matched');
      return;
    }
    if (pr.mergeable === false) {
      log.info({ jobs: asked.map((j) => j.name) }, 'pull request does not merge: nothing started');
      return;
    }
    const gates = { ...this.deps.gates, store: this.deps.store };
    const permitted = await withinAllowedTeams(gates, ctx, pr.number, asked, cause);
    const jobs = await withinQuota(gates, ctx, pr.number, permitted, cause);
    if (jobs.length === 0) return;
    const pullRequest = asGitHubPullRequest(ctx, pr);
    const now = this.deps.now();
    // The action (`opened`, `labeled`…) says, in the job's history, which pull request event ran it.
    const { action } = envelope.payload as { action?: unknown };
    const failures: { job: string; error: unknown }[] = [];
    for (const presubmit of jobs) {
      const name = prowJobName(envelope.id, presubmit.name);
      const job = newPresubmitJob(presubmit, {
        name,
        pullRequest,
        now,
        cause: { event: envelope.event, deliveryId: envelope.id, ...(typeof action === 'string' ? { action } : {}), ...cause },
      });
      try {
        const isNew = await this.deps.store.create(job);
        if (isNew) this.deps.created.inc({ event: envelope.event, tenant: ctx.tenant.name });
        log.info({ job: presubmit.name, prowjob: name, replay: !isNew }, isNew ? 'ProwJob created' : 'ProwJob exists already');
      } catch (error) {
        log.error({ job: presubmit.name, prowjob: name, err: error }, 'cannot create ProwJob');
        failures.push({ job: presubmit.name, error });
      }
    }
    if (failures.length > 0) {
      const names = failures.map((f) => f.job).join(', ');
      throw new StartJobsError(`cannot create ${failures.length} of ${jobs.length} ProwJobs (${names})`, {
        cause: failures.length === 1 ? failures[0]!.error : new AggregateError(failures.map((f) => f.error)),
        context: { jobs: failures.map((f) => f.job) },
      });
    }
  }

  /**
   * Prow's abortAllJobs: every unfinished presubmit of the pull request is aborted, except those
   * this very delivery created (a redelivered push must not abort its own jobs).
   */
  async abortUnfinished(ctx: EventContext, number: number, description: string, why: string): Promise<void> {
    const mine = await unfinishedOfOtherEvents(this.deps.store, ctx, number);
    for (const { job } of mine) {
      const done = await this.deps.store.update(job.metadata.name, (current) => transition(current, 'aborted', this.deps.now(), { description }));
      if (done) {
        this.deps.aborted.inc({ event: ctx.envelope.event, tenant: ctx.tenant.name });
        ctx.log.info({ job: job.spec.job, prowjob: job.metadata.name, why }, 'ProwJob aborted');
      }
    }
  }

  private async listFiles(ctx: EventContext, number: number): Promise<string[]> {
    const { github } = this.deps;
    const files = await github.paginate(github.rest.pulls.listFiles, { owner: ctx.org, repo: ctx.repo, pull_number: number, per_page: 100 });
    return files.map((f) => f.filename);
  }
}

/**
 * The pull request as Prow's createRefs reads it. The repository is the event's (the config key),
 * with GitHub's `base.repo` links when it sent them.
 */
function asGitHubPullRequest(ctx: EventContext, pr: PullRequest): GitHubPullRequest {
  return {
    ...pr,
    base: { ...pr.base, repo: { name: ctx.repo, owner: { login: ctx.org }, html_url: pr.base.repo?.html_url } },
  };
}
