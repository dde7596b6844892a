export type ProwJobType = 'presubmit' | 'postsubmit' | 'periodic' | 'batch';
export type ProwJobState = 'triggered' | 'pending' | 'success' | 'failure' | 'aborted' | 'error';

export const FINAL_STATES: readonly ProwJobState[] = ['success', 'failure', 'aborted', 'error'];

export interface Pull {
  number: number;
  author: string;
  sha: string;
  ref?: string;
  title?: string;
  link?: string;
}

export interface Refs {
  org: string;
  repo: string;
  base_ref: string;
  base_sha: string;
  pulls?: Pull[];
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
    jenkins_build_id?: string;
    /** Last state each reporter reported, so a report is sent once per state. */
    prev_report_states?: Record<string, ProwJobState>;
  };
}
