import { createHash } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import { tenantNamed, tenantOf, type ConfigSource, type Tenant } from '@bowline/config';
import { botLoginOf, isNotFound, type Octokit } from '@bowline/github';
import { BowlineError, type Logger } from '@bowline/observability';
import { isFinished, prowJobTemplateView, tenantOfProwJob, WorkQueue, type ProwJob, type ProwJobState, type ProwJobStore } from '@bowline/prowjob';
import { planFailureComment, renderComment } from './failure-comment.js';
import type { PullRequestClaims } from './pull-request-claim.js';
import { statusDescription } from './status-description.js';

/** The key under `status.prev_report_states` this reporter owns, as Prow's crier names it. */
export const REPORTER_NAME = 'github-reporter';
/**
 * What the last status said (a digest of state, description and link). Prow's jenkins-operator
 * reports a job again when its description or link changes within a state ("Jenkins job
 * enqueued.", a `job_url_template` link that names the state), which `prev_report_states` alone
 * cannot tell.
 */
export const REPORTED_STATUS = 'bowline.dev/github-reported-status';

const GITHUB_STATES: Record<ProwJobState, 'pending' | 'success' | 'failure' | 'error'> = {
  triggered: 'pending',
  pending: 'pending',
  success: 'success',
  failure: 'failure',
  aborted: 'failure',
  error: 'error',
};

/** No status of the job is on GitHub yet: its first goes ahead of other jobs' changes. */
function neverReported(job: ProwJob): boolean {
  return job.status.prev_report_states?.[REPORTER_NAME] === undefined;
}

/** A GitHub identity: the client, and who it writes as (to find its own failure comments). */
export interface GitHubIdentity {
  octokit: Octokit;
  botLogin: () => Promise<string>;
}

export interface ReporterDeps {
  /** The service's own identity (`GITHUB_TOKEN_FILE` or App): for tenants without their own `github`. */
  github: Octokit;
  /** The bot's login; asked of GitHub (`GET /user`) when not given. */
  botLogin?: () => Promise<string>;
  /**
   * The identity of a tenant with its own `github` credentials (`TenantGitHubClients.forTenant`);
   * every status and comment of the tenant's jobs is written with it. Not given: `github` for all.
   */
  tenantGitHub?: (tenant: Tenant) => GitHubIdentity;
  config: ConfigSource;
  store: ProwJobStore;
  logger: Logger;
  registry: Registry;
  /**
   * Whether this replica may write to GitHub now: it holds the reporter's lease. Asked before each
   * job and again right before each write (fencing), so a replica that lost the lease mid-report
   * writes nothing more. Always true when not given (one replica, tests).
   */
  mayAct?: () => boolean;
  /** Claims on pull requests across replicas; without them only this process's own lock applies. */
  claims?: Pick<PullRequestClaims, 'withClaim'>;
}

/**
 * Prow's crier for GitHub: a commit status per change of state, description or link, and one
 * failure comment per pull request. What was reported is written back to the ProwJob, so a
 * redelivered change or a restart reports nothing twice.
 *
 * Among replicas one acts, the holder of the reporter's lease (issue 15: two replicas reporting
 * every change doubled each status, and could post an older one after a newer). The others watch
 * too, and on winning the lease report whatever is still due (`catchUp`).
 */
export class Reporter {
  private readonly queue: WorkQueue;
  private readonly prLocks = new Map<string, Promise<void>>();
  private watcher?: { stop(): void };
  private readonly reports: Counter;
  private readonly dropped: Counter;
  private readonly bot: () => Promise<string>;
  private readonly superseded: Counter;
  /**
   * Jobs whose report was due when this replica took the lease over: the last holder may have
   * posted the status and died (or lost the lease) before writing it back, so GitHub is asked first.
   */
  private readonly inherited = new Set<string>();
  /** What this process posted for a job whose write-back has not succeeded yet. */
  private readonly sent = new Map<string, { digest: string; commented: boolean }>();
  private readonly mayAct: () => boolean;

