import { hasRefs, type ProwJob } from '@bowline/prowjob';

/** What `/prowjobs.js` answers: the body and its content type. */
export interface ProwJobsData {
  status: number;
  contentType: string;
  body: string;
}

export interface ProwJobsQuery {
  omit?: string;
  org?: string;
  repo?: string;
  owner?: string;
  var?: string;
}

/**
 * A name a script can declare. Prow's deck writes `var` into the answer as given; the deck
 * answers 400 to anything else, so its address cannot be made to serve arbitrary script.
 */
const JS_IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Prow's deck `/prowjobs.js`: `{"items":[…]}`, the jobs newest first; `org`, `repo` (exact) and
 * `owner` (a pull request's author) keep only the jobs that match; `omit` drops fields from each
 * (`annotations`, `labels`; `decoration_config` and `pod_spec` are accepted and have nothing to
 * drop: a Jenkins job has neither); `var=name` answers the script `var name = {…};`.
 */
export function prowJobsData(jobs: readonly ProwJob[], query: ProwJobsQuery): ProwJobsData {
  if (query.var && !JS_IDENTIFIER.test(query.var)) {
    return { status: 400, contentType: 'text/plain', body: `var must be a JavaScript name such as allBuilds, not ${JSON.stringify(query.var)}\n` };
  }
  const omit = new Set((query.omit ?? '').split(','));
  const items: unknown[] = [];
  for (const job of jobs) {
    const refs = job.spec.refs;
    if (query.org && refs?.org !== query.org) continue;
    if (query.repo && refs?.repo !== query.repo) continue;
    if (query.owner && !(refs?.pulls ?? []).some((pull) => pull.author === query.owner)) continue;
    items.push(asProw(job, omit));
  }
  const json = JSON.stringify({ items });
  return query.var
    ? { status: 200, contentType: 'application/javascript', body: `var ${query.var} = ${json};` }
    : { status: 200, contentType: 'application/json', body: json };
}

/** The job as Prow's deck lists it: a periodic without refs (Prow's are nil), `omit` applied. */
function asProw(job: ProwJob, omit: Set<string>): unknown {
  const noRefs = job.spec.refs && !hasRefs(job.spec.refs);
  if (!noRefs && !omit.has('annotations') && !omit.has('labels')) return job;
  const metadata: Partial<ProwJob['metadata']> = { ...job.metadata };
  if (omit.has('annotations')) delete metadata.annotations;
  if (omit.has('labels')) delete metadata.labels;
  const spec: Partial<ProwJob['spec']> = { ...job.spec };
  if (noRefs) delete spec.refs;
  return { ...job, metadata, spec };
}
