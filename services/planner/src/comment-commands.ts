import { ack, type EventEnvelope, type Outcome } from '@bowline/bus';
import { commandText, type Presubmit, type Tenant } from '@bowline/config';
import type { Logger } from '@bowline/observability';
import { describeRules, type AccessVerdict } from './access.js';
import { isTestable } from './approval.js';
import { ANY_TEST, filterPresubmits, mentionsCommand, OK_TO_TEST, OK_TO_TEST_CANCEL, presubmitFilter } from './filters.js';
import { helpMessage, helpNeeded, isHelpComment } from './help.js';
import type { RefusalReason } from './job-gates.js';
import { CANNOT_TRIGGER, marker, NEEDS_OK_TO_TEST_LABEL, notAllowedReply, OK_TO_TEST_LABEL, ONLY_TRUSTED_REVOKE, replyTo } from './messages.js';
import type { PlannerTools } from './planner-tools.js';
import { hasLabel, type EventContext, type PullRequest, type Repository } from './pull-request.js';
import { isBotLogin } from './trust.js';

export interface IssueCommentPayload {
  action: string;
  issue: { number: number; state: string; pull_request?: unknown; user: { login: string }; labels?: { name?: string }[] };
  comment: { body: string; html_url?: string; user: { login: string } };
  repository: Repository;
}

/**
 * Prow's trigger for comments (handleGenericComment): commands in a new comment on an open pull
 * request. A trusted commenter's commands run on any pull request; anyone else's only on a trusted
 * one (its author trusted, or `ok-to-test` on it). `/ok-to-test` marks the pull request trusted,
 * `/ok-to-test cancel` takes that back. A tenant's `access.test` and `access.ok_to_test` replace
 * "trusted" for those commands, and refuse everyone else outright (access.ts).
 */
