import { ack, type EventEnvelope, type Outcome } from '@bowline/bus';
import type { Tenant } from '@bowline/config';
import type { Logger } from '@bowline/observability';
import { isTestable, type ApprovalSubject } from './approval.js';
import { DRAFT_COMMENT, LGTM_LABEL, marker, NEEDS_OK_TO_TEST_LABEL, OK_TO_TEST_LABEL, orgInvitationGuidance, welcomeComment } from './messages.js';
import type { PlannerTools } from './planner-tools.js';
import { hasLabel, webHost, type EventContext, type PullRequest, type Repository } from './pull-request.js';
import { isBotLogin } from './trust.js';

export interface PullRequestPayload {
  action: string;
  pull_request: PullRequest;
  repository: Repository;
  sender?: { login: string };
  label?: { name: string };
  changes?: { base?: { ref?: { from?: string }; sha?: { from?: string } } };
}

/** Prow's description of a job its trigger aborted, which GitHub then shows on the status. */
const ABORTED = 'Aborted by trigger plugin.';

/** Prow shows its prominent invitation to join the org from this many merged pull requests on. */
const MERGED_PULL_REQUESTS_FOR_TIP = 3;

/**
 * Prow's trigger for pull request events (handlePR). A repository without Jenkins presubmits is
 * left alone, welcome included.
 */
export async function handlePullRequest(tools: PlannerTools, envelope: EventEnvelope<PullRequestPayload>, tenant: Tenant, logger: Logger): Promise<Outcome> {
  const { payload } = envelope;
  const pr = payload.pull_request;
  const org = payload.repository.owner.login;
  const repo = payload.repository.name;
  const ctx: EventContext = { envelope, org, repo, tenant, log: logger.child({ deliveryId: envelope.id, repo: `${org}/${repo}`, pr: pr.number, user: pr.user.login }) };
  if (tools.jobs.presubmits(org, repo).length === 0) return ack;

  switch (payload.action) {
    case 'opened':
      await opened(tools, ctx, payload);
      return ack;
    case 'reopened':
    case 'ready_for_review':
      await startIfTrusted(tools, ctx, pr);
      return ack;
    case 'edited':
      // Only a new base needs new results.
      if (payload.changes?.base?.ref?.from || payload.changes?.base?.sha?.from) await startIfTrusted(tools, ctx, pr);
      return ack;
    case 'synchronize':
      await tools.jobs.abortUnfinished(ctx, pr.number, ABORTED, 'a newer commit was pushed');
      await startIfTrusted(tools, ctx, pr);
      return ack;
    case 'labeled':
      await labeled(tools, ctx, payload);
      return ack;
    case 'closed':
      await tools.jobs.abortUnfinished(ctx, pr.number, ABORTED, 'the pull request was closed');
      return ack;
    case 'converted_to_draft':
      await tools.jobs.abortUnfinished(ctx, pr.number, ABORTED, 'the pull request became a draft');
      return ack;
    default:
      return ack;
  }
}

/**
 * A trusted author's pull request runs at once (a draft gets Prow's note instead); anyone else's
 * gets the welcome and `needs-ok-to-test`, unless `ok-to-test` is on it already (put there by an
 * automation), and runs nothing until a trusted user asks.
 */
