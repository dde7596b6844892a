import { isFinished, type ProwJob } from '@bowline/prowjob';

/**
 * The descriptions the operator gives ProwJobs; GitHub shows them next to each status. Where Prow's
 * jenkins-operator has a word for the state (pkg/jenkins/controller.go) it is Prow's; the others
 * say what Bowline does where Prow has no such case.
 */
export const DESCRIPTIONS = {
  triggered: 'Job triggered.',
  enqueued: 'Jenkins job enqueued.',
  pending: 'Jenkins job running.',
  success: 'Jenkins job succeeded.',
  failure: 'Jenkins job failed.',
  aborted: 'Jenkins job aborted.',
  superseded: 'Aborted as the newer version of this job is running.',
  startError: 'Error starting Jenkins job.',
  notFound: 'Error finding Jenkins job.',
  neverFound: 'Error finding Jenkins job: the Jenkins job must declare the BUILD_ID and PROW_JOB_ID parameters.',
  cancelled: 'Aborted: the build was cancelled in Jenkins.',
  priming: 'Waiting: the Jenkins pipeline declares its parameters in its Jenkinsfile and has never run; a first run is priming it.',
} as const;

/** Set on an aborted ProwJob once its build was stopped, so it is stopped once. */
export const BUILD_STOPPED = 'bowline.dev/build-stopped';
/**
 * The id of the queue item the operator's `buildWithParameters` became (from its `Location`, or
 * from the queue listing after a restart): Jenkins' record of that item is what tells a build
 * cancelled in the queue from one that was lost.
 */
export const QUEUE_ITEM = 'bowline.dev/queue-item';
/**
 * When the build was handed to Jenkins: the grace for a build that cannot be found counts from
 * here, and its presence is what marks the job handed over (never its description, which is text
 * for GitHub).
 */
export const ENQUEUED_AT = 'bowline.dev/enqueued-at';

/**
 * Whether the operator has work on the job: an unfinished Jenkins job, or an aborted one whose
 * build has not been stopped yet (the planner aborts a ProwJob on a newer push or a closed pull
 * request, and the operator stops its build).
 */
export function needsSync(job: ProwJob): boolean {
  if (job.spec.agent !== 'jenkins') return false;
  if (!isFinished(job)) return true;
  return job.status.state === 'aborted' && !job.metadata.annotations[BUILD_STOPPED];
}

/** Handed to Jenkins by an operator: enqueued, or with a queue item on record. */
export function isHandedOver(job: ProwJob): boolean {
  return job.metadata.annotations[ENQUEUED_AT] !== undefined || job.metadata.annotations[QUEUE_ITEM] !== undefined;
}

export function queueItemOf(job: ProwJob): number | undefined {
  const id = Number(job.metadata.annotations[QUEUE_ITEM]);
  return Number.isInteger(id) && id > 0 ? id : undefined;
}

/** The build number the job follows, once it has one. */
export function followedBuildOf(job: ProwJob): number | undefined {
  const number = Number(job.status.jenkins_build_id);
  return job.status.jenkins_build_id && Number.isInteger(number) && number > 0 ? number : undefined;
}

/** `…/queue/item/{id}/` → id; a shortcut to the item's record, never how a build is found. */
export function queueIdFrom(queueUrl: string | undefined): number | undefined {
  const match = /\/queue\/item\/(\d+)\/?$/.exec(queueUrl ?? '');
  return match ? Number(match[1]) : undefined;
}

/** Creation order, then name, so two jobs created in the same millisecond still have an order. */
export function byCreation(a: ProwJob, b: ProwJob): number {
  const at = Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp);
  if (at !== 0 && !Number.isNaN(at)) return at;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}
