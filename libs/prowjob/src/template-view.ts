import { GoMap } from '@bowline/config';
import type { Pull, ProwJob, Refs } from './types.js';
import { hasRefs } from './prowjob.js';

/*
 * Prow executes `job_url_template`, `report_template` and Deck's `url_template` over its Go struct
 * `prowapi.ProwJob` (sigs.k8s.io/prow/pkg/apis/prowjobs/v1/types.go), so templates name Go fields:
 * `.Spec.Job`, `.Status.JenkinsBuildID`. This view gives our JSON ProwJob those names.
 *
 * - Every field Go has a value for is present: a string the JSON lacks is "" and a number 0 (Go's
 *   zero values), so `{{.Status.JenkinsBuildID}}` before a build renders "" as in Prow.
 * - Go pointers are `null` when nil: `Spec.Refs` (a periodic has none) and `Spec.JenkinsSpec`.
 *   `{{.Spec.Refs.Org}}` then fails as Go's "nil pointer evaluating", and `{{if .Spec.Refs}}` is false.
 * - Go maps are GoMaps: a missing label read as `.Labels.x` prints `<no value>` and `index` gives "".
 * - Properties are in Go's field order, which is what Go prints a struct in.
 * - Times are the RFC 3339 strings of the JSON. Go would print a metav1.Time as
 *   `2026-01-01 00:00:00 +0000 UTC` (time.Time's String); no real template prints a time.
 * - ObjectMeta and TypeMeta are embedded in Go's ProwJob, so `.Name` and `.Labels` are promoted
 *   fields. They are non-enumerable here: readable as fields, but not printed twice by `{{.}}`.
 */

/** A ProwJob as Prow's Go templates see it. */
export function prowJobTemplateView(job: ProwJob): Record<string, unknown> {
  const metadata = job.metadata as ProwJob['metadata'] & { namespace?: string };
  const spec = job.spec as ProwJob['spec'] & { cluster?: string; namespace?: string; refs?: Refs | null };
  const status = job.status;
  const typeMeta = { Kind: job.kind ?? '', APIVersion: job.apiVersion ?? '' };
  const objectMeta = {
    Name: metadata.name ?? '',
    // Prow keeps ProwJobs in `prowjob_namespace`, "default" unless configured.
    Namespace: metadata.namespace ?? 'default',
    CreationTimestamp: metadata.creationTimestamp ?? '',
    Labels: stringMap(metadata.labels),
    Annotations: stringMap(metadata.annotations),
  };
  const view: Record<string, unknown> = {
    TypeMeta: typeMeta,
    ObjectMeta: objectMeta,
    Spec: {
      Type: spec.type ?? '',
      Agent: spec.agent ?? '',
      // Prow's config defaulting sets a job's cluster to "default" and its namespace to `pod_namespace` ("default").
      Cluster: spec.cluster ?? 'default',
      Namespace: spec.namespace ?? 'default',
      Job: spec.job ?? '',
      Refs: spec.refs && hasRefs(spec.refs) ? refsView(spec.refs) : null,
      ExtraRefs: [],
      Report: spec.report ?? false,
      Context: spec.context ?? '',
      RerunCommand: spec.rerun_command ?? '',
      MaxConcurrency: spec.max_concurrency ?? 0,
      JenkinsSpec: spec.jenkins_spec ? { GitHubBranchSourceJob: spec.jenkins_spec.github_branch_source_job ?? false } : null,
    },
    Status: {
      StartTime: status.startTime ?? '',
      PendingTime: status.pendingTime ?? '',
      CompletionTime: status.completionTime ?? '',
      State: status.state ?? '',
      Description: status.description ?? '',
      URL: status.url ?? '',
      PodName: '', // Set by plank for pods only; the Jenkins operator leaves it empty.
      BuildID: status.build_id ?? '',
      JenkinsBuildID: status.jenkins_build_id ?? '',
      PrevReportStates: stringMap(status.prev_report_states),
    },
  };
  const promoted = { ...typeMeta, Name: objectMeta.Name, Namespace: objectMeta.Namespace, Labels: objectMeta.Labels, Annotations: objectMeta.Annotations };
  for (const [name, value] of Object.entries(promoted)) Object.defineProperty(view, name, { value, enumerable: false });
  return view;
}

function stringMap(record: Record<string, string> | undefined): GoMap<string> {
  return new GoMap(Object.entries(record ?? {}), '');
}