async function opened(tools: PlannerTools, ctx: EventContext, payload: PullRequestPayload): Promise<void> {
  const pr = payload.pull_request;
  const author = await tools.access.author(ctx, pr.user.login);
  if (author.trusted) {
    if (pr.draft) {
      await tools.writer.commentOnce(ctx, pr.number, marker('draft', String(pr.number)), DRAFT_COMMENT);
      ctx.log.info('draft pull request: nothing started until it is ready for review');
      return;
    }
    await tools.jobs.startDefaultSet(ctx, pr, { user: pr.user.login });
    return;
  }
  const host = webHost(payload.repository);
  const joinOrgUrl = `https://${host}/orgs/${ctx.org}/people`;
  const guidance = orgInvitationGuidance(joinOrgUrl, await hasMergedBefore(tools, ctx, pr));
  const welcome = welcomeComment({ author: pr.user.login, org: ctx.org, trustedOrgs: tools.config.get().bowline.trust.trustedOrgs, host, guidance });
  // Fresh labels, not the event's: an automation may have added `ok-to-test` a moment ago.
  if (!hasLabel(await tools.writer.labels(ctx, pr.number), OK_TO_TEST_LABEL)) await tools.writer.addLabel(ctx, pr.number, NEEDS_OK_TO_TEST_LABEL);
  await tools.writer.commentOnce(ctx, pr.number, marker('welcome', String(pr.number)), welcome);
  ctx.log.info({ reason: author.reason }, 'author not trusted: welcomed, waiting for /ok-to-test');
}

/**
 * Prow's shouldHighlightJoinOrgMessage: whether the author has had enough pull requests merged in
 * the org to be shown the prominent invitation. Bots are not invited, and a failed search only
 * costs the highlight.
 */
async function hasMergedBefore(tools: PlannerTools, ctx: EventContext, pr: PullRequest): Promise<boolean> {
  if (pr.user.type === 'Bot') return false;
  try {
    const { data } = await tools.github.rest.search.issuesAndPullRequests({ q: `type:pr is:merged org:${ctx.org} author:${pr.user.login}` });
    return data.total_count >= MERGED_PULL_REQUESTS_FOR_TIP;
  } catch (error) {
    ctx.log.debug({ err: error }, 'cannot count merged pull requests for the invitation to join the org');
    return false;
  }
}

/** Prow's buildAllIfTrusted: the default set, for a trusted pull request that is not a draft. */
async function startIfTrusted(tools: PlannerTools, ctx: EventContext, pr: PullRequest): Promise<void> {
  const trust = await tools.approvals.check(ctx, subjectOf(pr));
  if (!isTestable(trust)) {
    ctx.log.info('pull request not trusted: nothing started');
    return;
  }
  // As Prow, `needs-ok-to-test` is cleaned up only where the labels decided the trust.
  if (trust === 'approved' && hasLabel(pr.labels, NEEDS_OK_TO_TEST_LABEL)) await tools.writer.removeLabel(ctx, pr.number, NEEDS_OK_TO_TEST_LABEL);
  await startUnlessDraft(tools, ctx, pr, { user: pr.user.login });
}

/**
 * `lgtm` on a pull request that is not trusted runs its tests once (Prow: reviewers have looked at
 * it); `ok-to-test` added by a person, not by the bot answering `/ok-to-test`, runs them too.
 */
async function labeled(tools: PlannerTools, ctx: EventContext, payload: PullRequestPayload): Promise<void> {
  const pr = payload.pull_request;
  const label = payload.label?.name;
  if (label === LGTM_LABEL && !isTestable(await tools.approvals.trustOf(ctx, subjectOf(pr)))) {
    ctx.log.info('untrusted pull request got lgtm: its tests run once');
    await startUnlessDraft(tools, ctx, pr, { user: payload.sender?.login ?? pr.user.login });
    return;
  }
  if (label !== OK_TO_TEST_LABEL || !payload.sender || isBotLogin(payload.sender.login, await tools.bot())) return;
  // Labelling by hand is an approval too (GitHub lets only people with triage rights do it).
  await tools.approvals.record(ctx, pr.number, pr.head.sha);
  await startUnlessDraft(tools, ctx, pr, { user: payload.sender.login });
}

async function startUnlessDraft(tools: PlannerTools, ctx: EventContext, pr: PullRequest, cause: { user: string }): Promise<void> {
  if (pr.draft) {
    ctx.log.info('draft pull request: nothing started until it is ready for review');
    return;
  }
  await tools.jobs.startDefaultSet(ctx, pr, cause);
}

function subjectOf(pr: PullRequest): ApprovalSubject {
  return { number: pr.number, author: pr.user.login, labels: pr.labels, headSha: async () => pr.head.sha };
}
