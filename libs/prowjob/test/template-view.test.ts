import { describe, expect, it } from '@jest/globals';
import { parseConfig, SAMPLE_PROWJOB, SAMPLE_PROWJOB_VIEW } from '@bowline/config';
import { GoTemplate } from '@bowline/go';
import { newPeriodicJob } from '../src/prowjob.js';
import { prowJobTemplateView } from '../src/template-view.js';
import type { ProwJob, Refs } from '../src/types.js';

function presubmit(refs: Partial<Refs> = {}, job = 'metal3-centos-e2e-basic-test-main'): ProwJob {
  const org = refs.org ?? 'metal3-io';
  const repo = refs.repo ?? 'baremetal-operator';
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: {
      name: '3f9c2a10-0000-4000-8000-000000000001',
      labels: { 'created-by-prow': 'true', 'prow.k8s.io/type': 'presubmit', 'prow.k8s.io/job': job },
      annotations: { 'prow.k8s.io/job': job },
      creationTimestamp: '2026-03-01T10:00:00.000Z',
    },
    spec: {
      type: 'presubmit',
      agent: 'jenkins',
      job,
      context: job,
      rerun_command: `/test ${job}`,
      report: true,
      max_concurrency: 0,
      refs: {
        org,
        repo,
        base_ref: 'main',
        base_sha: 'b'.repeat(40),
        pulls: [{ number: 1234, author: 'alice', sha: 'a'.repeat(40), ref: 'fix-provisioning', title: 'Fix provisioning', link: `https://github.com/${org}/${repo}/pull/1234` }],
        ...refs,
      },
    },
    status: {
      state: 'pending',
      description: 'Jenkins job running.',
      startTime: '2026-03-01T10:00:00.000Z',
      pendingTime: '2026-03-01T10:00:03.000Z',
      build_id: '1800000000000012345',
      jenkins_build_id: '42',
    },
  };
}

/** Prow's periodics carry no refs, and this one has no Jenkins build yet. */
const periodic = {
  apiVersion: 'prow.k8s.io/v1',
  kind: 'ProwJob',
  metadata: {
    name: '3f9c2a10-0000-4000-8000-000000000002',
    labels: { 'created-by-prow': 'true', 'prow.k8s.io/type': 'periodic', 'prow.k8s.io/job': 'metal3-periodic-cleanup' },
    annotations: {},
    creationTimestamp: '2026-03-01T11:00:00.000Z',
  },
  spec: { type: 'periodic', agent: 'jenkins', job: 'metal3-periodic-cleanup', context: '', rerun_command: '', report: false, max_concurrency: 1 },
  status: { state: 'triggered', startTime: '2026-03-01T11:00:00.000Z', build_id: '1800000000000054321' },
} as unknown as ProwJob;

function render(template: string, job: ProwJob): string {
  return GoTemplate.parse(template).execute(prowJobTemplateView(job));
}

// metal3-io/project-infra prow/config/config.yaml (jenkins_operators and deck.external_agent_logs).
const METAL3_JOB_URL = 'https://jenkins.nordix.org/view/Metal3/job/{{.Spec.Job}}/{{.Status.JenkinsBuildID}}/';
const OCI_CONSOLE_URL = 'http://oci-jenkins-operator/job/{{.Spec.Job}}/{{.Status.JenkinsBuildID}}/consoleText';
// openshift/release's jenkins_operators job_url_template (Gubernator links).
const OPENSHIFT_JOB_URL =
  'https://openshift-gce-devel.appspot.com/build/origin-ci-test/{{if eq .Spec.Type "presubmit"}}pr-logs/pull{{else if eq .Spec.Type "batch"}}pr-logs/pull{{else}}logs{{end}}{{if ne .Spec.Refs.Repo "origin"}}/{{.Spec.Refs.Org}}_{{.Spec.Refs.Repo}}{{end}}{{if eq .Spec.Type "presubmit"}}/{{with index .Spec.Refs.Pulls 0}}{{.Number}}{{end}}{{else if eq .Spec.Type "batch"}}/batch{{end}}/{{.Spec.Job}}/{{.Status.BuildID}}/';
