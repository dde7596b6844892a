import { hasRefs, pullRefs, type ProwJob } from '@bowline/prowjob';
import { JenkinsClient } from '@bowline/jenkins';

/** The parameters Prow gives every Jenkins build; the Jenkins job must declare them. */
export function buildParameters(job: ProwJob): Record<string, string> {
  const { spec, status, metadata } = job;
  const refs = spec.refs;
  const pull = refs.pulls?.[0];
  // A periodic has no refs, and Prow then sends none of the REPO_ and PULL_ parameters.
  const withRefs = hasRefs(refs);
  const jobSpec = {
    type: spec.type,
    job: spec.job,
    buildid: status.build_id ?? '',
    prowjobid: metadata.name,
    ...(withRefs ? { refs } : {}),
  };
  const parameters: Record<string, string> = {
    BUILD_ID: status.build_id ?? '',
    PROW_JOB_ID: metadata.name,
    JOB_NAME: spec.job,
    JOB_TYPE: spec.type,
    JOB_SPEC: JSON.stringify(jobSpec),
  };
  if (withRefs) {
    Object.assign(parameters, {
      REPO_OWNER: refs.org,
      REPO_NAME: refs.repo,
      PULL_BASE_REF: refs.base_ref,
      PULL_BASE_SHA: refs.base_sha,
      PULL_REFS: pullRefs(refs),
    });
  }
  if (spec.type === 'presubmit' && pull) {
    parameters.PULL_NUMBER = String(pull.number);
    parameters.PULL_PULL_SHA = pull.sha;
    parameters.PULL_HEAD_REF = pull.ref ?? '';
    parameters.PULL_TITLE = pull.title ?? '';
  }
  return parameters;
}

/**
 * Where the job's builds live on Jenkins: `a/b` is the folder path `job/a/job/b`; a GitHub Branch
 * Source job builds each pull request as `PR-N` under `view/change-requests` and each branch under
 * its name.
 */
export function jenkinsJobPath(job: ProwJob): string {
  const base = JenkinsClient.jobPath(job.spec.job);
  if (!job.spec.jenkins_spec?.github_branch_source_job) return base;
  const pull = job.spec.refs.pulls?.[0];
  if (job.spec.type === 'presubmit' && pull) return `${base}/view/change-requests/job/PR-${pull.number}`;
  return `${base}/job/${encodeURIComponent(job.spec.refs.base_ref)}`;
}