  constructor(private readonly deps: ReporterDeps) {
    this.bot = deps.botLogin ?? botLoginOf(deps.github);
    this.mayAct = deps.mayAct ?? (() => true);
    this.superseded = new Counter({
      name: 'bowline_reporter_reports_superseded_total',
      help: 'Reports not sent because the job changed again before they went out (the newer state is reported instead)',
      registers: [deps.registry],
    });
    // Retries back off to 10 s at most, not the queue's minute: a report that failed through
    // a NATS election (a burst of fast "no responders") is sent seconds after it ends.
    this.queue = new WorkQueue((name) => this.report(name), { logger: deps.logger, concurrency: 8, maxBackoffMs: 10_000 });
    this.dropped = new Counter({
      name: 'bowline_reporter_reports_dropped_total',
      help: 'Reports dropped because GitHub answered 404, or no tenant owns the job',
      registers: [deps.registry],
    });
    this.reports = new Counter({
      name: 'bowline_reporter_reports_total',
      help: 'Commit statuses reported, by state',
      labelNames: ['state'],
      registers: [deps.registry],
    });
  }

  async start(): Promise<void> {
    this.watcher = await this.deps.store.watch((name, stored) => {
      // A job's first status goes ahead of the changes waiting, in a slot of its own: it is what
      // the author waits to see on the pull request, and a resync's burst of "running" and
      // finished jobs (each finished one also reads the pull request's comments) held it for most
      // of a second behind them (issue 21).
      if (stored && this.needsReport(stored.job)) this.queue.add(name, { ahead: neverReported(stored.job) });
    }, this.deps.logger);
  }

