import { posix } from 'node:path';
import { hasRefs, type ProwJob } from '@bowline/prowjob';

/** Kubernetes' `validation.LabelValueMaxLength`. */
const LABEL_VALUE_MAX = 63;
/** Kubernetes' `validation.IsValidLabelValue`. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Prow's label and annotation keys (pkg/kube/prowjob.go). */
export const LABELS = {
  createdByProw: 'created-by-prow',
  type: 'prow.k8s.io/type',
  job: 'prow.k8s.io/job',
  context: 'prow.k8s.io/context',
  id: 'prow.k8s.io/id',
  buildId: 'prow.k8s.io/build-id',
  org: 'prow.k8s.io/refs.org',
  repo: 'prow.k8s.io/refs.repo',
  baseRef: 'prow.k8s.io/refs.base_ref',
  pull: 'prow.k8s.io/refs.pull',
} as const;

/** Bowline's own marks on the resources it writes. */
export const BOWLINE = {
  /** Label on a resource Bowline created from its bucket (`kubectl get prowjobs -l bowline.dev/origin=bowline`). */
  origin: 'bowline.dev/origin',
  /** Annotation: the bucket revision of the ProwJob the resource was last written from. */
  kvRevision: 'bowline.dev/kv-revision',
  /** Annotation on a ProwJob in the bucket that was imported from the cluster. */
  importedFrom: 'bowline.dev/imported-from',
} as const;

/**
 * The labels and annotations Prow puts on a ProwJob and its pods (decorate's
 * LabelsAndAnnotationsForJob): `created-by-prow`, the type, the job and context (cut to 63
 * characters, with `._-` trimmed off the cut end; the annotations keep them whole), the refs of the
 * main repository, the name as `id` and the build id, then the job's own labels over those. As in
 * Prow, a value Kubernetes would refuse is replaced by its last path element when that is valid,
 * and dropped otherwise.
 */
export function prowLabelsAndAnnotations(job: ProwJob): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = { [LABELS.createdByProw]: 'true', [LABELS.type]: job.spec.type };
  const annotations: Record<string, string> = {};
  for (const [key, value] of [
    [LABELS.job, job.spec.job],
    [LABELS.context, job.spec.context],
  ] as const) {
    labels[key] = value.length > LABEL_VALUE_MAX ? value.slice(0, LABEL_VALUE_MAX).replace(/[._-]+$/, '') : value;
    annotations[key] = value;
  }
  const refs = job.spec.refs;
  if (hasRefs(refs)) {
    labels[LABELS.org] = refs.org;
    labels[LABELS.repo] = refs.repo;
    labels[LABELS.baseRef] = refs.base_ref;
    const pull = refs.pulls?.[0];
    if (pull) labels[LABELS.pull] = String(pull.number);
  }
  Object.assign(labels, job.metadata.labels, { [LABELS.id]: job.metadata.name, [LABELS.buildId]: job.status.build_id ?? '' });
  for (const [key, value] of Object.entries(labels)) {
    if (isValidLabelValue(value)) continue;
    const base = posix.basename(value);
    if (isValidLabelValue(base)) labels[key] = base;
    else delete labels[key];
  }
  return { labels, annotations: { ...annotations, ...job.metadata.annotations } };
}

export function isValidLabelValue(value: string): boolean {
  return value.length <= LABEL_VALUE_MAX && LABEL_VALUE.test(value);
}
