import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '@bowline/config';
import { newPeriodicJob, newPostsubmitJob, PERIODIC_REFS, prowJobName } from '../src/prowjob.js';

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
    });
    expect(job.spec.refs).not.toBe(PERIODIC_REFS);
    expect(job.status).toMatchObject({ state: 'triggered', description: 'Job triggered.', startTime: NOW.toISOString() });
  });
});
