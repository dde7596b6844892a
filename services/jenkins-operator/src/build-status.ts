import type { Config } from '@bowline/config';
import type { JenkinsBuild } from '@bowline/jenkins';
import type { Logger } from '@bowline/observability';
import { prowJobTemplateView, type ProwJob, type ProwJobState } from '@bowline/prowjob';
import { DESCRIPTIONS } from './job-records.js';

const RESULT_STATES: Record<string, ProwJobState> = {
  SUCCESS: 'success',
  FAILURE: 'failure',
  UNSTABLE: 'failure',
  ABORTED: 'aborted',
};

/** What a Jenkins build makes of its ProwJob. */
export interface BuildStatus {
  state: ProwJobState;
  description: string;
  finished: boolean;
}

/**
 * The state and description Prow's jenkins-operator gives a job for its build (syncPendingJob):
 * running while `building` or without a result (a matrix build can carry a result while it
 * still runs), else its result. A result Prow has no state for (NOT_BUILT) is an error here, where
 * Prow would leave the job pending for good.
 */
export function buildStatus(build: JenkinsBuild): BuildStatus {
  if (build.building || build.result === null) return { state: 'pending', description: DESCRIPTIONS.pending, finished: false };
  const state = RESULT_STATES[build.result];
  if (!state) return { state: 'error', description: `Jenkins build ended with result ${build.result}.`, finished: true };
  return { state, description: DESCRIPTIONS[state as 'success' | 'failure' | 'aborted'], finished: true };
}

/**
 * The link GitHub shows for the build: the `job_url_template` of the first `jenkins_operators`
 * entry whose selector takes the job, run over the job as it is about to be written (its new
 * state, build number and pod name, as Prow runs it in syncPendingJob); without a template, or
 * when the template fails on this job, the build's own page.
 */
export function buildLink(next: ProwJob, build: JenkinsBuild, config: Config, log: Logger): string {
  const entry = config.jenkinsOperators.find((o) => o.labelSelector.matches(next.metadata.labels));
  if (!entry?.jobUrlTemplate) return build.url;
  try {
    return entry.jobUrlTemplate.execute(prowJobTemplateView(next));
  } catch (error) {
    log.warn({ err: error }, 'job_url_template failed: linking the build page instead');
    return build.url;
  }
}
