import { AsyncLocalStorage } from 'node:async_hooks';
import type { KV } from '@nats-io/kv';
import { Counter, Histogram, type Registry } from 'prom-client';
import { ack, type EventEnvelope, type Outcome } from '@bowline/bus';
import type { ConfigSource } from '@bowline/config';
import { botLoginOf, type Octokit } from '@bowline/github';
import type { Logger } from '@bowline/observability';
import type { ProwJobStore } from '@bowline/prowjob';
import { Approvals } from './approval.js';
import { handleComment, type IssueCommentPayload } from './comment-commands.js';
import { PullRequestWriter } from './comments-and-labels.js';
import { JobStarter } from './job-starter.js';
import type { PlannerTools } from './planner-tools.js';
import { handlePush } from './postsubmits.js';
import { handlePullRequest, type PullRequestPayload } from './pull-request-events.js';
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

/**
 * Prow's trigger plugin: turns comments, pull request events and pushes into ProwJobs for the
 * Jenkins jobs of config.yaml. Comments are handled in comment-commands.ts, pull request events in
 * pull-request-events.ts, pushes in postsubmits.ts.
 */
export class Planner {
  private readonly now: () => Date;
  private readonly created: Counter;
  private readonly tools: PlannerTools;
  /** GitHub requests made while handling the current event (5,000 an hour is the usual budget). */
  private readonly calls = new AsyncLocalStorage<{ count: number }>();
  private readonly callsPerEvent: Histogram;

  constructor(private readonly deps: PlannerDeps) {
    this.now = deps.now ?? (() => new Date());
    const bot = deps.botLogin ?? botLoginOf(deps.github);
    this.created = new Counter({ name: 'bowline_planner_prowjobs_created_total', help: 'ProwJobs created, by event', labelNames: ['event'], registers: [deps.registry] });
    const aborted = new Counter({ name: 'bowline_planner_prowjobs_aborted_total', help: 'Unfinished ProwJobs aborted, by event', labelNames: ['event'], registers: [deps.registry] });
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
    const trust = new TrustChecker({ github: deps.github, config: deps.config, bot, now: this.now });
    const writer = new PullRequestWriter({ github: deps.github, bot });
    this.tools = {
      github: deps.github,
      config: deps.config,
      bot,
      trust,
      writer,
      approvals: new Approvals({ config: deps.config, trust, writer, claims: deps.claims }),
      jobs: new JobStarter({ github: deps.github, store: deps.store, config: deps.config, now: this.now, created: this.created, aborted }),
    };
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
    const { logger, store, config } = this.deps;
    if (envelope.event === 'issue_comment') return handleComment(this.tools, envelope as EventEnvelope<unknown> as EventEnvelope<IssueCommentPayload>, logger);
    if (envelope.event === 'pull_request') return handlePullRequest(this.tools, envelope as EventEnvelope<unknown> as EventEnvelope<PullRequestPayload>, logger);
    if (envelope.event === 'push') return handlePush({ store, config, logger, now: this.now, created: this.created }, envelope);
    return ack;
  }
}
