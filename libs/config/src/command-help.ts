import { runsAgainstBranch } from './presubmit.js';
import type { Presubmit } from './types.js';

/** The headers of Prow's `/test ?` reply (pkg/pjutil/help.go), word for word: Prow users know them. */
export const REQUIRED_COMMANDS_HEADER = 'The following commands are available to trigger required jobs:';
export const OPTIONAL_COMMANDS_HEADER = 'The following commands are available to trigger optional jobs:';

export interface PresubmitCommands {
  /** The rerun commands of the jobs whose results a merge needs, sorted, each once. */
  required: string[];
  optional: string[];
}

/**
 * The commands that can start a presubmit of a repository: every job's rerun command, required and
 * optional apart, of the jobs that run against `branch` (all branches when none is given). What
 * the planner's `/test ?` reply lists and what the deck's `/configured-jobs` page shows.
 */
export function presubmitCommands(presubmits: readonly Presubmit[], branch?: string): PresubmitCommands {
  const required = new Set<string>();
  const optional = new Set<string>();
  for (const presubmit of presubmits) {
    if (branch !== undefined && !runsAgainstBranch(presubmit, branch)) continue;
    (presubmit.optional ? optional : required).add(presubmit.rerunCommand);
  }
  return { required: [...required].sort(), optional: [...optional].sort() };
}
