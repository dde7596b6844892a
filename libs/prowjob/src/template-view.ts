import { prowJobGoView } from '@bowline/config';
import { hasRefs } from './prowjob.js';
import { prowRefsOf } from './refs.js';
import type { ProwJob, Refs } from './types.js';

/**
 * A stored ProwJob as Prow's Go templates see it: @bowline/config's view of its JSON (the one the
 * config loader checks templates on), given the refs as Prow has them (`prowRefsOf`, which also
 * completes those of a ProwJob stored before issue 13), and none for a job without refs.
 */
export function prowJobTemplateView(job: ProwJob): Record<string, unknown> {
  // A periodic carries empty refs (see hasRefs); a ProwJob written by hand may carry none.
  const refs = job.spec.refs as Refs | null | undefined;
  return prowJobGoView({ ...job, spec: { ...job.spec, refs: refs && hasRefs(refs) ? prowRefsOf(refs) : null } });
}
