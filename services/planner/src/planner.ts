import { AsyncLocalStorage } from 'node:async_hooks';
import type { KV } from '@nats-io/kv';
import { Counter, Histogram, type Registry } from 'prom-client';
import { ack, type EventEnvelope, type Outcome } from '@bowline/bus';
import type { ConfigSource, Tenant } from '@bowline/config';
import { botLoginOf, type GitHub, type Octokit } from '@bowline/github';
import type { Logger } from '@bowline/observability';
import type { ProwJobStore } from '@bowline/prowjob';
import { AccessRules } from './access.js';
import { Approvals } from './approval.js';
import { handleComment, type IssueCommentPayload } from './comment-commands.js';
import { PullRequestWriter } from './comments-and-labels.js';
import { tenantOfEvent } from './event-tenant.js';
import type { RefusalReason } from './job-gates.js';
import { JobStarter } from './job-starter.js';
import type { PlannerTools } from './planner-tools.js';
import { handlePush } from './postsubmits.js';
import { handlePullRequest, type PullRequestPayload } from './pull-request-events.js';
import { TrustChecker } from './trust.js';

export interface PlannerDeps {
  /** The service's own GitHub client: for tenants without a `github` identity of their own. */
  github: Octokit;
  /** The bot's login; asked of GitHub (`GET /user`) when not given. */
  botLogin?: () => Promise<string>;
  /**
   * The client of a tenant's own GitHub identity (`TenantGitHubClients.forTenant`); unset, or
   * answering the service's own client, for tenants without one. Every call made for an event
   * goes through its tenant's client, so no request for one tenant carries another's token.
   */
  tenantGitHub?: (tenant: Tenant) => GitHub;
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
 * pull-request-events.ts, pushes in postsubmits.ts; each event with its tenant's GitHub identity,
 * access rules (access.ts) and quotas (job-gates.ts).
 */
export class Planner {
  private readonly now: () => Date;
  private readonly created: Counter;
  private readonly aborted: Counter;
  private readonly refusals: Counter;
  private readonly own: GitHub;
  /** One set of tools per GitHub client: tenants sharing the service's identity share its caches. */
  private readonly toolsByClient = new WeakMap<Octokit, PlannerTools>();
  /** GitHub requests made while handling the current event (5,000 an hour is the usual budget). */
  private readonly calls = new AsyncLocalStorage<{ count: number }>();
  private readonly callsPerEvent: Histogram;

  constructor(private readonly deps: PlannerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.own = { octokit: deps.github, botLogin: deps.botLogin ?? botLoginOf(deps.github) };
    this.created = new Counter({ name: 'bowline_planner_prowjobs_created_total', help: 'ProwJobs created, by event and tenant', labelNames: ['event', 'tenant'], registers: [deps.registry] });
    this.aborted = new Counter({ name: 'bowline_planner_prowjobs_aborted_total', help: 'Unfinished ProwJobs aborted, by event and tenant', labelNames: ['event', 'tenant'], registers: [deps.registry] });
    this.refusals = new Counter({
      name: 'bowline_planner_refusals_total',
      help: 'Commands refused and jobs not started by a tenant’s rules (access, allowed_teams, max_jobs_per_pr), by tenant and reason',
      labelNames: ['tenant', 'reason'],
      registers: [deps.registry],
    });
    this.callsPerEvent = new Histogram({
      name: 'bowline_planner_github_requests_per_event',
      help: 'GitHub API requests made to handle one event',
      labelNames: ['event', 'tenant'],
      buckets: [0, 1, 2, 3, 4, 6, 8, 12, 20],
      registers: [deps.registry],
    });
  }

  async handle(envelope: EventEnvelope): Promise<Outcome> {
    const calls = { count: 0 };
    const found = tenantOfEvent(this.deps.config.get(), envelope);
    if ('refused' in found) {
      this.deps.logger.warn({ deliveryId: envelope.id, tenant: envelope.tenant, reason: found.refused }, 'event of no tenant the config has: dropped');
      return { kind: 'drop', reason: found.refused };
    }
    const { tenant } = found;
    try {
      return await this.calls.run(calls, () => this.dispatch(envelope, tenant));
    } finally {
      this.callsPerEvent.observe({ event: envelope.event, tenant: tenant.name }, calls.count);
    }
  }

  private async dispatch(envelope: EventEnvelope, tenant: Tenant): Promise<Outcome> {
    const { store, config } = this.deps;
    const logger = this.deps.logger.child({ tenant: tenant.name });
    if (envelope.event === 'push') return handlePush({ store, config, logger, now: this.now, created: this.created }, envelope);
    if (envelope.event !== 'issue_comment' && envelope.event !== 'pull_request') return ack;
    const tools = this.toolsFor(tenant);
    if (envelope.event === 'issue_comment') return handleComment(tools, envelope as EventEnvelope<unknown> as EventEnvelope<IssueCommentPayload>, tenant, logger);
    return handlePullRequest(tools, envelope as EventEnvelope<unknown> as EventEnvelope<PullRequestPayload>, tenant, logger);
  }

  /** The tools speaking to GitHub as the tenant: its own identity's client, built on first use. */
  private toolsFor(tenant: Tenant): PlannerTools {
    const client = this.deps.tenantGitHub?.(tenant) ?? this.own;
    const known = this.toolsByClient.get(client.octokit);
    if (known) return known;
    const { config, store } = this.deps;
    const github = client.octokit;
    github.hook.before('request', () => {
      const current = this.calls.getStore();
      if (current) current.count += 1;
    });
    const bot = client.botLogin;
    const trust = new TrustChecker({ github, config, bot, now: this.now });
    const access = new AccessRules({ github, trust, bot, now: this.now });
    const writer = new PullRequestWriter({ github, bot });
    const refused = (ctx: { tenant: Tenant }, reason: RefusalReason, count: number) => this.refusals.inc({ tenant: ctx.tenant.name, reason }, count);
    const tools: PlannerTools = {
      github,
      config,
      bot,
      trust,
      access,
      refused,
      writer,
      approvals: new Approvals({ config, access, writer, claims: this.deps.claims }),
      jobs: new JobStarter({ github, store, config, now: this.now, created: this.created, aborted: this.aborted, gates: { access, writer, bot, refused } }),
    };
    this.toolsByClient.set(github, tools);
    return tools;
  }
}
