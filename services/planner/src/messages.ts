export const OK_TO_TEST_LABEL = 'ok-to-test';
export const NEEDS_OK_TO_TEST_LABEL = 'needs-ok-to-test';
export const LGTM_LABEL = 'lgtm';

/**
 * A hidden marker in each comment the planner posts, so a redelivered event finds its comment
 * already there and posts nothing (Prow has no such guard and posts twice).
 */
export function marker(kind: string, key: string): string {
  return `<!-- bowline:${kind}:${key} -->`;
}

/**
 * Prow's FormatResponseRaw: a reply to a comment, with the comment quoted under "In response to".
 * Prow's closing paragraph about its own bot (links to the Kubernetes community guide and to
 * kubernetes-sigs/prow issues) is left out: it describes Kubernetes' Prow, not this one.
 */
export function replyTo(comment: { user: string; body: string; url?: string }, reply: string): string {
  const quoted = comment.body
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n');
  return `@${comment.user}: ${reply}\n\n<details>\n\nIn response to [this](${comment.url ?? ''}):\n\n${quoted}\n\n</details>`;
}

export const CANNOT_TRIGGER = 'Cannot trigger testing until a trusted user reviews the PR and leaves an `/ok-to-test` message.';
export const ONLY_TRUSTED_REVOKE = 'Only trusted users can revoke `/ok-to-test`.';

/** Prow's draftMsg, for a draft opened by a trusted author. */
export const DRAFT_COMMENT =
  'Skipping CI for Draft Pull Request.\nIf you want CI signal for your change, please convert it to an actual PR.\nYou can still manually trigger a test run with `/test all`';

/**
 * Prow's orgInvitationGuidance with its defaults (no `join_org_url`, the prominent tip after 3
 * merged pull requests): `prominent` says whether the author has had that many merged in the org.
 */
export function orgInvitationGuidance(joinOrgUrl: string, prominent: boolean): string {
  if (!prominent) return `Regular contributors should [join the org](${joinOrgUrl}) to skip this step.`;
  return `>[!TIP]\n>**We noticed you've done this a few times! Consider [joining the org](${joinOrgUrl}) to skip this step and gain \`/lgtm\` and other bot rights.** We recommend asking approvers on your previous PRs to sponsor you.`;
}

/**
 * Prow's welcome for a pull request whose author is not trusted. Prow's last two paragraphs (a link
 * to the commands of Kubernetes' Prow, go.k8s.io/bot-commands, and the note about that bot) are
 * left out for the same reason as in `replyTo`.
 */
export function welcomeComment(options: { author: string; org: string; trustedOrgs: string[]; host: string; guidance: string }): string {
  const people = (org: string) => `[${org}](https://${options.host}/orgs/${org}/people)`;
  const more = options.trustedOrgs
    .filter((o) => o !== options.org)
    .map((o) => `or ${people(o)} `)
    .join('');
  return [
    `Hi @${options.author}. Thanks for your PR.`,
    '',
    `I'm waiting for a ${people(options.org)} ${more}member to verify that this patch is reasonable to test. If it is, they should reply with \`/ok-to-test\` on its own line. Until that is done, I will not automatically test new commits in this PR, but the usual testing commands by org members will still work.`,
    '',
    options.guidance,
    '',
    `Once the patch is verified, the new status will be reflected by the \`${OK_TO_TEST_LABEL}\` label.`,
  ].join('\n');
}

/** Said when a push after an approval needs a new one (`ok_to_test: per_commit`, beyond Prow). */
export function approvalExpiredComment(author: string, sha: string): string {
  return `@${author}: the \`/ok-to-test\` approval covered an earlier commit. New commits (now ${sha.slice(0, 8)}) need a trusted user to leave \`/ok-to-test\` again before tests run.`;
}

/**
 * The refusal of a command the tenant's access rules do not allow (beyond Prow, which has no
 * per-tenant rules): what was asked, where, and who may, so the commenter knows whom to ask.
 */
export function notAllowedReply(refusals: readonly { command: string; allowed: string }[], where: { org: string; repo: string; tenant: string }): string {
  return refusals
    .map(({ command, allowed }) => `you are not allowed to ${command} in ${where.org}/${where.repo}: tenant ${where.tenant} allows ${allowed}.`)
    .join('\n');
}

/** Jobs limited to `allowed_teams` that someone outside those teams asked for. */
export function teamsOnlyReply(jobs: readonly { name: string; allowedTeams: readonly string[] }[]): string {
  const lines = jobs.map((job) => `- \`${job.name}\`: only members of ${job.allowedTeams.join(', ')} may start it`);
  return ['these jobs were not started:', ...lines].join('\n');
}

/** `quotas.max_jobs_per_pr` reached: which jobs did not start, and why. */
export function quotaReply(options: { tenant: string; limit: number; unfinished: number; started: number; skipped: readonly string[] }): string {
  const { tenant, limit, unfinished, started, skipped } = options;
  return [
    `tenant ${tenant} allows at most ${limit} unfinished jobs per pull request; ${unfinished} were unfinished, so ${started} started and these did not:`,
    ...skipped.map((name) => `- \`${name}\``),
    'Ask for them again with `/test <job>` once running jobs have finished.',
  ].join('\n');
}
