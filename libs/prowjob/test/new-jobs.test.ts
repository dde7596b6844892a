import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '@bowline/config';
import { newPeriodicJob, newPostsubmitJob, newPresubmitJob, PERIODIC_REFS, prowJobName } from '../src/prowjob.js';

const config = parseConfig(
  `
postsubmits:
  acme/widgets:
  - name: publish/images
    agent: jenkins
    context: ci/jenkins/publish
    max_concurrency: 1
    labels: {team: infra}
    annotations: {owner: infra@acme.example}
    jenkins_spec: {github_branch_source_job: true}
  - name: quiet
    agent: jenkins
    skip_report: true
periodics:
- name: nightly/e2e
  agent: jenkins
  cron: "0 3 * * *"
  max_concurrency: 2
  labels: {team: qa}
  annotations: {owner: qa@acme.example}
`,
  'config.yaml',
);
const [publish, quiet] = config.postsubmits['acme/widgets']!;
const [nightly] = config.periodics;
const NOW = new Date('2026-02-03T04:05:06.000Z');
const refs = { org: 'acme', repo: 'widgets', base_ref: 'release/v1.2', base_sha: 'c'.repeat(40) };

describe('newPostsubmitJob', () => {
  const job = newPostsubmitJob(publish!, {
    name: prowJobName('delivery-9', 'publish/images'),
    refs,
    now: NOW,
    cause: { event: 'push', deliveryId: 'delivery-9', user: 'alice' },
  });

  it('labels the job as Prow does, with the job, type and pushed ref', () => {
    expect(job.metadata.labels).toEqual({
      team: 'infra',
      'created-by-prow': 'true',
      'prow.k8s.io/type': 'postsubmit',
      'prow.k8s.io/job': 'publish_images',
      'bowline.dev/tenant': 'default',
      'prow.k8s.io/refs.org': 'acme',
      'prow.k8s.io/refs.repo': 'widgets',
      'prow.k8s.io/refs.base_ref': 'release_v1.2',
    });
  });

  it('keeps the full job name and the push that caused it in annotations', () => {
    expect(job.metadata.annotations).toEqual({
      owner: 'infra@acme.example',
      'prow.k8s.io/job': 'publish/images',
      'bowline.dev/event': 'push',
      'bowline.dev/delivery-id': 'delivery-9',
      'bowline.dev/triggered-by': 'alice',
    });
  });

  it('has a postsubmit spec with context, report, branch source and refs without pulls', () => {
    expect(job.spec).toEqual({
      type: 'postsubmit',
      agent: 'jenkins',
      job: 'publish/images',
      context: 'ci/jenkins/publish',
      rerun_command: '',
      report: true,
      max_concurrency: 1,
      jenkins_spec: { github_branch_source_job: true },
      refs,
      prowjob_defaults: { tenant_id: 'GlobalDefaultID' },
    });
  });

  it('starts triggered, with a build id', () => {
    expect(job.status).toEqual({ state: 'triggered', description: 'Job triggered.', startTime: NOW.toISOString(), build_id: expect.stringMatching(/^1770091506000\d{5}$/) });
    expect(job.metadata.creationTimestamp).toBe(NOW.toISOString());
  });

  it('does not report a job with skip_report, and drops pulls handed in by mistake', () => {
    const skipped = newPostsubmitJob(quiet!, {
      name: prowJobName('delivery-10', 'quiet'),
      refs: { ...refs, pulls: [{ number: 1, author: 'a', sha: 'd'.repeat(40) }] },
      now: NOW,
      cause: { event: 'push', deliveryId: 'delivery-10' },
    });
    expect(skipped.spec.report).toBe(false);
    expect(skipped.spec.context).toBe('quiet');
    expect(skipped.spec.refs.pulls).toBeUndefined();
    expect(skipped.spec.jenkins_spec).toBeUndefined();
    expect(skipped.metadata.annotations['bowline.dev/triggered-by']).toBeUndefined();
  });
});

