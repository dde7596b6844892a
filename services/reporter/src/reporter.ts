import { Counter, type Registry } from 'prom-client';
import type { ConfigSource } from '@bowline/config';
import { botLoginOf, isNotFound, type Octokit } from '@bowline/github';
import { describeError, type Logger } from '@bowline/observability';
import { isFinished, prowJobTemplateView, WorkQueue, type ProwJob, type ProwJobState, type ProwJobStore } from '@bowline/prowjob';
import { mergeEntries, parseEntries, renderComment, REPORT_MARKER, updateEntries } from './failure-comment.js';

/** The key under `status.prev_report_states` this reporter owns, as Prow's crier names it. */
export const REPORTER_NAME = 'github-reporter';

const GITHUB_STATES: Record<ProwJobState, 'pending' | 'success' | 'failure' | 'error'> = {
  triggered: 'pending',
  pending: 'pending',
  success: 'success',
  failure: 'failure',
  aborted: 'failure',
  error: 'error',
};

const DEFAULT_DESCRIPTIONS: Record<ProwJobState, string> = {
  triggered: 'Job triggered.',
  pending: 'Job running.',
  success: 'Job succeeded.',
  failure: 'Job failed.',
  aborted: 'Job aborted.',
  error: 'Job errored.',
};

export interface ReporterDeps {
  github: Octokit;
  /** The bot's login; asked of GitHub (`GET /user`) when not given. */
  botLogin?: () => Promise<string>;
  config: ConfigSource;
  store: ProwJobStore;
  logger: Logger;
  registry: Registry;
}

/**
 * Prow's crier for GitHub: a commit status per state change and one failure comment per pull
 * request. What was reported is written back to the ProwJob, so a redelivered change or a restart
 * reports nothing twice.
 */
export class Reporter {
  private readonly queue: WorkQueue;
  private readonly prLocks = new Map<string, Promise<void>>();
  private watcher?: { stop(): void };
  private readonly reports: Counter;
  private readonly dropped: Counter;
  private readonly bot: () => Promise<string>;

  constructor(private readonly deps: ReporterDeps) {
    this.bot = deps.botLogin ?? botLoginOf(deps.github);
    this.queue = new WorkQueue((name) => this.report(name), { logger: deps.logger, concurrency: 8 });
    this.dropped = new Counter({
      name: 'bowline_reporter_reports_dropped_total',
      help: 'Reports dropped because GitHub answered 404',
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
      if (stored && this.needsReport(stored.job)) this.queue.add(name);
    }, this.deps.logger);
  }

  async stop(): Promise<void> {
    this.watcher?.stop();
    await this.queue.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Reports the job's current state, read fresh, unless it was reported already. */
  private async report(name: string): Promise<void> {
    const stored = await this.deps.store.get(name);
    if (!stored || !this.needsReport(stored.job)) return;
    const job = stored.job;
    const { org, repo } = job.spec.refs;
    const pull = job.spec.refs.pulls?.[0];
    const sha = job.spec.type === 'presubmit' && pull ? pull.sha : job.spec.refs.base_sha;
    const log = this.deps.logger.child({ prowjob: name, job: job.spec.job, repo: `${org}/${repo}`, pr: pull?.number });
    const state = job.status.state;

    try {
      await this.deps.github.rest.repos.createCommitStatus({
        owner: org,
        repo,
        sha,
        state: GITHUB_STATES[state],
        context: job.spec.context,
        description: truncate(job.status.description ?? DEFAULT_DESCRIPTIONS[state], 140),
        ...(job.status.url ? { target_url: job.status.url } : {}),
      });
      this.reports.inc({ state });
      log.info({ state, sha }, 'commit status reported');
      if (job.spec.type === 'presubmit' && pull && isFinished(job)) {
        await this.withPullRequestLock(`${org}/${repo}#${pull.number}`, () => this.updateFailureComment(job, log));
      }
    } catch (error) {
      // A deleted repository, commit or pull request never comes back: retrying would spin
      // forever, so the report is dropped, said in the log, and marked done.
      if (!isNotFound(error)) throw error;
      this.dropped.inc();
      log.warn({ state, sha }, 'GitHub answered 404 (repository, commit or pull request gone): report dropped');
    }
    await this.deps.store.update(name, (current) => {
      if (current.status.prev_report_states?.[REPORTER_NAME] === state) return undefined;
      return { ...current, status: { ...current.status, prev_report_states: { ...current.status.prev_report_states, [REPORTER_NAME]: state } } };
    });
  }

  /**
   * Keeps one failure comment per pull request: rows replaced by context, edited in place,
   * deleted when no row is left, older copies of it removed.
   */
  private async updateFailureComment(job: ProwJob, log: Logger): Promise<void> {
    const { org, repo } = job.spec.refs;
    const pull = job.spec.refs.pulls![0]!;
    const github = this.deps.github;
    const bot = await this.bot();
    const comments = await github.paginate(github.rest.issues.listComments, { owner: org, repo, issue_number: pull.number, per_page: 100 });
    const ours = comments.filter((c) => c.user?.login === bot && (c.body ?? '').includes(REPORT_MARKER));
    const latest = ours.at(-1);
    const older = ours.slice(0, -1);
    // Every copy's rows count: an older copy holds failures the newest one may not know of.
    const previous = mergeEntries(ours.map((c) => parseEntries(c.body ?? '')));
    const entries = updateEntries(previous, job) ?? previous;
    if (entries.length === 0) {
      if (latest) {
        await github.rest.issues.deleteComment({ owner: org, repo, comment_id: latest.id });
        log.info('failure comment removed: nothing fails');
      }
    } else {
      const body = renderComment(pull.author, entries, this.reportTemplateFor(job, log));
      if (!latest) {
        await github.rest.issues.createComment({ owner: org, repo, issue_number: pull.number, body });
        log.info({ rows: entries.length }, 'failure comment created');
      } else if (latest.body !== body) {
        await github.rest.issues.updateComment({ owner: org, repo, comment_id: latest.id, body });
        log.info({ rows: entries.length }, 'failure comment updated');
      }
    }
    // Only once their rows are safe in the newest copy.
    for (const old of older) await github.rest.issues.deleteComment({ owner: org, repo, comment_id: old.id });
  }

  /** `report_template` of the first `jenkins_operators` entry whose selector takes the job, rendered. */
  private reportTemplateFor(job: ProwJob, log: Logger): string | undefined {
    const entry = this.deps.config.get().jenkinsOperators.find((o) => o.labelSelector.matches(job.metadata.labels));
    if (!entry?.reportTemplate) return undefined;
    try {
      return entry.reportTemplate.execute(prowJobTemplateView(job));
    } catch (error) {
      log.warn({ err: describeError(error) }, 'report_template failed: comment sent without it');
      return undefined;
    }
  }

  private needsReport(job: ProwJob): boolean {
    const types: string[] = this.deps.config.get().githubReporter.jobTypesToReport;
    return job.spec.report && types.includes(job.spec.type) && job.status.prev_report_states?.[REPORTER_NAME] !== job.status.state;
  }

  /** Two jobs of one pull request finishing at once must not both rewrite its comment. */
  private async withPullRequestLock(key: string, work: () => Promise<void>): Promise<void> {
    const previous = this.prLocks.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.catch((error: unknown) => this.deps.logger.debug({ err: describeError(error) }, 'comment update failed'));
    this.prLocks.set(key, tail);
    try {
      await current;
    } finally {
      if (this.prLocks.get(key) === tail) this.prLocks.delete(key);
    }
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
