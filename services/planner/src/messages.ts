import type { Presubmit } from '@bowline/config';

export const OK_TO_TEST_LABEL = 'ok-to-test';
export const NEEDS_OK_TO_TEST_LABEL = 'needs-ok-to-test';

/**
 * A hidden marker in each comment the planner posts, so a redelivered event finds its comment
 * already there and posts nothing (Prow has no such guard and posts twice).
 */
export function marker(kind: string, key: string): string {
  return `<!-- bowline:${kind}:${key} -->`;
}

/** Prow's welcome for a pull request whose author is not trusted. */
export function welcomeComment(author: string, org: string): string {
  return [
    `Hi @${author}. Thanks for your PR.`,
    '',
    `I'm waiting for a [${org}](https://github.com/orgs/${org}/people) member to verify that this patch is reasonable to test. If it is, they should reply with \`/ok-to-test\` on its own line. Until that is done, I will not automatically test new commits in this PR, but the usual testing commands by org members will still work after that.`,
    '',
    `Once the patch is verified, the new status will be reflected by the \`${OK_TO_TEST_LABEL}\` label.`,
  ].join('\n');
}

/** Said to someone who asked for tests but may not. */
export function cannotTriggerComment(user: string): string {
  return `@${user}: Cannot trigger testing until a trusted user reviews the PR and leaves an \`/ok-to-test\` message.`;
}

/** Said when a push after an approval needs a new one (`ok_to_test: per_commit`). */
export function approvalExpiredComment(author: string, sha: string): string {
  return `@${author}: the \`/ok-to-test\` approval covered an earlier commit. New commits (now ${sha.slice(0, 8)}) need a trusted user to leave \`/ok-to-test\` again before tests run.`;
}

/**
 * Prow's help for `/test ?` or a `/test` of no known job: the commands that can be asked for on
 * this branch, required and optional apart, and what `/test all` runs.
 */
export function helpComment(user: string, branch: string, available: Presubmit[], notFound: boolean, testAll: Presubmit[]): string {
  const lines: string[] = [`@${user}: ${notFound ? 'The specified target(s) for `/test` were not found.' : `The following commands are available on \`${branch}\`.`}`];
  const list = (title: string, jobs: Presubmit[]): void => {
    if (jobs.length === 0) return;
    lines.push(title);
    for (const job of jobs) lines.push(`* \`${job.rerunCommand}\``);
  };
  list('The following commands are available to trigger required jobs:', available.filter((p) => !p.optional));
  list('The following commands are available to trigger optional jobs:', available.filter((p) => p.optional));
  if (testAll.length > 0) {
    lines.push('', 'Use `/test all` to run the following jobs that were automatically triggered:');
    for (const job of testAll) lines.push(`* \`${job.name}\``);
  }
  if (available.length === 0) lines.push(`No Jenkins job of this repository runs on \`${branch}\`.`);
  return lines.join('\n');
}
