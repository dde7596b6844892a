import type { ProwJob } from '@bowline/prowjob';

/** The hidden marker Prow puts in its failure comment; it finds its own comment by it. */
export const REPORT_MARKER = '<!-- test report -->';

const HEADER = 'Test name | Commit | Details | Required | Rerun command';
const SEPARATOR = '--- | --- | --- | --- | ---';

/** One row of the table, as Prow writes it: `context | sha | [link](url) | required | \`rerun\``. */
export function entryFor(job: ProwJob): string {
  const optional = job.metadata.labels['prow.k8s.io/is-optional'];
  const required = optional === 'true' ? 'false' : optional === 'false' ? 'true' : 'unknown';
  return [job.spec.context, job.spec.refs.pulls?.[0]?.sha ?? '', `[link](${job.status.url ?? ''})`, required, `\`${job.spec.rerun_command}\``].join(' | ');
}

export function entryContext(entry: string): string {
  return entry.split(' | ')[0] ?? '';
}

/** The table rows of an existing failure comment. */
export function parseEntries(body: string): string[] {
  // GitHub gives a comment edited in its web editor back with CRLF line ends.
  const lines = body.split(/\r?\n/);
  const start = lines.indexOf(SEPARATOR);
  if (start === -1) return [];
  const entries: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.includes(' | ')) break;
    entries.push(line);
  }
  return entries;
}

/** Prow's failure comment: mention, table, instructions, marker. */
export function renderComment(author: string, entries: string[], report?: string): string {
  const plural = entries.length > 1 ? 's' : '';
  return [
    `@${author}: The following test${plural} **failed**, say \`/retest\` to rerun all failed tests or \`/retest-required\` to rerun all mandatory failed tests:`,
    '',
    HEADER,
    SEPARATOR,
    ...entries,
    ...(report ? ['', report] : []),
    '',
    '<details>',
    '',
    'Instructions for interacting with me using PR comments are available [here](https://docs.prow.k8s.io/docs/components/plugins/trigger/). Each row links to its Jenkins build.',
    '</details>',
    REPORT_MARKER,
  ].join('\n');
}

/**
 * The new rows after `job` finished: a failure puts a fresh row in its context's place (or at the
 * end), anything else removes that row. `undefined` when nothing changes, so a job reported again
 * does not edit the comment.
 */
export function updateEntries(entries: string[], job: ProwJob): string[] | undefined {
  const context = job.spec.context;
  let next: string[];
  if (job.status.state !== 'failure') {
    next = entries.filter((e) => entryContext(e) !== context);
  } else {
    const row = entryFor(job);
    const at = entries.findIndex((e) => entryContext(e) === context);
    next = at === -1 ? [...entries, row] : entries.flatMap((e, i) => (i === at ? [row] : entryContext(e) === context ? [] : [e]));
  }
  const same = next.length === entries.length && next.every((e, i) => e === entries[i]);
  return same ? undefined : next;
}

/**
 * The rows of several copies of the failure comment, oldest copy first: each context once, with
 * its newest row. Two reporters racing can each create a copy; Prow's crier merges them too.
 */
export function mergeEntries(copies: string[][]): string[] {
  const byContext = new Map<string, string>();
  for (const entries of copies) for (const entry of entries) byContext.set(entryContext(entry), entry);
  return [...byContext.values()];
}