// kubernetes/test-infra config/prow/config.yaml, plank.job_url_template.
const KUBERNETES_JOB_URL =
  'https://prow.k8s.io/view/gs/kubernetes-jenkins/{{if eq .Spec.Type "presubmit"}}pr-logs/pull{{else if eq .Spec.Type "batch"}}pr-logs/pull{{else}}logs{{end}}{{if .Spec.Refs}}{{if ne .Spec.Refs.Org ""}}{{if ne .Spec.Refs.Org "kubernetes"}}/{{if and (eq .Spec.Refs.Org "kubernetes-sigs") (ne .Spec.Refs.Repo "poseidon")}}sigs.k8s.io{{else}}{{.Spec.Refs.Org}}{{end}}_{{.Spec.Refs.Repo}}{{else if ne .Spec.Refs.Repo "kubernetes"}}/{{.Spec.Refs.Repo}}{{end}}{{end}}{{end}}{{if eq .Spec.Type "presubmit"}}/{{with index .Spec.Refs.Pulls 0}}{{.Number}}{{end}}{{else if eq .Spec.Type "batch"}}/batch{{end}}/{{.Spec.Job}}/{{.Status.BuildID}}/';
// Prow's default report_template (plank.report_templates).
const DEFAULT_REPORT =
  '[Full PR test history](https://prow.k8s.io/pr-history?org={{.Spec.Refs.Org}}&repo={{.Spec.Refs.Repo}}&pr={{with index .Spec.Refs.Pulls 0}}{{.Number}}{{end}}). [Your PR dashboard](https://prow.k8s.io/pr?query=is:pr+state:open+author:{{with index .Spec.Refs.Pulls 0}}{{.Author}}{{end}}).';

describe('real Prow templates over the ProwJob view', () => {
  it.each([
    ['metal3 job_url_template', METAL3_JOB_URL, 'https://jenkins.nordix.org/view/Metal3/job/metal3-centos-e2e-basic-test-main/42/'],
    ['metal3 oci url_template', OCI_CONSOLE_URL, 'http://oci-jenkins-operator/job/metal3-centos-e2e-basic-test-main/42/consoleText'],
    [
      'openshift job_url_template',
      OPENSHIFT_JOB_URL,
      'https://openshift-gce-devel.appspot.com/build/origin-ci-test/pr-logs/pull/metal3-io_baremetal-operator/1234/metal3-centos-e2e-basic-test-main/1800000000000012345/',
    ],
    [
      'kubernetes job_url_template',
      KUBERNETES_JOB_URL,
      'https://prow.k8s.io/view/gs/kubernetes-jenkins/pr-logs/pull/metal3-io_baremetal-operator/1234/metal3-centos-e2e-basic-test-main/1800000000000012345/',
    ],
    [
      "Prow's default report_template",
      DEFAULT_REPORT,
      '[Full PR test history](https://prow.k8s.io/pr-history?org=metal3-io&repo=baremetal-operator&pr=1234). [Your PR dashboard](https://prow.k8s.io/pr?query=is:pr+state:open+author:alice).',
    ],
  ])('%s renders a presubmit', (_name, template, expected) => {
    expect(render(template, presubmit())).toBe(expected);
  });

  it.each([
    // JenkinsBuildID is "" until Jenkins gives the build a number, as in Prow: the URL has an empty segment.
    ['metal3 job_url_template', METAL3_JOB_URL, 'https://jenkins.nordix.org/view/Metal3/job/metal3-periodic-cleanup//'],
    ['metal3 oci url_template', OCI_CONSOLE_URL, 'http://oci-jenkins-operator/job/metal3-periodic-cleanup//consoleText'],
    // `{{if .Spec.Refs}}` guards the refs, which a periodic does not have.
    ['kubernetes job_url_template', KUBERNETES_JOB_URL, 'https://prow.k8s.io/view/gs/kubernetes-jenkins/logs/metal3-periodic-cleanup/1800000000000054321/'],
  ])('%s renders a periodic', (_name, template, expected) => {
    expect(render(template, periodic)).toBe(expected);
  });

  // Go fails the same way ("nil pointer evaluating *v1.Refs.Repo"): these templates assume refs.
  it.each([
    ['openshift job_url_template', OPENSHIFT_JOB_URL, 'nil pointer evaluating .Spec.Refs.Repo'],
    ["Prow's default report_template", DEFAULT_REPORT, 'nil pointer evaluating .Spec.Refs.Org'],
  ])('%s fails on a periodic, which has no refs', (_name, template, message) => {
    expect(() => render(template, periodic)).toThrow(message);
  });

  it.each([
    ['openshift/origin skips the org_repo part', OPENSHIFT_JOB_URL, { org: 'openshift', repo: 'origin' }, 'https://openshift-gce-devel.appspot.com/build/origin-ci-test/pr-logs/pull/1234/unit/1800000000000012345/'],
    ['kubernetes/kubernetes has the short path', KUBERNETES_JOB_URL, { org: 'kubernetes', repo: 'kubernetes' }, 'https://prow.k8s.io/view/gs/kubernetes-jenkins/pr-logs/pull/1234/unit/1800000000000012345/'],
    ['another kubernetes repo adds its name', KUBERNETES_JOB_URL, { org: 'kubernetes', repo: 'test-infra' }, 'https://prow.k8s.io/view/gs/kubernetes-jenkins/pr-logs/pull/test-infra/1234/unit/1800000000000012345/'],
    ['kubernetes-sigs repos go under sigs.k8s.io', KUBERNETES_JOB_URL, { org: 'kubernetes-sigs', repo: 'cluster-api' }, 'https://prow.k8s.io/view/gs/kubernetes-jenkins/pr-logs/pull/sigs.k8s.io_cluster-api/1234/unit/1800000000000012345/'],
    ['except poseidon, by the and (eq) (ne) clause', KUBERNETES_JOB_URL, { org: 'kubernetes-sigs', repo: 'poseidon' }, 'https://prow.k8s.io/view/gs/kubernetes-jenkins/pr-logs/pull/kubernetes-sigs_poseidon/1234/unit/1800000000000012345/'],
  ])('%s', (_name, template, refs, expected) => {
    expect(render(template, presubmit(refs, 'unit'))).toBe(expected);
  });

  it('takes the batch branches for a batch job', () => {
    const batch = presubmit({ org: 'openshift', repo: 'origin' }, 'unit');
    batch.spec.type = 'batch';
    expect(render(OPENSHIFT_JOB_URL, batch)).toBe('https://openshift-gce-devel.appspot.com/build/origin-ci-test/pr-logs/pull/batch/unit/1800000000000012345/');
  });
});