export async function handleComment(tools: PlannerTools, envelope: EventEnvelope<IssueCommentPayload>, tenant: Tenant, logger: Logger): Promise<Outcome> {
  const { payload } = envelope;
  if (payload.action !== 'created' || !payload.issue.pull_request || payload.issue.state !== 'open') return ack;
  const org = payload.repository.owner.login;
  const repo = payload.repository.name;
  const number = payload.issue.number;
  const commenter = payload.comment.user.login;
  const ctx: EventContext = { envelope, org, repo, tenant, log: logger.child({ deliveryId: envelope.id, repo: `${org}/${repo}`, pr: number, user: commenter }) };
  const comment = { user: commenter, body: payload.comment.body, url: payload.comment.html_url };

  const body = commandText(payload.comment.body);
  const presubmits = tools.jobs.presubmits(org, repo);
  if (!mentionsCommand(body, presubmits)) return ack;
  if (isBotLogin(commenter, await tools.bot())) return ack;

  let fetched: Promise<PullRequest> | undefined;
  const pull = () => (fetched ??= fetchPull(tools, ctx, number));
  const approving = OK_TO_TEST.test(body) || OK_TO_TEST_CANCEL.test(body);
  const testing = asksForTests(body, presubmits);
  // The tenant's access rules refuse before anything else, in one reply naming who may (access.ts).
  const refusals: { command: string; allowed: string; reason: RefusalReason }[] = [];
  let testVerdict: AccessVerdict | undefined;
  let approveVerdict: AccessVerdict | undefined;
  for (const [asked, action, command, reason] of [
    [testing, 'test', '/test', 'access-test'],
    [approving, 'ok-to-test', '/ok-to-test', 'access-ok-to-test'],
  ] as const) {
    const rules = tools.access.rulesFor(tenant, action);
    if (!asked || !rules) continue;
    const verdict = await tools.access.check(ctx, action, commenter);
    if (action === 'test') testVerdict = verdict;
    else approveVerdict = verdict;
    if (!verdict.allowed) refusals.push({ command, allowed: describeRules(rules, org, repo), reason });
  }
  if (refusals.length > 0) {
    for (const refusal of refusals) tools.refused(ctx, refusal.reason, 1);
    ctx.log.info({ refused: refusals.map((r) => r.command) }, "the tenant's access rules do not allow the commenter: explained");
    await tools.writer.commentOnce(ctx, number, marker('not-allowed', envelope.id), replyTo(comment, notAllowedReply(refusals, { org, repo, tenant: tenant.name })));
    return ack;
  }
  // Without rules of the tenant, Prow's trust rules decide (TrustChecker remembers the answer, so
  // asking for both costs GitHub one round of questions).
  const mayApprove = async () => (approveVerdict ??= await tools.access.check(ctx, 'ok-to-test', commenter));
  const mayCommand = async () => (testVerdict ??= await tools.access.check(ctx, 'test', commenter));
  // Whoever may command, or approve, acts on any pull request (Prow's trusted commenter).
  const trusted = (await mayCommand()).allowed || (approving && (await mayApprove()).allowed);
  if (!trusted) {
    // The labels of the event are enough to refuse someone; the pull request is fetched only when
    // a per-commit approval needs its head.
    const subject = { number, author: payload.issue.user.login, labels: payload.issue.labels, headSha: async () => (await pull()).head.sha };
    if (!isTestable(await tools.approvals.check(ctx, subject))) {
      ctx.log.info({ reason: testVerdict?.reason }, 'commenter may not start tests on an untrusted pull request: explained');
      await tools.writer.commentOnce(ctx, number, marker('cannot-trigger', envelope.id), replyTo(comment, CANNOT_TRIGGER));
      return ack;
    }
  }

  const pr = await pull();
  if (pr.state !== 'open') return ack;
  // As Prow, every label decision below reads the labels as they were before this comment.
  const labels = pr.labels;
  const okToTest = OK_TO_TEST.test(body);
  if (okToTest && !hasLabel(labels, OK_TO_TEST_LABEL)) await tools.writer.addLabel(ctx, number, OK_TO_TEST_LABEL);
  if ((okToTest || hasLabel(labels, OK_TO_TEST_LABEL)) && hasLabel(labels, NEEDS_OK_TO_TEST_LABEL)) await tools.writer.removeLabel(ctx, number, NEEDS_OK_TO_TEST_LABEL);
  // Only a trusted user's word is an approval (on a trusted pull request anyone's `/ok-to-test`
  // adds the label, as in Prow, but approves no commit).
  if (okToTest && (await mayApprove()).allowed) await tools.approvals.record(ctx, number, pr.head.sha);

  if (OK_TO_TEST_CANCEL.test(body)) {
    if (!(await mayApprove()).allowed) {
      await tools.writer.commentOnce(ctx, number, marker('only-trusted-revoke', envelope.id), replyTo(comment, ONLY_TRUSTED_REVOKE));
      return ack;
    }
    if (hasLabel(labels, OK_TO_TEST_LABEL)) await tools.writer.removeLabel(ctx, number, OK_TO_TEST_LABEL);
    if (!hasLabel(labels, NEEDS_OK_TO_TEST_LABEL)) await tools.writer.addLabel(ctx, number, NEEDS_OK_TO_TEST_LABEL);
    await tools.approvals.forget(ctx, number);
    ctx.log.info('/ok-to-test revoked');
    return ack;
  }

  const filter = await presubmitFilter(body, () => contextsOf(tools, ctx, pr.head.sha));
  const changes = tools.jobs.changedFiles(ctx, number);
  const selected = await filterPresubmits(filter, presubmits, pr.base.ref, changes);
  const help = helpNeeded(body, selected.length);
  if (help) {
    const message = await helpMessage({ org, repo, branch: pr.base.ref }, help.note, presubmits, changes);
    await tools.writer.commentOnce(ctx, number, marker('help', envelope.id), replyTo(comment, message));
    ctx.log.info({ selected: selected.length }, 'answered with the available commands');
    return ack;
  }
  await tools.jobs.start(ctx, pr, selected, { user: commenter, comment: payload.comment.body });
  // A `/test` or `/retest` that needed no help makes earlier help replies stale. Prow prunes them
  // before it creates the jobs; here it is after, so the jobs do not wait on a listing of every
  // comment (issue 21: 10 ms of each comment's path). Should the pruning fail, the event is retried
  // and the jobs, named after the delivery, are not created twice.
  if (ANY_TEST.test(body)) await tools.writer.pruneComments(ctx, number, isHelpComment);
  return ack;
}

/** Whether a comment asks for anything but `/ok-to-test` (or its cancel): `/test`, `/retest`, a job's trigger. */
function asksForTests(body: string, presubmits: readonly Presubmit[]): boolean {
  const rest = body
    .split('\n')
    .filter((line) => !OK_TO_TEST.test(line) && !OK_TO_TEST_CANCEL.test(line))
    .join('\n');
  return mentionsCommand(rest, presubmits);
}

async function fetchPull(tools: PlannerTools, ctx: EventContext, number: number): Promise<PullRequest> {
  const { data } = await tools.github.rest.pulls.get({ owner: ctx.org, repo: ctx.repo, pull_number: number });
  return data as PullRequest;
}

/** The head commit's contexts: the latest state of each (GitHub lists statuses newest first). */
async function contextsOf(tools: PlannerTools, ctx: EventContext, sha: string): Promise<{ failed: Set<string>; all: Set<string> }> {
  const { github } = tools;
  const statuses = await github.paginate(github.rest.repos.listCommitStatusesForRef, { owner: ctx.org, repo: ctx.repo, ref: sha, per_page: 100 });
  const latest = new Map<string, string>();
  for (const status of statuses) if (!latest.has(status.context)) latest.set(status.context, status.state);
  const failed = new Set([...latest].filter(([, state]) => state === 'failure' || state === 'error').map(([context]) => context));
  return { failed, all: new Set(latest.keys()) };
}
