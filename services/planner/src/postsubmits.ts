import { ack, type EventEnvelope, type Outcome } from '@bowline/bus';
import { matchChanges, runsAgainstBranch, type ConfigSource, type Postsubmit } from '@bowline/config';
import type { Logger } from '@bowline/observability';
import { newPostsubmitJob, prowJobName, type ProwJobStore, type Refs } from '@bowline/prowjob';

/** The parts of GitHub's `push` payload that decide which postsubmits run. */
export interface PushPayload {
  ref: string;
  after: string;
  /** The push's comparison page: Prow's `base_link` for a postsubmit. */
  compare?: string;
  deleted?: boolean;
  commits?: { added?: string[]; removed?: string[]; modified?: string[] }[];
  repository: { name: string; html_url?: string; owner: { login?: string; name?: string } };
  sender?: { login?: string };
  pusher?: { name?: string };
}

export interface PushDeps {
  store: ProwJobStore;
  config: ConfigSource;
  logger: Logger;
  now?: () => Date;
  /** Counts each ProwJob created (the planner's `bowline_planner_prowjobs_created_total`). */
  created?: { inc(labels: { event: string; tenant: string }): void };
}

const ZERO_SHA = '0000000000000000000000000000000000000000';

/**
 * Prow's `PushEvent.Branch()`: the ref without `refs/heads/` or `refs/tags/`, so a tag push is
 * matched against `branches`/`skip_branches` by the tag's name, like a branch.
 */
export function pushedRef(ref: string): string {
  return ref.replace(/^refs\/heads\//, '').replace(/^refs\/tags\//, '');
}

/**
 * Prow's `listPushEventChanges`: every file added, removed or modified by any commit of the push.
 * A tag push lists no commits, so a job with file filters does not run on it.
 */
export function pushChanges(payload: PushPayload): string[] {
  const files = new Set<string>();
  for (const commit of payload.commits ?? []) {
    for (const file of [...(commit.added ?? []), ...(commit.removed ?? []), ...(commit.modified ?? [])]) files.add(file);
  }
  return [...files];
}

/**
 * Prow's trigger `handlePE` and `Postsubmit.ShouldRun`: which Jenkins postsubmits a push runs.
 *
 * - A branch deletion, or a push whose `after` is all zeros, runs nothing.
 * - Tags are not special: Prow matches `branches`/`skip_branches` against the tag's name, so a
 *   postsubmit with no `branches` runs on every tag push too, and one listing only `^main$` does not.
 * - `run_if_changed`/`skip_if_only_changed` decide when set; otherwise an explicit `always_run`
 *   decides (`false` runs nothing on push), and a postsubmit that sets neither runs.
 */
export function planPostsubmits(payload: PushPayload, postsubmits: Postsubmit[]): Postsubmit[] {
  if (payload.deleted || payload.after === ZERO_SHA) return [];
  const branch = pushedRef(payload.ref);
  const changes = pushChanges(payload);
  return postsubmits.filter((postsubmit) => {
    if (postsubmit.agent !== 'jenkins' || !runsAgainstBranch(postsubmit, branch)) return false;
    const byFiles = matchChanges(postsubmit, changes);
    if (byFiles.determined) return byFiles.shouldRun;
    return postsubmit.alwaysRun ?? true;
  });
}

/**
 * Creates a ProwJob for each postsubmit the push runs. Names come from the delivery id and the
 * job, so a redelivered push creates nothing new; a store failure throws, and the event is retried.
 */
export async function handlePush(deps: PushDeps, envelope: EventEnvelope): Promise<Outcome> {
  const payload = envelope.payload as unknown as PushPayload;
  const owner = payload.repository?.owner;
  // Prow looks the config up by owner.login and fills refs.org from owner.name; GitHub sends both
  // with the same value on push events, where owner.name is the account name and not a full name.
  const org = owner?.login ?? owner?.name;
  const repo = payload.repository?.name;
  if (!org || !repo || typeof payload.ref !== 'string' || typeof payload.after !== 'string') {
    return { kind: 'drop', reason: 'push event without repository, ref or after' };
  }
  const branch = pushedRef(payload.ref);
  const log = deps.logger.child({ deliveryId: envelope.id, repo: `${org}/${repo}`, ref: payload.ref });
  const configured = deps.config.get().postsubmits[`${org}/${repo}`] ?? [];
  const selected = planPostsubmits(payload, configured);
  if (selected.length === 0) {
    log.debug(payload.deleted || payload.after === ZERO_SHA ? 'ref deleted: nothing started' : 'no postsubmit matched');
    return ack;
  }
  // As Prow's trigger builds them from a push: the repository and the comparison page as links.
  const refs: Refs = {
    org,
    repo,
    ...(payload.repository.html_url ? { repo_link: payload.repository.html_url } : {}),
    base_ref: branch,
    base_sha: payload.after,
    ...(payload.compare ? { base_link: payload.compare } : {}),
  };
  const user = payload.sender?.login ?? payload.pusher?.name;
  const now = (deps.now ?? (() => new Date()))();
  for (const postsubmit of selected) {
    const name = prowJobName(envelope.id, postsubmit.name);
    const job = newPostsubmitJob(postsubmit, { name, refs, now, cause: { event: envelope.event, deliveryId: envelope.id, ...(user ? { user } : {}) } });
    const isNew = await deps.store.create(job);
    if (isNew) deps.created?.inc({ event: envelope.event, tenant: postsubmit.tenant });
    log.info({ job: postsubmit.name, prowjob: name, replay: !isNew }, isNew ? 'ProwJob created' : 'ProwJob exists already');
  }
  return ack;
}
