import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '@bowline/config';
import { newPeriodicJob, newPresubmitJob, type ProwJob, type Refs } from '@bowline/prowjob';
import { buildParameters, jenkinsJobPath } from '../src/build-parameters.js';

const CONFIG = parseConfig(
  `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    always_run: true
    context: ci/jenkins/unit
  - name: team/integration
    agent: jenkins
    context: ci/jenkins/integration
  - name: pr-builder
    agent: jenkins
    context: ci/jenkins/pr-builder
    jenkins_spec:
      github_branch_source_job: true
`,
  'config.yaml',
);

const BASE_SHA = 'b'.repeat(40);
const HEAD_SHA = 'a'.repeat(40);
const REFS: Refs = {
  org: 'acme',
  repo: 'widgets',
  repo_link: 'https://github.com/acme/widgets',
  base_ref: 'master',
  base_sha: BASE_SHA,
  base_link: `https://github.com/acme/widgets/commit/${BASE_SHA}`,
  pulls: [
    {
      number: 7,
      author: 'alice',
      sha: HEAD_SHA,
      title: 'Add sprockets & gears',
      head_ref: 'feature/sprockets',
      link: 'https://github.com/acme/widgets/pull/7',
      commit_link: `https://github.com/acme/widgets/pull/7/commits/${HEAD_SHA}`,
      author_link: 'https://github.com/alice',
    },
  ],
};

function presubmitJob(jobName: string, refs: Refs = REFS): ProwJob {
  const presubmit = CONFIG.presubmits['acme/widgets']!.find((p) => p.name === jobName)!;
  return newPresubmitJob(presubmit, {
    name: '0a1b2c3d-0000-4000-8000-00000000000a',
    refs,
    now: new Date('2024-05-01T10:00:00Z'),
    cause: { event: 'issue_comment', deliveryId: 'delivery-1', user: 'alice' },
  });
}

/** The same job as a postsubmit would have it: the branch only, no pull request. */
function branchJob(jobName: string): ProwJob {
  const job = presubmitJob(jobName);
  return { ...job, spec: { ...job.spec, type: 'postsubmit', refs: { org: 'acme', repo: 'widgets', base_ref: 'master', base_sha: BASE_SHA } } };
}

describe('buildParameters', () => {
  it("gives a presubmit every parameter Prow gives a Jenkins build, from the ProwJob's refs", () => {
    const job = presubmitJob('unit');

    const parameters = buildParameters(job);

    expect(parameters).toEqual({
      CI: 'true',
      BUILD_ID: job.status.build_id,
      PROW_JOB_ID: '0a1b2c3d-0000-4000-8000-00000000000a',
      JOB_NAME: 'unit',
      JOB_TYPE: 'presubmit',
      JOB_SPEC: expect.any(String),
      REPO_OWNER: 'acme',
      REPO_NAME: 'widgets',
      SRC_HOST: 'github.com',
      SRC_BASE: 'acme/widgets',
      PULL_BASE_REF: 'master',
      PULL_BASE_SHA: BASE_SHA,
      PULL_REFS: `master:${BASE_SHA},7:${HEAD_SHA}`,
      PULL_NUMBER: '7',
      PULL_PULL_SHA: HEAD_SHA,
      PULL_HEAD_REF: 'feature/sprockets',
      PULL_TITLE: 'Add sprockets & gears',
    });
    expect(parameters.BUILD_ID).toMatch(/^\d+$/);
  });

  it("puts Prow's JSON job spec in JOB_SPEC, naming the ProwJob and its build, in Go's field order with HTML escaped as Go does", () => {
    const job = presubmitJob('unit');

    const jobSpec = buildParameters(job).JOB_SPEC!;

    expect(JSON.parse(jobSpec)).toEqual({ type: 'presubmit', job: 'unit', buildid: job.status.build_id, prowjobid: job.metadata.name, refs: REFS });
    expect(jobSpec).toBe(
      `{"type":"presubmit","job":"unit","buildid":"${job.status.build_id}","prowjobid":"${job.metadata.name}",` +
        `"refs":{"org":"acme","repo":"widgets","repo_link":"https://github.com/acme/widgets","base_ref":"master","base_sha":"${BASE_SHA}",` +
        `"base_link":"https://github.com/acme/widgets/commit/${BASE_SHA}","pulls":[{"number":7,"author":"alice","sha":"${HEAD_SHA}",` +
        `"title":"Add sprockets \\u0026 gears","head_ref":"feature/sprockets","link":"https://github.com/acme/widgets/pull/7",` +
        `"commit_link":"https://github.com/acme/widgets/pull/7/commits/${HEAD_SHA}","author_link":"https://github.com/alice"}]}}`,
    );
  });

  it('sends a ProwJob written before Bowline stored Prow’s refs fields (head branch in ref) as Prow’s, links from its pull request link', () => {
    const legacy = presubmitJob('unit', {
      org: 'acme',
      repo: 'widgets',
      base_ref: 'master',
      base_sha: BASE_SHA,
      pulls: [{ number: 7, author: 'alice', sha: HEAD_SHA, ref: 'feature/sprockets', title: 'Add sprockets & gears', link: 'https://github.com/acme/widgets/pull/7' }],
    });

    expect(buildParameters(legacy)).toEqual(buildParameters(presubmitJob('unit')));
  });

  it('gives a job without a pull request the branch parameters only', () => {
    const parameters = buildParameters(branchJob('unit'));

    expect(parameters).toMatchObject({ JOB_TYPE: 'postsubmit', PULL_BASE_REF: 'master', PULL_BASE_SHA: BASE_SHA, PULL_REFS: `master:${BASE_SHA}` });
    for (const name of ['PULL_NUMBER', 'PULL_PULL_SHA', 'PULL_HEAD_REF', 'PULL_TITLE']) expect(parameters).not.toHaveProperty(name);
  });

  it('gives a periodic, which has no refs, none of the repository and pull parameters, as Prow does', () => {
    const [nightly] = parseConfig('periodics:\n- name: nightly\n  agent: jenkins\n  interval: 24h\n', 'config.yaml').periodics;
    const job = newPeriodicJob(nightly!, { name: 'p-1', now: new Date('2026-01-01T00:00:00Z'), cause: { scheduledFor: new Date('2026-01-01T00:00:00Z'), schedule: '24h' } });
    const parameters = buildParameters(job);
    expect(Object.keys(parameters).sort()).toEqual(['BUILD_ID', 'CI', 'JOB_NAME', 'JOB_SPEC', 'JOB_TYPE', 'PROW_JOB_ID']);
    expect(JSON.parse(parameters.JOB_SPEC!)).toEqual({ type: 'periodic', job: 'nightly', buildid: job.status.build_id, prowjobid: 'p-1' });
  });

  it('names the full job, folders included, in JOB_NAME', () => {
    expect(buildParameters(presubmitJob('team/integration')).JOB_NAME).toBe('team/integration');
  });
});

describe('jenkinsJobPath', () => {
  it.each([
    ['a plain job', 'job/unit', presubmitJob('unit')],
    ['a job in a folder', 'job/team/job/integration', presubmitJob('team/integration')],
    ["a GitHub Branch Source job's pull request", 'job/pr-builder/view/change-requests/job/PR-7', presubmitJob('pr-builder')],
    ["a GitHub Branch Source job's branch", 'job/pr-builder/job/master', branchJob('pr-builder')],
  ])('addresses %s as %s', (_, path, job) => {
    expect(jenkinsJobPath(job)).toBe(path);
  });
});