describe('the ProwJob template view', () => {
  it('names fields as the Go structs do, with ObjectMeta promoted', () => {
    expect(render('{{.ObjectMeta.Name}} {{.Name}} {{.Namespace}} {{.Kind}} {{.Spec.Type}} {{.Spec.Agent}} {{.Spec.Refs.BaseRef}} {{.Status.State}} {{.Status.StartTime}}', presubmit())).toBe(
      '3f9c2a10-0000-4000-8000-000000000001 3f9c2a10-0000-4000-8000-000000000001 default ProwJob presubmit jenkins main pending 2026-03-01T10:00:00.000Z',
    );
  });

  it('gives Go zero values for what the JSON lacks', () => {
    expect(render('[{{.Status.JenkinsBuildID}}][{{.Status.CompletionTime}}][{{.Status.URL}}][{{.Spec.Context}}][{{.Spec.Report}}][{{len .Spec.ExtraRefs}}]', periodic)).toBe('[][][][][false][0]');
  });

  it('makes absent pointers nil, so if sees them as false', () => {
    expect(render('{{if .Spec.Refs}}refs{{else}}no refs{{end}} {{if .Spec.JenkinsSpec}}spec{{else}}no spec{{end}}', periodic)).toBe('no refs no spec');
    const branchSource = presubmit();
    branchSource.spec.jenkins_spec = { github_branch_source_job: true };
    expect(render('{{.Spec.JenkinsSpec.GitHubBranchSourceJob}}', branchSource)).toBe('true');
  });

  it('reads labels as a Go map: a missing one prints <no value>, and index gives ""', () => {
    expect(render('{{.Labels.missing}}|{{index .Labels "missing"}}|{{index .Labels "prow.k8s.io/type"}}|{{index .ObjectMeta.Annotations "prow.k8s.io/job"}}', presubmit())).toBe(
      '<no value>||presubmit|metal3-centos-e2e-basic-test-main',
    );
  });

  it('shows the refs as stored, in Prow’s fields, and the pod name Prow’s jenkins-operator gives a job with a build', () => {
    const job = presubmit({
      repo_link: 'https://ghe.example.com/metal3-io/baremetal-operator',
      base_link: 'https://ghe.example.com/metal3-io/baremetal-operator/commit/b',
      path_alias: 'metal3.io/baremetal-operator',
      pulls: [{ number: 1234, author: 'alice', sha: 'a', title: 'Fix', head_ref: 'fix', link: 'https://ghe.example.com/p/1234', commit_link: 'c', author_link: 'https://ghe.example.com/alice' }],
    });
    job.status.pod_name = job.metadata.name;

    expect(render('{{.Spec.Refs.RepoLink}} {{.Spec.Refs.BaseLink}} {{.Spec.Refs.PathAlias}} {{with index .Spec.Refs.Pulls 0}}{{.HeadRef}} [{{.Ref}}] {{.CommitLink}} {{.AuthorLink}}{{end}} {{.Status.PodName}}', job).split(' ')).toEqual([
      'https://ghe.example.com/metal3-io/baremetal-operator',
      'https://ghe.example.com/metal3-io/baremetal-operator/commit/b',
      'metal3.io/baremetal-operator',
      'fix',
      '[]',
      'c',
      'https://ghe.example.com/alice',
      job.metadata.name,
    ]);
  });

  it('fills the pull request links as Prow does for a ProwJob stored before Bowline kept them, from its pull request link', () => {
    const text = '{{.Spec.Refs.RepoLink}} {{.Spec.Refs.BaseLink}} {{with index .Spec.Refs.Pulls 0}}{{.Link}} {{.CommitLink}} {{.AuthorLink}} {{.HeadRef}} [{{.Ref}}]{{end}}';
    expect(render(text, presubmit()).split(' ')).toEqual([
      'https://github.com/metal3-io/baremetal-operator',
      `https://github.com/metal3-io/baremetal-operator/commit/${'b'.repeat(40)}`,
      'https://github.com/metal3-io/baremetal-operator/pull/1234',
      `https://github.com/metal3-io/baremetal-operator/pull/1234/commits/${'a'.repeat(40)}`,
      'https://github.com/alice',
      'fix-provisioning',
      '[]',
    ]);
  });

  it('lists only the embedded structs, not their promoted fields, when printed whole', () => {
    expect(Object.keys(prowJobTemplateView(presubmit()))).toEqual(['TypeMeta', 'ObjectMeta', 'Spec', 'Status']);
  });
});

