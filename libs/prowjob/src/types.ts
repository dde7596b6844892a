import type { PullJson, RefsJson } from '@bowline/config';

export type ProwJobType = 'presubmit' | 'postsubmit' | 'periodic' | 'batch';
export type ProwJobState = 'triggered' | 'pending' | 'success' | 'failure' | 'aborted' | 'error';

/** The label a ProwJob's tenant is written in, beside Prow's `spec.prowjob_defaults.tenant_id`. */
export const TENANT_LABEL = 'bowline.dev/tenant';

export const FINAL_STATES: readonly ProwJobState[] = ['success', 'failure', 'aborted', 'error'];

/** Prow's `Pull`, as @bowline/config's template view reads it. */
export type Pull = PullJson;

/** Prow's `Refs`, as @bowline/config's template view reads them; Bowline always stores the base. */
export interface Refs extends RefsJson {
  base_ref: string;
  base_sha: string;
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
    /**
     * Prow's `ProwJobDefault`: `tenant_id` is the job's tenant, which Prow's Deck (`--tenant-id`)
     * filters on. Absent in jobs created before tenants.
     */
    prowjob_defaults?: { tenant_id?: string };
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
