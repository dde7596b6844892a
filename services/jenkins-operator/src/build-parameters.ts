import { hasRefs, prowRefsOf, pullRefs, type ProwJob } from '@bowline/prowjob';
import { JenkinsClient } from '@bowline/jenkins';

/** Where a repository lives when its refs name no host (Prow's github.DefaultHost). */
const DEFAULT_SOURCE_HOST = 'github.com';

/**
 * What Prow's jenkins-operator sends a build (`downwardapi.EnvForSpec` over `NewJobSpec`): `CI`,
 * the job's identity and `JOB_SPEC` always; the repository and base for anything with refs; the
 * pull request for presubmits. The Jenkins job must declare the ones its build reads.
 */
export function buildParameters(job: ProwJob): Record<string, string> {
  const { spec, status, metadata } = job;
  // A periodic has no refs (Prow's nil Spec.Refs), and then gets none of the repository parameters.
  const refs = hasRefs(spec.refs) ? prowRefsOf(spec.refs) : undefined;
  const buildId = status.build_id ?? '';
  // JobSpec's fields in Go's order, each `omitempty`.
  const jobSpec = omitEmpty({ type: spec.type, job: spec.job, buildid: buildId, prowjobid: metadata.name, refs });
  const parameters: Record<string, string> = {
    CI: 'true',
    JOB_NAME: spec.job,
    BUILD_ID: buildId,
    PROW_JOB_ID: metadata.name,
    JOB_TYPE: spec.type,
    JOB_SPEC: goJson(jobSpec),
  };
  if (spec.type === 'periodic' || !refs) return parameters;
  const [srcHost, srcBase] = sourcePath(refs.org, refs.repo, refs.path_alias, refs.repo_link);
  Object.assign(parameters, {
    REPO_OWNER: refs.org,
    REPO_NAME: refs.repo,
    SRC_HOST: srcHost,
    SRC_BASE: srcBase,
    PULL_BASE_REF: refs.base_ref ?? '',
    PULL_BASE_SHA: refs.base_sha ?? '',
    PULL_REFS: pullRefs(refs),
  });
  const pull = refs.pulls?.[0];
  if (spec.type !== 'presubmit' || !pull) return parameters;
  parameters.PULL_NUMBER = String(pull.number);
  parameters.PULL_PULL_SHA = pull.sha;
  parameters.PULL_HEAD_REF = pull.head_ref ?? '';
  parameters.PULL_TITLE = pull.title ?? '';
  return parameters;
}

/**
 * `SRC_HOST` and `SRC_BASE`, as Prow works them out (mirroring clone.PathForRefs): from
 * `path_alias` (`host/base`, or a host alone), else from the repository's link, else
 * `github.com` and `org/repo`.
 */
function sourcePath(org: string, repo: string, pathAlias: string | undefined, repoLink: string | undefined): [string, string] {
  const orgRepo = `${org}/${repo}`;
  const split = (text: string): [string, string] => {
    const slash = text.indexOf('/');
    return slash === -1 ? [text, orgRepo] : [text.slice(0, slash), text.slice(slash + 1)];
  };
  if (pathAlias) return split(pathAlias);
  if (repoLink) return split(repoLink.split('://').at(-1)!);
  return [DEFAULT_SOURCE_HOST, orgRepo];
}

function omitEmpty<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== '')) as Partial<T>;
}

/**
 * JSON as Go's encoding/json writes it: like JSON.stringify, but with `<`, `>` and `&` escaped (Go
 * escapes HTML by default) and U+2028/U+2029 too, so JOB_SPEC is Prow's byte for byte.
 */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
