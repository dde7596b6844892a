import type { Presubmit } from '@bowline/config';
import { isFinished, type ProwJobStore, type StoredProwJob } from '@bowline/prowjob';
import type { AccessRules } from './access.js';
import type { PullRequestWriter } from './comments-and-labels.js';
import { marker, quotaReply, teamsOnlyReply } from './messages.js';
import type { EventContext } from './pull-request.js';
import { isBotLogin } from './trust.js';

/** Why a job asked for was not started; the label of `bowline_planner_refusals_total`. */
export type RefusalReason = 'access-test' | 'access-ok-to-test' | 'allowed-teams' | 'max-jobs-per-pr';

export interface GateDeps {
  store: ProwJobStore;
  access: AccessRules;
  writer: PullRequestWriter;
  bot: () => Promise<string>;
  refused: (ctx: EventContext, reason: RefusalReason, count: number) => void;
}

/** Who asked for the jobs: the commenter (with their comment), or for a run on its own whose it is. */
export interface Asker {
  user: string;
  comment?: string;
}

/**
 * A job's `allowed_teams` (beyond Prow, whose nearest rule is `rerun_auth_config` for Deck's rerun
 * button): it starts only for a member of one of those teams, whoever asks and however. A comment
 * asking for it from anyone else gets one reply naming the teams; a run on its own (a pull request
 * opened or pushed to, labelled `lgtm` or `ok-to-test`) counts as asked by the pull request's
 * author or the labeller, and skips it silently (a reply on every push would be noise): a team
 * member then asks for it by name.
 */
export async function withinAllowedTeams(deps: GateDeps, ctx: EventContext, number: number, jobs: readonly Presubmit[], asker: Asker): Promise<Presubmit[]> {
  if (!jobs.some((job) => job.allowedTeams.length > 0)) return [...jobs];
  const bot = isBotLogin(asker.user, await deps.bot());
  const permitted: Presubmit[] = [];
  const refused: Presubmit[] = [];
  for (const job of jobs) {
    if (job.allowedTeams.length === 0 || bot || (await deps.access.inTeams(job.allowedTeams, asker.user))) permitted.push(job);
    else refused.push(job);
  }
  if (refused.length === 0) return permitted;
  deps.refused(ctx, 'allowed-teams', refused.length);
  ctx.log.info({ jobs: refused.map((j) => j.name) }, 'not in the jobs’ allowed_teams: not started');
  if (asker.comment !== undefined) {
    await deps.writer.commentOnce(ctx, number, marker('allowed-teams', ctx.envelope.id), `@${asker.user}: ${teamsOnlyReply(refused)}`);
  }
  return permitted;
}

/**
 * The pull request's unfinished presubmits, except those this very event created (a redelivery
 * must neither count nor abort its own jobs).
 */
export async function unfinishedOfOtherEvents(store: Pick<ProwJobStore, 'list'>, ctx: EventContext, number: number): Promise<StoredProwJob[]> {
  return (await store.list()).filter(
    ({ job }) =>
      job.spec.type === 'presubmit' &&
      !isFinished(job) &&
      job.spec.refs.org === ctx.org &&
      job.spec.refs.repo === ctx.repo &&
      job.spec.refs.pulls?.[0]?.number === number &&
      job.metadata.annotations?.['bowline.dev/delivery-id'] !== ctx.envelope.id,
  );
}

/**
 * `quotas.max_jobs_per_pr`: the pull request's unfinished presubmits plus the new ones stay within
 * it. The new ones are started up to the limit, required jobs before optional ones (a required
 * status blocks the merge), and the rest are named in one reply per event. Jobs this very event
 * created before (a redelivery) are not counted against it, so a redelivery starts the same set.
 */
export async function withinQuota(deps: GateDeps, ctx: EventContext, number: number, jobs: readonly Presubmit[], asker: Asker): Promise<Presubmit[]> {
  const limit = ctx.tenant.quotas.maxJobsPerPr;
  if (limit <= 0 || jobs.length === 0) return [...jobs];
  const unfinished = (await unfinishedOfOtherEvents(deps.store, ctx, number)).length;
  const room = Math.max(0, limit - unfinished);
  if (jobs.length <= room) return [...jobs];
  const ordered = [...jobs.filter((j) => !j.optional), ...jobs.filter((j) => j.optional)];
  const started = ordered.slice(0, room);
  const skipped = ordered.slice(room).map((j) => j.name);
  deps.refused(ctx, 'max-jobs-per-pr', skipped.length);
  ctx.log.info({ limit, unfinished, skipped }, 'max_jobs_per_pr reached: some jobs not started');
  const text = quotaReply({ tenant: ctx.tenant.name, limit, unfinished, started: started.length, skipped });
  await deps.writer.commentOnce(ctx, number, marker('quota', ctx.envelope.id), asker.comment !== undefined ? `@${asker.user}: ${text}` : text);
  return jobs.filter((j) => started.includes(j));
}