  async stop(): Promise<void> {
    this.watcher?.stop();
    await this.queue.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Queues every job whose report is due: called when this replica has just won the lease. */
  async catchUp(): Promise<void> {
    for (const { job } of await this.deps.store.list()) {
      if (!this.needsReport(job)) continue;
      this.inherited.add(job.metadata.name);
      this.queue.add(job.metadata.name);
    }
  }

  /** Reports the job's current state, read fresh, unless it was reported already. */
  private async report(name: string): Promise<void> {
    // A standby reports nothing: the holder does, and a new holder catches up on what is due.
    if (!this.mayAct()) return;
    // Never older than the revision the watch showed (ProwJobStore.get): a lagging replica's
    // answer is asked again, not taken for "reported already".
    const stored = await this.deps.store.get(name);
    if (!stored || !this.needsReport(stored.job)) return;
    const job = stored.job;
    const { org, repo } = job.spec.refs;
    const pull = job.spec.refs.pulls?.[0];
    const sha = job.spec.type === 'presubmit' && pull ? pull.sha : job.spec.refs.base_sha;
    const tenant = this.tenantOfJob(job);
    const log = this.deps.logger.child({ prowjob: name, job: job.spec.job, repo: `${org}/${repo}`, pr: pull?.number, tenant: tenant?.name });
    const state = job.status.state;
    const newState = job.status.prev_report_states?.[REPORTER_NAME] !== state;

    const reported = reportedStatus(job);
    // Sent already by this process, whose write-back below failed (NATS electing a stream leader
    // answers "no responders" for seconds): the retry only writes it back, and GitHub gets no
    // second copy (issue 15).
    const sent = this.sent.get(name);
    try {
      if (!tenant) throw new NoTenantError(`no tenant owns ${org}/${repo}: nothing is written with another tenant's credentials`);
      const github = this.identityOf(tenant);
      if (sent?.digest !== reported && this.inherited.delete(name) && (await this.shownAlready(job, sha, github.octokit))) {
        log.info({ state, sha }, 'status posted already by the previous lease holder: only recording it');
        this.sent.set(name, { digest: reported, commented: false });
      }
      if (this.sent.get(name)?.digest !== reported) {
        if (!this.mayAct()) return;
        // The status for this revision goes out only if it is still the newest, read again right
        // before the write: otherwise the newer one is reported in its place (queued again), never
        // this one after it.
        const latest = await this.deps.store.get(name);
        if (latest?.revision !== stored.revision) {
          this.superseded.inc();
          log.debug({ state, revision: stored.revision, newer: latest?.revision }, 'job changed again before its report went out: reporting the newer state');
          if (latest) this.queue.add(name, { ahead: neverReported(latest.job) });
          return;
        }
        await github.octokit.rest.repos.createCommitStatus({
          owner: org,
          repo,
          sha,
          state: GITHUB_STATES[state],
          context: job.spec.context,
          // Prow's reportStatus: the description with the base sha Tide reads (Prow's base sha for
          // presubmits and postsubmits alike).
          description: statusDescription(job.status.description ?? '', job.spec.refs.base_sha),
          ...(job.status.url ? { target_url: job.status.url } : {}),
        });
        this.sent.set(name, { digest: reported, commented: false });
        this.reports.inc({ state });
        log.info({ state, sha }, 'commit status reported');
      }
      if (job.spec.type === 'presubmit' && pull && isFinished(job) && newState && !this.sent.get(name)?.commented) {
        const claims = this.deps.claims;
        const update = () => this.updateFailureComment(job, log, github);
        await this.withPullRequestLock(`${org}/${repo}#${pull.number}`, () => (claims ? claims.withClaim({ org, repo, number: pull.number }, update) : update()));
        this.sent.set(name, { digest: reported, commented: true });
      }
    } catch (error) {
      // The new holder of the lease reports this job (catchUp): nothing is written here.
      if (error instanceof LeaseLostError) return;
      // A deleted repository, commit or pull request never comes back, nor does a tenant removed
      // from the config with its repository: retrying would spin forever, so the report is
      // dropped, said in the log, and marked done.
      if (error instanceof NoTenantError) {
        log.warn({ state, sha, err: error }, 'report dropped: the job belongs to no tenant of the config');
      } else if (isNotFound(error)) {
        log.warn({ state, sha }, 'GitHub answered 404 (repository, commit or pull request gone): report dropped');
      } else {
        throw error;
      }
      this.dropped.inc();
    }
    await this.recordReported(name, state, reported);
  }

  /** Writes back what was reported, so no replica and no restart reports it again. */
  private async recordReported(name: string, state: ProwJobState, reported: string): Promise<void> {
    await this.deps.store.update(name, (current) => {
      if (current.status.prev_report_states?.[REPORTER_NAME] === state && current.metadata.annotations[REPORTED_STATUS] === reported) return undefined;
      return {
        ...current,
        metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [REPORTED_STATUS]: reported } },
        status: { ...current.status, prev_report_states: { ...current.status.prev_report_states, [REPORTER_NAME]: state } },
      };
    });
    this.sent.delete(name);
  }

  /**
   * Keeps one failure comment per pull request, as Prow's ReportComment does: a new failure posts
   * a new comment, other endings edit the newest copy or delete it when no row is left.
   */
  private async updateFailureComment(job: ProwJob, log: Logger, identity: GitHubIdentity): Promise<void> {
    const { org, repo } = job.spec.refs;
    const pull = job.spec.refs.pulls![0]!;
    const github = identity.octokit;
    const bot = await identity.botLogin();
    const comments = await github.paginate(github.rest.issues.listComments, { owner: org, repo, issue_number: pull.number, per_page: 100 });
    const mine = comments.filter((c) => c.user?.login === bot).map((c) => ({ id: c.id, body: c.body ?? '' }));
    const plan = planFailureComment(job, mine);
    // Fenced like the status: a replica that lost the lease while listing writes nothing.
    const fence = (): void => {
      if (!this.mayAct()) throw new LeaseLostError('the reporter lease was lost: the new holder writes the failure comment');
    };
    if (plan.entries.length > 0) {
      const body = renderComment(pull.author, plan.entries, this.reportTemplateFor(job, log));
      if (plan.editId === undefined) {
        fence();
        await github.rest.issues.createComment({ owner: org, repo, issue_number: pull.number, body });
        log.info({ rows: plan.entries.length }, 'failure comment posted');
      } else if (mine.find((c) => c.id === plan.editId)?.body !== body) {
        fence();
        await github.rest.issues.updateComment({ owner: org, repo, comment_id: plan.editId, body });
        log.info({ rows: plan.entries.length }, 'failure comment updated');
      }
    }
    // Prow deletes first; here the new comment is up before the old ones go, so a failed request
    // never leaves rows that only a deleted comment held.
    for (const id of plan.deleteIds) {
      fence();
      await github.rest.issues.deleteComment({ owner: org, repo, comment_id: id }).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
        // Deleted first by someone else (a person, or a replica before the claim): what was wanted.
        log.debug({ comment: id }, 'old failure comment already gone');
      });
    }
    if (plan.deleteIds.length > 0) log.info({ deleted: plan.deleteIds.length }, plan.entries.length > 0 ? 'older failure comments deleted' : 'failure comment deleted: nothing fails');
  }

  /** Whether GitHub's newest status of the job's context says what this report would say. */
  private async shownAlready(job: ProwJob, sha: string, github: Octokit): Promise<boolean> {
    const { org, repo } = job.spec.refs;
    const { data } = await github.rest.repos.listCommitStatusesForRef({ owner: org, repo, ref: sha, per_page: 100 });
    const newest = data.find((status) => status.context === job.spec.context);
    return (
      newest !== undefined &&
      newest.state === GITHUB_STATES[job.status.state] &&
      newest.description === statusDescription(job.status.description ?? '', job.spec.refs.base_sha) &&
      (newest.target_url ?? undefined) === (job.status.url || undefined)
    );
  }

  /**
   * The job's tenant: the one it names (label `bowline.dev/tenant`, or Prow's
   * `spec.prowjob_defaults.tenant_id`) while the config lists it, else its repository's (a job
   * made before tenants, or by a config since changed).
   */
  private tenantOfJob(job: ProwJob): Tenant | undefined {
    const config = this.deps.config.get();
    const named = tenantOfProwJob(job);
    return (named === undefined ? undefined : tenantNamed(config, named)) ?? tenantOf(config, job.spec.refs.org, job.spec.refs.repo);
  }

  private identityOf(tenant: Tenant): GitHubIdentity {
    if (tenant.github && this.deps.tenantGitHub) return this.deps.tenantGitHub(tenant);
    return { octokit: this.deps.github, botLogin: this.bot };
  }

  /** `report_template` of the first `jenkins_operators` entry whose selector takes the job, rendered. */
  private reportTemplateFor(job: ProwJob, log: Logger): string | undefined {
    const entry = this.deps.config.get().jenkinsOperators.find((o) => o.labelSelector.matches(job.metadata.labels));
    if (!entry?.reportTemplate) return undefined;
    try {
      return entry.reportTemplate.execute(prowJobTemplateView(job));
    } catch (error) {
      log.warn({ err: error }, 'report_template failed: comment sent without it');
      return undefined;
    }
  }

  private needsReport(job: ProwJob): boolean {
    const types: string[] = this.deps.config.get().githubReporter.jobTypesToReport;
    if (!job.spec.report || !types.includes(job.spec.type)) return false;
    if (job.status.prev_report_states?.[REPORTER_NAME] !== job.status.state) return true;
    // A job reported before the digest was kept has only its state on record.
    const reported = job.metadata.annotations[REPORTED_STATUS];
    return reported !== undefined && reported !== reportedStatus(job);
  }

  /** Two jobs of one pull request finishing at once must not both rewrite its comment. */
  private async withPullRequestLock(key: string, work: () => Promise<void>): Promise<void> {
    const previous = this.prLocks.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.catch((error: unknown) => this.deps.logger.debug({ err: error }, 'comment update failed'));
    this.prLocks.set(key, tail);
    try {
      await current;
    } finally {
      if (this.prLocks.get(key) === tail) this.prLocks.delete(key);
    }
  }
}

/** This replica stopped holding the reporter's lease between two writes of one report. */
class LeaseLostError extends BowlineError {}

/** The job's repository is in no tenant of the config, and it names none that is. */
class NoTenantError extends BowlineError {}

/** A digest of what a status for the job says: its state, description and link. */
function reportedStatus(job: ProwJob): string {
  const { state, description, url } = job.status;
  return createHash('sha256').update(JSON.stringify([state, description ?? '', url ?? ''])).digest('hex').slice(0, 16);
}
