import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '@bowline/config';
import { newPeriodicJob, newPostsubmitJob, newPresubmitJob, type ProwJob, type Refs } from '@bowline/prowjob';
import { waitFor } from '@bowline/testing';
import { OperatorHarness } from './harness.js';

/*
 * Prow's TestEnvironmentForSpec (pkg/pod-utils/downwardapi/jobspec_test.go): the environment Prow
 * gives a job, which its jenkins-operator sends a Jenkins build as parameters
 * (jenkins.BuildFromSpec). Each case's ProwJob goes into the bucket; what is checked is what the
 * test Jenkins received with `buildWithParameters`, every parameter and JOB_SPEC byte for byte.
 *
 * "kubernetes agent": Prow adds BUILD_NUMBER for a pod; Bowline runs no pods, and the operator
 * starts nothing for a job of another agent, which this row asserts instead.
 */
const JOB = 'job-name';

/** The case's job as config.yaml would define it, under org-name/repo-name. */
function config(extra = '') {
  return parseConfig(
    `
periodics:
- {name: ${JOB}, agent: jenkins, interval: 1h}
presubmits:
  org-name/repo-name:
  - {name: ${JOB}, agent: jenkins}
postsubmits:
  org-name/repo-name:
  - {name: ${JOB}, agent: jenkins${extra}}
bowline:
  jenkins_operator:
    resync_period: 1h
`,
    'config.yaml',
  );
}

const CAUSE = { event: 'test', deliveryId: 'environment-for-spec' };
// Now: a job older than max_pending (24 h) would be ended, not started.
const NOW = new Date();
const BRANCH: Refs = { org: 'org-name', repo: 'repo-name', base_ref: 'base-ref', base_sha: 'base-sha' };

/** Go's `BuildID: "0"` and `ProwJobID: "prowjob"`. */
function named(job: ProwJob): ProwJob {
  return { ...job, metadata: { ...job.metadata, name: 'prowjob' }, status: { ...job.status, build_id: '0' } };
}

function periodic(agent = 'jenkins'): ProwJob {
  const job = named(newPeriodicJob(config().periodics[0]!, { name: 'prowjob', now: NOW, cause: { scheduledFor: NOW, schedule: '1h' } }));
  return { ...job, spec: { ...job.spec, agent } };
}

function postsubmit(refs: Refs, extra = ''): ProwJob {
  return named(newPostsubmitJob(config(extra).postsubmits['org-name/repo-name']![0]!, { name: 'prowjob', refs, now: NOW, cause: CAUSE }));
}

function presubmit(refs: Refs, type: ProwJob['spec']['type'] = 'presubmit'): ProwJob {
  const job = named(newPresubmitJob(config().presubmits['org-name/repo-name']![0]!, { name: 'prowjob', refs, now: NOW, cause: CAUSE }));
  return { ...job, spec: { ...job.spec, type } };
}