describe('the sample view used to check templates at load time', () => {
  it('has every pointer set and every list filled, so guarded templates are checked on both sides of their ifs', () => {
    expect(nullPaths(SAMPLE_PROWJOB_VIEW)).toEqual([]);
    expect(GoTemplate.parse('{{len .Spec.Refs.Pulls}} {{.Status.JenkinsBuildID}}').execute(SAMPLE_PROWJOB_VIEW)).toBe('1 42');
  });

  it.each([METAL3_JOB_URL, OCI_CONSOLE_URL, OPENSHIFT_JOB_URL, KUBERNETES_JOB_URL, DEFAULT_REPORT])('renders %s', (template) => {
    expect(() => GoTemplate.parse(template).execute(SAMPLE_PROWJOB_VIEW)).not.toThrow();
  });

  it('catches a misspelt field', () => {
    expect(() => GoTemplate.parse('{{.Spec.Jbo}}').execute(SAMPLE_PROWJOB_VIEW)).toThrow("can't evaluate field Jbo");
  });

  it('is the view the services render, of a ProwJob written as Prow writes it', () => {
    expect(prowJobTemplateView(SAMPLE_PROWJOB as ProwJob)).toEqual(SAMPLE_PROWJOB_VIEW);
  });
});

function nullPaths(value: unknown, path = ''): string[] {
  if (value === null || value === undefined) return [path];
  if (value instanceof Map || typeof value !== 'object') return [];
  return Object.getOwnPropertyNames(value).flatMap((key) => nullPaths((value as Record<string, unknown>)[key], `${path}.${key}`));
}

describe('a periodic in a template', () => {
  it('has no refs, as Prow gives a periodic a nil Spec.Refs', () => {
    const [nightly] = parseConfig('periodics:\n- name: nightly\n  agent: jenkins\n  interval: 24h\n', 'config.yaml').periodics;
    const job = newPeriodicJob(nightly!, { name: 'p-1', now: new Date('2026-01-01T00:00:00Z'), cause: { scheduledFor: new Date('2026-01-01T00:00:00Z'), schedule: '24h' } });
    expect(GoTemplate.parse('{{if .Spec.Refs}}with refs{{else}}logs/{{.Spec.Job}}{{end}}').execute(prowJobTemplateView(job))).toBe('logs/nightly');
  });
});