describe('newPeriodicJob', () => {
  const scheduledFor = new Date('2026-02-03T03:00:00.000Z');
  const job = newPeriodicJob(nightly!, { name: prowJobName('periodic', 'nightly/e2e', '20260203T030000Z'), now: NOW, cause: { scheduledFor, schedule: '0 3 * * *' } });

  it('labels the job with type and job only: a periodic has no repository', () => {
    expect(job.metadata.labels).toEqual({
      team: 'qa',
      'created-by-prow': 'true',
      'prow.k8s.io/type': 'periodic',
      'prow.k8s.io/job': 'nightly_e2e',
      'bowline.dev/tenant': 'default',
    });
    expect(job.metadata.annotations).toEqual({
      owner: 'qa@acme.example',
      'prow.k8s.io/job': 'nightly/e2e',
      'bowline.dev/event': 'periodic',
      'bowline.dev/scheduled-for': scheduledFor.toISOString(),
      'bowline.dev/schedule': '0 3 * * *',
    });
  });

  it('has a periodic spec that does not report, with empty refs in place of none', () => {
    expect(job.spec).toEqual({
      type: 'periodic',
      agent: 'jenkins',
      job: 'nightly/e2e',
      context: '',
      rerun_command: '',
      report: false,
      max_concurrency: 2,
      refs: { org: '', repo: '', base_ref: '', base_sha: '' },
      prowjob_defaults: { tenant_id: 'GlobalDefaultID' },
    });
    expect(job.spec.refs).not.toBe(PERIODIC_REFS);
    expect(job.status).toMatchObject({ state: 'triggered', description: 'Job triggered.', startTime: NOW.toISOString() });
  });
});

describe("the job's clone settings in its refs (Prow's pjutil.CompletePrimaryRefs)", () => {
  const cloning = parseConfig(
    `
presubmits:
  acme/widgets:
  - {name: unit, agent: jenkins, path_alias: k8s.io/widgets, clone_uri: "git@github.com:acme/widgets.git", skip_submodules: true, clone_depth: 5, skip_fetch_head: true}
  - {name: plain, agent: jenkins}
postsubmits:
  acme/widgets:
  - {name: publish, agent: jenkins, path_alias: k8s.io/widgets}
`,
    'config.yaml',
  );
  const pullRequest = {
    number: 7,
    title: 'Add sprockets',
    html_url: 'https://github.com/acme/widgets/pull/7',
    user: { login: 'alice', html_url: 'https://github.com/alice' },
    head: { sha: 'a'.repeat(40), ref: 'feature' },
    base: { ref: 'main', sha: 'b'.repeat(40), repo: { name: 'widgets', html_url: 'https://github.com/acme/widgets', owner: { login: 'acme' } } },
  };
  const cause = { event: 'issue_comment', deliveryId: 'd-1' };

  it('copies path_alias, clone_uri, skip_submodules, clone_depth and skip_fetch_head into a presubmit’s refs', () => {
    const job = newPresubmitJob(cloning.presubmits['acme/widgets']![0]!, { name: 'pj-1', pullRequest, now: NOW, cause });

    expect(job.spec.refs).toMatchObject({ path_alias: 'k8s.io/widgets', clone_uri: 'git@github.com:acme/widgets.git', skip_submodules: true, clone_depth: 5, skip_fetch_head: true });
  });

  it('adds none of them for a job that sets none, and tests the base sha GitHub sent when given no other', () => {
    const job = newPresubmitJob(cloning.presubmits['acme/widgets']![1]!, { name: 'pj-2', pullRequest, now: NOW, cause });

    expect(Object.keys(job.spec.refs)).toEqual(['org', 'repo', 'repo_link', 'base_ref', 'base_sha', 'base_link', 'pulls']);
    expect(job.spec.refs.base_sha).toBe('b'.repeat(40));
  });

  it("copies path_alias into a postsubmit's refs, beside the push's links", () => {
    const pushed = { ...refs, repo_link: 'https://github.com/acme/widgets', base_link: 'https://github.com/acme/widgets/compare/1...2' };
    const job = newPostsubmitJob(cloning.postsubmits['acme/widgets']![0]!, { name: 'pj-3', refs: pushed, now: NOW, cause: { event: 'push', deliveryId: 'd-2' } });

    expect(job.spec.refs).toEqual({ ...pushed, path_alias: 'k8s.io/widgets' });
  });
});
