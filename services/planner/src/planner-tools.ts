import type { ConfigSource } from '@bowline/config';
import type { Octokit } from '@bowline/github';
import type { AccessRules } from './access.js';
import type { Approvals } from './approval.js';
import type { PullRequestWriter } from './comments-and-labels.js';
import type { RefusalReason } from './job-gates.js';
import type { JobStarter } from './job-starter.js';
import type { EventContext } from './pull-request.js';
import type { TrustChecker } from './trust.js';

/**
 * What the comment and pull request handlers share: one of each per GitHub identity, built by the
 * Planner, so every call for an event is made with its tenant's credentials.
 */
export interface PlannerTools {
  github: Octokit;
  config: ConfigSource;
  /** The bot's login, asked of GitHub once. */
  bot: () => Promise<string>;
  trust: TrustChecker;
  /** The tenant's access rules over Prow's trust rules. */
  access: AccessRules;
  /** Counts a refusal (`bowline_planner_refusals_total`). */
  refused: (ctx: EventContext, reason: RefusalReason, count: number) => void;
  approvals: Approvals;
  writer: PullRequestWriter;
  jobs: JobStarter;
}
