import { hasRefs, type ProwJob } from '@bowline/prowjob';

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
 * Items are written in pieces of about this many characters: few enough writes to keep the
 * answer as fast as one string, small enough that 20,000 jobs (25 MB, issue 18 item 4) are never
 * one string and one Buffer in memory at once.
 */
const PIECE_CHARS = 64 * 1024;

/** Why the query cannot be answered (the 400's text), or undefined when it can. */
export function refusedProwJobsQuery(query: ProwJobsQuery): string | undefined {
  if (query.var && !JS_IDENTIFIER.test(query.var)) return `var must be a JavaScript name such as allBuilds, not ${JSON.stringify(query.var)}\n`;
  return undefined;
}

export function prowJobsContentType(query: ProwJobsQuery): string {
  return query.var ? 'application/javascript' : 'application/json';
}

/**
 * Prow's deck `/prowjobs.js`: `{"items":[…]}`, the jobs newest first; `org`, `repo` (exact) and
 * `owner` (a pull request's author) keep only the jobs that match; `omit` drops fields from each
 * (`annotations`, `labels`; `decoration_config` and `pod_spec` are accepted and have nothing to
 * drop: a Jenkins job has neither); `var=name` answers the script `var name = {…};`.
 *
 * The answer in pieces, one job's JSON at a time: joined, they are exactly
 * `JSON.stringify({ items })` (with the `var` around it), as the deck once built in one string.
 * `jobs` is read as the caller passed it: the index's sorted array is replaced, never changed,
 * so a slow reader still gets the jobs as of its request.
 */
export function* prowJobsPieces(jobs: readonly ProwJob[], query: ProwJobsQuery, pieceChars = PIECE_CHARS): Generator<string> {
  const omit = new Set((query.omit ?? '').split(','));
  let piece = query.var ? `var ${query.var} = {"items":[` : '{"items":[';
  let first = true;
  for (const job of jobs) {
    const refs = job.spec.refs;
    if (query.org && refs?.org !== query.org) continue;
    if (query.repo && refs?.repo !== query.repo) continue;
    if (query.owner && !(refs?.pulls ?? []).some((pull) => pull.author === query.owner)) continue;
    piece += (first ? '' : ',') + JSON.stringify(asProw(job, omit));
    first = false;
    if (piece.length >= pieceChars) {
      yield piece;
      piece = '';
    }
  }
  yield piece + (query.var ? ']};' : ']}');
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
