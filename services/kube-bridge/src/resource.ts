import { buildIdFor, FINAL_STATES, hasRefs, type ProwJob, type ProwJobState, type Refs } from '@bowline/prowjob';
import { BOWLINE, prowLabelsAndAnnotations } from './prow-labels.js';

/** A `prow.k8s.io/v1` ProwJob as the API server serves it; only what the bridge reads is typed. */
export interface ProwJobResource {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Partial<ProwJob['spec']> & { refs?: Partial<Refs> };
  status?: Partial<Omit<ProwJob['status'], 'state'>> & { state?: ProwJobState | 'scheduling' };
}

/** Drops empty values as Go's `omitempty` does, so the resource reads as Prow's own would. */
function omitEmpty<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== '' && v !== false && v !== 0)) as Partial<T>;
}

/** Prow's ProwJobStatus from Bowline's: the fields Prow's jenkins-operator and crier write. */
export function resourceStatus(job: ProwJob): NonNullable<ProwJobResource['status']> {
  const s = job.status;
  return omitEmpty({
    state: s.state,
    description: s.description,
    url: s.url,
    startTime: s.startTime,
    pendingTime: s.pendingTime,
    completionTime: s.completionTime,
    build_id: s.build_id,
    pod_name: s.pod_name,
    jenkins_build_id: s.jenkins_build_id,
    prev_report_states: s.prev_report_states && Object.keys(s.prev_report_states).length > 0 ? s.prev_report_states : undefined,
  });
}

/**
 * The whole resource for a ProwJob Bowline created: Prow's labels and annotations, Bowline's
 * origin label and the bucket revision it was written from, the spec (a periodic's empty refs
 * left out, as Prow's periodics have none) and the status.
 */
export function mirroredResource(job: ProwJob, revision: number): ProwJobResource {
  const { labels, annotations } = prowLabelsAndAnnotations(job);
  const { refs, ...spec } = job.spec;
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: {
      name: job.metadata.name,
      labels: { ...labels, [BOWLINE.origin]: 'bowline' },
      annotations: { ...annotations, [BOWLINE.kvRevision]: String(revision) },
    },
    spec: { ...omitEmpty(spec), type: spec.type, job: spec.job, ...(hasRefs(refs) ? { refs } : {}) },
    status: resourceStatus(job),
  };
}

/** The bucket revision a resource was last written from; 0 for one Bowline never wrote. */
export function writtenRevision(resource: ProwJobResource | undefined): number {
  return Number(resource?.metadata.annotations?.[BOWLINE.kvRevision] ?? 0) || 0;
}

export function isMirroredByBowline(resource: ProwJobResource): boolean {
  return resource.metadata.labels?.[BOWLINE.origin] === 'bowline';
}

export function isImported(job: ProwJob): boolean {
  return job.metadata.annotations[BOWLINE.importedFrom] !== undefined;
}

export type ImportVerdict = { import: true } | { import: false; reason: string };

/**
 * Whether Bowline's jenkins-operator should run a resource created in the cluster: a Jenkins job
 * that nobody finished, that Bowline neither created nor wrote to before (a mirrored job, or an
 * imported one whose bucket entry the sinker has since deleted), and that is past Prow's
 * `scheduling` state (Prow's scheduler has not given it a cluster yet; Prow's jenkins-operator
 * skips it too).
 */
export function importVerdict(resource: ProwJobResource): ImportVerdict {
  const state = resource.status?.state ?? 'triggered';
  if (resource.spec?.agent !== 'jenkins') return { import: false, reason: `agent ${resource.spec?.agent ?? 'none'}` };
  if (isMirroredByBowline(resource)) return { import: false, reason: 'Bowline created it' };
  if (writtenRevision(resource) > 0) return { import: false, reason: 'Bowline already ran it' };
  if (resource.status?.completionTime || (FINAL_STATES as readonly string[]).includes(state)) return { import: false, reason: `already ${state}` };
  if (state === 'scheduling') return { import: false, reason: 'still scheduling' };
  return { import: true };
}

/**
 * Bowline's ProwJob for a resource created in the cluster, under the same name. Fields Prow leaves
 * empty get Bowline's empty values (a periodic's refs, no context); a resource that has no build id
 * yet gets one as Bowline's planner makes them, the status Prow's jenkins-operator would then write.
 */
export function importedJob(resource: ProwJobResource, namespace: string, now: Date): ProwJob {
  const spec = resource.spec ?? {};
  const status = resource.status ?? {};
  const name = resource.metadata.name;
  const created = resource.metadata.creationTimestamp ?? now.toISOString();
  const refs = spec.refs;
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: {
      name,
      labels: { ...resource.metadata.labels },
      annotations: { ...resource.metadata.annotations, [BOWLINE.importedFrom]: `${namespace}/${name}` },
      creationTimestamp: created,
    },
    spec: {
      type: spec.type ?? 'periodic',
      agent: 'jenkins',
      job: spec.job ?? '',
      context: spec.context ?? '',
      rerun_command: spec.rerun_command ?? '',
      report: spec.report ?? false,
      max_concurrency: spec.max_concurrency ?? 0,
      ...(spec.jenkins_spec ? { jenkins_spec: spec.jenkins_spec } : {}),
      refs: { ...refs, org: refs?.org ?? '', repo: refs?.repo ?? '', base_ref: refs?.base_ref ?? '', base_sha: refs?.base_sha ?? '' },
    },
    status: {
      ...omitEmpty({ description: status.description, url: status.url, pendingTime: status.pendingTime, jenkins_build_id: status.jenkins_build_id, pod_name: status.pod_name }),
      state: status.state === 'pending' ? 'pending' : 'triggered',
      startTime: status.startTime ?? created,
      build_id: status.build_id || buildIdFor(name, now),
      ...(status.prev_report_states ? { prev_report_states: status.prev_report_states } : {}),
    },
  };
}