const CASES: [string, () => ProwJob, Record<string, string> | undefined][] = [
  [
    'periodic job',
    () => periodic(),
    {
      CI: 'true',
      JOB_NAME: 'job-name',
      BUILD_ID: '0',
      PROW_JOB_ID: 'prowjob',
      JOB_TYPE: 'periodic',
      JOB_SPEC: `{"type":"periodic","job":"job-name","buildid":"0","prowjobid":"prowjob"}`,
    },
  ],
  [
    'postsubmit job',
    () => postsubmit(BRANCH),
    {
      CI: 'true',
      JOB_NAME: 'job-name',
      BUILD_ID: '0',
      PROW_JOB_ID: 'prowjob',
      JOB_TYPE: 'postsubmit',
      JOB_SPEC: `{"type":"postsubmit","job":"job-name","buildid":"0","prowjobid":"prowjob","refs":{"org":"org-name","repo":"repo-name","base_ref":"base-ref","base_sha":"base-sha"}}`,
      REPO_OWNER: 'org-name',
      REPO_NAME: 'repo-name',
      SRC_BASE: 'org-name/repo-name',
      SRC_HOST: 'github.com',
      PULL_BASE_REF: 'base-ref',
      PULL_BASE_SHA: 'base-sha',
      PULL_REFS: 'base-ref:base-sha',
    },
  ],
  [
    'batch job',
    () =>
      presubmit(
        {
          ...BRANCH,
          pulls: [
            { number: 1, author: 'author-name', sha: 'pull-sha', head_ref: 'branch-name-1' },
            { number: 2, author: 'other-author-name', sha: 'second-pull-sha', head_ref: 'branch-name-2' },
          ],
        },
        'batch',
      ),
    {
      CI: 'true',
      JOB_NAME: 'job-name',
      BUILD_ID: '0',
      PROW_JOB_ID: 'prowjob',
      JOB_TYPE: 'batch',
      JOB_SPEC: `{"type":"batch","job":"job-name","buildid":"0","prowjobid":"prowjob","refs":{"org":"org-name","repo":"repo-name","base_ref":"base-ref","base_sha":"base-sha","pulls":[{"number":1,"author":"author-name","sha":"pull-sha","head_ref":"branch-name-1"},{"number":2,"author":"other-author-name","sha":"second-pull-sha","head_ref":"branch-name-2"}]}}`,
      REPO_OWNER: 'org-name',
      REPO_NAME: 'repo-name',
      SRC_BASE: 'org-name/repo-name',
      SRC_HOST: 'github.com',
      PULL_BASE_REF: 'base-ref',
      PULL_BASE_SHA: 'base-sha',
      PULL_REFS: 'base-ref:base-sha,1:pull-sha,2:second-pull-sha',
    },
  ],
  [
    'presubmit job',
    () => presubmit({ ...BRANCH, pulls: [{ number: 1, author: 'author-name', sha: 'pull-sha', head_ref: 'branch-name', title: 'pull-title' }] }),
    {
      CI: 'true',
      JOB_NAME: 'job-name',
      BUILD_ID: '0',
      PROW_JOB_ID: 'prowjob',
      JOB_TYPE: 'presubmit',
      JOB_SPEC: `{"type":"presubmit","job":"job-name","buildid":"0","prowjobid":"prowjob","refs":{"org":"org-name","repo":"repo-name","base_ref":"base-ref","base_sha":"base-sha","pulls":[{"number":1,"author":"author-name","sha":"pull-sha","title":"pull-title","head_ref":"branch-name"}]}}`,
      REPO_OWNER: 'org-name',
      REPO_NAME: 'repo-name',
      SRC_BASE: 'org-name/repo-name',
      SRC_HOST: 'github.com',
      PULL_BASE_REF: 'base-ref',
      PULL_BASE_SHA: 'base-sha',
      PULL_REFS: 'base-ref:base-sha,1:pull-sha',
      PULL_HEAD_REF: 'branch-name',
      PULL_NUMBER: '1',
      PULL_PULL_SHA: 'pull-sha',
      PULL_TITLE: 'pull-title',
    },
  ],
  [
    'postsubmit job with path alias',
    // Prow's refs get the job's path_alias from its config (pjutil.CompletePrimaryRefs).
    () => postsubmit(BRANCH, ', path_alias: k8s.io/repo-name'),
    {
      CI: 'true',
      JOB_NAME: 'job-name',
      BUILD_ID: '0',
      PROW_JOB_ID: 'prowjob',
      JOB_TYPE: 'postsubmit',
      JOB_SPEC: `{"type":"postsubmit","job":"job-name","buildid":"0","prowjobid":"prowjob","refs":{"org":"org-name","repo":"repo-name","base_ref":"base-ref","base_sha":"base-sha","path_alias":"k8s.io/repo-name"}}`,
      REPO_OWNER: 'org-name',
      REPO_NAME: 'repo-name',
      SRC_BASE: 'repo-name',
      SRC_HOST: 'k8s.io',
      PULL_BASE_REF: 'base-ref',
      PULL_BASE_SHA: 'base-sha',
      PULL_REFS: 'base-ref:base-sha',
    },
  ],
  [
    'postsubmit job with repo link',
    () => postsubmit({ ...BRANCH, repo_link: 'https://gitlab.com/org-name/repo-name' }),
    {
      CI: 'true',
      JOB_NAME: 'job-name',
      BUILD_ID: '0',
      PROW_JOB_ID: 'prowjob',
      JOB_TYPE: 'postsubmit',
      JOB_SPEC: `{"type":"postsubmit","job":"job-name","buildid":"0","prowjobid":"prowjob","refs":{"org":"org-name","repo":"repo-name","repo_link":"https://gitlab.com/org-name/repo-name","base_ref":"base-ref","base_sha":"base-sha"}}`,
      REPO_OWNER: 'org-name',
      REPO_NAME: 'repo-name',
      SRC_BASE: 'org-name/repo-name',
      SRC_HOST: 'gitlab.com',
      PULL_BASE_REF: 'base-ref',
      PULL_BASE_SHA: 'base-sha',
      PULL_REFS: 'base-ref:base-sha',
    },
  ],
  // Not applicable: Bowline starts no pods (see the note above); nothing reaches Jenkins.
  ['kubernetes agent', () => periodic('kubernetes'), undefined],
  [
    'jenkins agent',
    () => periodic('jenkins'),
    {
      CI: 'true',
      JOB_NAME: 'job-name',
      BUILD_ID: '0',
      PROW_JOB_ID: 'prowjob',
      JOB_TYPE: 'periodic',
      JOB_SPEC: `{"type":"periodic","job":"job-name","buildid":"0","prowjobid":"prowjob"}`,
    },
  ],
];

describe('TestEnvironmentForSpec', () => {
  const harness = new OperatorHarness([JOB]);

  it.each(CASES)('TestEnvironmentForSpec: "%s"', async (_, make, expected) => {
    await harness.startOperator(config());
    await harness.create(make());

    if (expected === undefined) {
      // A Jenkins job created after it is started; by then the operator has passed it by.
      const after = periodic();
      await harness.create({ ...after, metadata: { ...after.metadata, name: 'after-it' } });
      await waitFor('the later job queued', () => harness.jenkins.findQueueItem('after-it'));
      expect(harness.buildRequests('prowjob')).toBe(0);
      return;
    }
    const item = await waitFor('the queued build', () => harness.jenkins.findQueueItem('prowjob'));
    expect(item.parameters).toEqual(expected);
  });
});
