export type ProwJobType = 'presubmit' | 'postsubmit' | 'periodic' | 'batch';
export type ProwJobState = 'triggered' | 'pending' | 'success' | 'failure' | 'aborted' | 'error';

export const FINAL_STATES: readonly ProwJobState[] = ['success', 'failure', 'aborted', 'error'];

/** Prow's `Pull` (prowjobs/v1 types.go); optional fields are Go's `omitempty` ones. */
export interface Pull {
  number: number;
  author: string;
  sha: string;
  title?: string;
  /**
   * A fetchable ref of the change (Gerrit's `refs/changes/…`); Prow leaves it empty for GitHub.
   * A pull without `head_ref` was written before Bowline stored Prow's fields, and its `ref` is
   * the head branch (see `prowRefsOf`).
   */
  ref?: string;
  /** The pull request's head branch (`PULL_HEAD_REF`). */
  head_ref?: string;
  link?: string;
  commit_link?: string;
  author_link?: string;
}

/** Prow's `Refs`, the fields a Jenkins job can use (Bowline has no decoration or extra refs). */
export interface Refs {
  org: string;
  repo: string;
  repo_link?: string;
  base_ref: string;
  base_sha: string;
  base_link?: string;
  pulls?: Pull[];
  path_alias?: string;
  clone_uri?: string;
  skip_submodules?: boolean;
  clone_depth?: number;
  skip_fetch_head?: boolean;
}

/** Prow's ProwJob (`prow.k8s.io/v1`), as stored in the `prowjobs` bucket. */
export interface ProwJob {
  apiVersion: 'prow.k8s.io/v1';
  kind: 'ProwJob';
  metadata: {
    name: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    creationTimestamp: string;
  };
  spec: {
    type: ProwJobType;
    agent: string;
    job: string;
    context: string;
    rerun_command: string;
    report: boolean;
    max_concurrency: number;
    jenkins_spec?: { github_branch_source_job?: boolean };
    refs: Refs;
  };
  status: {
    state: ProwJobState;
    description?: string;
    url?: string;
    startTime: string;
    pendingTime?: string;
    completionTime?: string;
    build_id?: string;
    /** Prow's jenkins-operator sets it to the ProwJob's name once a build is found (`{{.Status.PodName}}`). */
    pod_name?: string;
    jenkins_build_id?: string;
    /** Last state each reporter reported, so a report is sent once per state. */
    prev_report_states?: Record<string, ProwJobState>;
  };
}
