import type { ConfigSource } from '@bowline/config';
import type { Octokit } from '@bowline/github';
import type { Approvals } from './approval.js';
import type { PullRequestWriter } from './comments-and-labels.js';
import type { JobStarter } from './job-starter.js';
import type { TrustChecker } from './trust.js';

/** What the comment and pull request handlers share: one of each, built by the Planner. */
export interface PlannerTools {
  github: Octokit;
  config: ConfigSource;
  /** The bot's login, asked of GitHub once. */
  bot: () => Promise<string>;
  trust: TrustChecker;
  approvals: Approvals;
  writer: PullRequestWriter;
  jobs: JobStarter;
}
