import { GoMap } from '@bowline/go';

/*
 * Prow executes `job_url_template`, `report_template` and Deck's `url_template` over its Go struct
 * `prowapi.ProwJob` (sigs.k8s.io/prow/pkg/apis/prowjobs/v1/types.go), so templates name Go fields:
 * `.Spec.Job`, `.Status.JenkinsBuildID`. This view gives a ProwJob's JSON those names. It lives
 * with the config, whose templates it serves: the loader runs each template on the view of a
 * sample ProwJob, and @bowline/prowjob gives the services the view of a stored one.
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

/** Prow's `Pull` (prowjobs/v1 types.go) in JSON; optional fields are Go's `omitempty` ones. */
export interface PullJson {
  number: number;
  author: string;
  sha: string;
  title?: string;
  /**
   * A fetchable ref of the change (Gerrit's `refs/changes/…`); Prow leaves it empty for GitHub.
   * A pull without `head_ref` was written before Bowline stored Prow's fields, and its `ref` is
   * the head branch (see @bowline/prowjob's `prowRefsOf`).
   */
  ref?: string;
  /** The pull request's head branch (`PULL_HEAD_REF`). */
  head_ref?: string;
  link?: string;
  commit_link?: string;
  author_link?: string;
}

/** Prow's `Refs` in JSON, the fields a Jenkins job can use (Bowline has no decoration or extra refs). */
export interface RefsJson {
  org: string;
  repo: string;
  repo_link?: string;
  base_ref?: string;
  base_sha?: string;
  base_link?: string;
  pulls?: PullJson[];
  path_alias?: string;
  clone_uri?: string;
  skip_submodules?: boolean;
  clone_depth?: number;
  skip_fetch_head?: boolean;
}

/**
 * The fields of a ProwJob's JSON (prow.k8s.io/v1) the view reads, as Prow writes them: refs in
 * Prow's form, or none. @bowline/prowjob's ProwJob is one once its refs are (prowJobTemplateView).
 */
export interface ProwJobJson {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; creationTimestamp?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    type?: string;
    agent?: string;
    cluster?: string;
    namespace?: string;
    job?: string;
    refs?: RefsJson | null;
    report?: boolean;
    context?: string;
    rerun_command?: string;
    max_concurrency?: number;
    jenkins_spec?: { github_branch_source_job?: boolean };
  };
  status: {
    startTime?: string;
    pendingTime?: string;
    completionTime?: string;
    state?: string;
    description?: string;
    url?: string;
    pod_name?: string;
    build_id?: string;
    jenkins_build_id?: string;
    prev_report_states?: Record<string, string>;
  };
}

/** A ProwJob as Prow's Go templates see it, from its JSON. */
export function prowJobGoView(job: ProwJobJson): Record<string, unknown> {
  const { metadata, spec, status } = job;
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
      Refs: spec.refs ? refsView(spec.refs) : null,
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
      // Prow's jenkins-operator sets it to the ProwJob's name once it finds the build (controller.go).
      PodName: status.pod_name ?? '',
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

function refsView(refs: RefsJson): Record<string, unknown> {
  return {
    Org: refs.org,
    Repo: refs.repo,
    RepoLink: refs.repo_link ?? '',
    BaseRef: refs.base_ref ?? '',
    BaseSHA: refs.base_sha ?? '',
    BaseLink: refs.base_link ?? '',
    Pulls: (refs.pulls ?? []).map(pullView),
    PathAlias: refs.path_alias ?? '',
    WorkDir: false,
    CloneURI: refs.clone_uri ?? '',
    SkipSubmodules: refs.skip_submodules ?? false,
    CloneDepth: refs.clone_depth ?? 0,
    SkipFetchHead: refs.skip_fetch_head ?? false,
  };
}

function pullView(pull: PullJson): Record<string, unknown> {
  return {
    Number: pull.number,
    Author: pull.author,
    SHA: pull.sha,
    Title: pull.title ?? '',
    Ref: pull.ref ?? '',
    HeadRef: pull.head_ref ?? '',
    Link: pull.link ?? '',
    CommitLink: pull.commit_link ?? '',
    AuthorLink: pull.author_link ?? '',
  };
}

/** A fully populated presubmit, as Prow writes it: every pointer set and every field non-empty where Prow would fill it. */
export const SAMPLE_PROWJOB: ProwJobJson = {
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
      repo_link: 'https://github.com/acme/widgets',
      base_ref: 'main',
      base_sha: 'b'.repeat(40),
      base_link: `https://github.com/acme/widgets/commit/${'b'.repeat(40)}`,
      pulls: [
        {
          number: 17,
          author: 'alice',
          sha: 'a'.repeat(40),
          title: 'Add a widget',
          head_ref: 'feature',
          link: 'https://github.com/acme/widgets/pull/17',
          commit_link: `https://github.com/acme/widgets/pull/17/commits/${'a'.repeat(40)}`,
          author_link: 'https://github.com/alice',
        },
      ],
      path_alias: 'example.com/widgets',
    },
  },
  status: {
    state: 'success',
    description: 'Jenkins job succeeded.',
    url: 'https://jenkins.example.com/job/unit/42/',
    startTime: '2026-01-01T00:00:00.000Z',
    pendingTime: '2026-01-01T00:00:05.000Z',
    completionTime: '2026-01-01T00:10:00.000Z',
    build_id: '176722560000012345',
    pod_name: 'd5a2c7e0-1c2b-4f3a-9d8e-7f6a5b4c3d2e',
    jenkins_build_id: '42',
    prev_report_states: { 'github-reporter': 'pending' },
  },
};

/** The view of the sample, which the loader runs every template of a config on. */
export const SAMPLE_PROWJOB_VIEW: Record<string, unknown> = prowJobGoView(SAMPLE_PROWJOB);
