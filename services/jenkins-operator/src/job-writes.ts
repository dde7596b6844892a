import { transition, type ProwJob, type ProwJobState, type ProwJobStore } from '@bowline/prowjob';

/** What writing a ProwJob's state needs: the bucket's compare-and-set update, and the clock. */
export interface StateWriting {
  store: Pick<ProwJobStore, 'update'>;
  now: () => Date;
}

/**
 * Moves the job to `state` with these status fields and annotations, if it may still move there
 * (states only move forward). The clock is read inside the update, so a retried compare-and-set
 * stamps the time of the write that lands.
 */
export async function writeState(
  deps: StateWriting,
  name: string,
  state: ProwJobState,
  fields: { description?: string; url?: string; jenkins_build_id?: string },
  annotations: Record<string, string> = {},
): Promise<ProwJob | undefined> {
  return deps.store.update(name, (current) => {
    const next = transition(current, state, deps.now(), fields);
    if (!next || Object.keys(annotations).length === 0) return next;
    return { ...next, metadata: { ...next.metadata, annotations: { ...next.metadata.annotations, ...annotations } } };
  });
}
