import { OPTIONAL_COMMANDS_HEADER, presubmitCommands, REQUIRED_COMMANDS_HEADER, type ChangedFiles, type Presubmit } from '@bowline/config';
import { EMPTY_TEST, filterPresubmits, RETEST_WITH_TARGET, TEST_ALL, TEST_HELP, TEST_WITH_ANY_TARGET, testAllFilter } from './filters.js';

// Prow's notes (pkg/pjutil/help.go), word for word: a Prow user knows them, and the comment pruner
// recognises a help reply by them, Prow's own replies from before a move to Bowline included.
export const TEST_WITHOUT_TARGET_NOTE = 'The `/test` command needs one or more targets.\n';
export const RETEST_WITH_TARGET_NOTE = 'The `/retest` command does not accept any targets.\n';
export const TARGET_NOT_FOUND_NOTE = 'The specified target(s) for `/test` were not found.\n';
export const NO_TEST_ALL_JOBS_NOTE = 'No jobs can be run with `/test all`.\n';
const REQUIRED_HEADER = REQUIRED_COMMANDS_HEADER;
const OPTIONAL_HEADER = OPTIONAL_COMMANDS_HEADER;

/**
 * Prow's ShouldRespondWithHelp: whether a comment gets the list of commands instead of jobs, and
 * the note that opens the reply. `/test ?`, a bare `/test` and `/retest FOO` always do; `/test all`
 * and `/test FOO` only when they select nothing.
 */
export function helpNeeded(body: string, selected: number): { note: string } | undefined {
  if (TEST_HELP.test(body)) return { note: '' };
  if (EMPTY_TEST.test(body)) return { note: TEST_WITHOUT_TARGET_NOTE };
  if (RETEST_WITH_TARGET.test(body)) return { note: RETEST_WITH_TARGET_NOTE };
  if (selected === 0 && TEST_ALL.test(body)) return { note: NO_TEST_ALL_JOBS_NOTE };
  if (selected === 0 && TEST_WITH_ANY_TARGET.test(body)) return { note: TARGET_NOT_FOUND_NOTE };
  return undefined;
}

/** Prow's IsHelpComment: a reply the next successful `/test` or `/retest` deletes. */
export function isHelpComment(body: string): boolean {
  return [TEST_WITHOUT_TARGET_NOTE, RETEST_WITH_TARGET_NOTE, TARGET_NOT_FOUND_NOTE, NO_TEST_ALL_JOBS_NOTE, REQUIRED_HEADER, OPTIONAL_HEADER].some((text) => body.includes(text));
}

/**
 * Prow's AvailablePresubmits + HelpMessage: what `/test all` would run on this pull request (its
 * files decide for run_if_changed jobs), and each rerun command that can start a job on this branch,
 * required and optional apart, each listed once and sorted.
 */
export async function helpMessage(target: { org: string; repo: string; branch: string }, note: string, presubmits: readonly Presubmit[], changes: ChangedFiles): Promise<string> {
  const { branch } = target;
  const testAll = new Set((await filterPresubmits(testAllFilter, presubmits, branch, changes)).map((p) => p.name));
  // A job's own rerun command always asks for it, so these are the jobs of the branch (Prow asks
  // each job's trigger whether its rerun command matches; that never depends on the files).
  const commands = presubmitCommands(presubmits, branch);
  const required = new Set(commands.required);
  const optional = new Set(commands.optional);
  if (testAll.size + required.size + optional.size === 0) return `No presubmit jobs available for ${target.org}/${target.repo}@${branch}`;

  const list = (items: Set<string>) => [...items].sort().map((item) => `\n\`\`\`\n${item}\n\`\`\``).join('');
  let reply = note;
  if (required.size > 0) reply += `${REQUIRED_HEADER}${list(required)}\n\n`;
  if (optional.size > 0) reply += `${OPTIONAL_HEADER}${list(optional)}\n\n`;
  if (testAll.size === required.size + optional.size) reply += 'Use `/test all` to run all jobs.\n';
  else if (testAll.size > 0) reply += `Use \`/test all\` to run the following jobs that were automatically triggered:${list(testAll)}\n\n`;
  return reply;
}