/**
 * Prow's createRefs (pkg/pjutil) fills the links from GitHub's pull request; we have its
 * `html_url` (`<repo>/pull/<n>`), from which the same links follow.
 */
function refsView(refs: Refs): Record<string, unknown> {
  const pulls = refs.pulls ?? [];
  const repoLink = repoLinkOf(pulls[0]?.link);
  return {
    Org: refs.org ?? '',
    Repo: refs.repo ?? '',
    RepoLink: repoLink,
    BaseRef: refs.base_ref ?? '',
    BaseSHA: refs.base_sha ?? '',
    BaseLink: repoLink && refs.base_sha ? `${repoLink}/commit/${refs.base_sha}` : '',
    Pulls: pulls.map((pull) => pullView(pull, repoLink)),
    PathAlias: '',
    WorkDir: false,
    CloneURI: '',
    SkipSubmodules: false,
    CloneDepth: 0,
    SkipFetchHead: false,
  };
}

function pullView(pull: Pull, repoLink: string): Record<string, unknown> {
  const link = pull.link ?? '';
  return {
    Number: pull.number ?? 0,
    Author: pull.author ?? '',
    SHA: pull.sha ?? '',
    Title: pull.title ?? '',
    // Prow's Ref is a fetchable ref (Gerrit's refs/changes/...), unset for GitHub; our `ref` is the
    // head branch, which Prow calls HeadRef (PULL_HEAD_REF).
    Ref: '',
    HeadRef: pull.ref ?? '',
    Link: link,
    CommitLink: repoLink ? `${repoLink}/pull/${pull.number}/commits/${pull.sha}` : '',
    AuthorLink: repoLink && pull.author ? `${originOf(repoLink)}/${pull.author}` : '',
  };
}

function repoLinkOf(pullLink: string | undefined): string {
  const repoLink = /^(https?:\/\/[^/]+\/.+)\/pull\/\d+\/?$/.exec(pullLink ?? '')?.[1] ?? '';
  return originOf(repoLink) ? repoLink : '';
}

function originOf(link: string): string {
  try {
    return new URL(link).origin;
  } catch {
    return '';
  }
}

/** A fully populated presubmit: every pointer set and every field non-empty where Prow would fill it. */
const SAMPLE_PROWJOB: ProwJob = {
  apiVersion: 'prow.k8s.io/v1',
  kind: 'ProwJob',
  metadata: {
    name: 'd5a2c7e0-1c2b-4f3a-9d8e-7f6a5b4c3d2e',
    labels: {
      'created-by-prow': 'true',
      'prow.k8s.io/type': 'presubmit',
      'prow.k8s.io/job': 'unit',
      'prow.k8s.io/refs.org': 'acme',
      'prow.k8s.io/refs.repo': 'widgets',
      'prow.k8s.io/refs.base_ref': 'main',
      'prow.k8s.io/refs.pull': '17',
    },
    annotations: { 'prow.k8s.io/job': 'unit' },
    creationTimestamp: '2026-01-01T00:00:00.000Z',
  },
  spec: {
    type: 'presubmit',
    agent: 'jenkins',
    job: 'unit',
    context: 'unit',
    rerun_command: '/test unit',
    report: true,
    max_concurrency: 1,
    jenkins_spec: { github_branch_source_job: true },
    refs: {
      org: 'acme',
      repo: 'widgets',
      base_ref: 'main',
      base_sha: 'b'.repeat(40),
      pulls: [{ number: 17, author: 'alice', sha: 'a'.repeat(40), ref: 'feature', title: 'Add a widget', link: 'https://github.com/acme/widgets/pull/17' }],
    },
  },
  status: {
    state: 'success',
    description: 'Job succeeded.',
    url: 'https://jenkins.example.com/job/unit/42/',
    startTime: '2026-01-01T00:00:00.000Z',
    pendingTime: '2026-01-01T00:00:05.000Z',
    completionTime: '2026-01-01T00:10:00.000Z',
    build_id: '176722560000012345',
    jenkins_build_id: '42',
    prev_report_states: { 'github-reporter': 'pending' },
  },
};

/** The view of a fully populated presubmit, to check templates against when the config loads. */
export const SAMPLE_PROWJOB_VIEW: Record<string, unknown> = prowJobTemplateView(SAMPLE_PROWJOB);
