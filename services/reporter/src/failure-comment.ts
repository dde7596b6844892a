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
  const lines = body.split('\n');
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
export function renderComment(author: string, entries: string[]): string {
  const plural = entries.length > 1 ? 's' : '';
  return [
    `@${author}: The following test${plural} **failed**, say \`/retest\` to rerun all failed tests or \`/retest-required\` to rerun all mandatory failed tests:`,
    '',
    HEADER,
    SEPARATOR,
    ...entries,
    '',
    '<details>',
    '',
    'Instructions for interacting with me using PR comments are available [here](https://docs.prow.k8s.io/docs/components/plugins/trigger/). Each row links to its Jenkins build.',
    '</details>',
    REPORT_MARKER,
  ].join('\n');
}

/**
 * The new rows after `job` finished: its context's old row goes; a failure puts a fresh one in.
 * `undefined` when nothing changes.
 */
export function updateEntries(entries: string[], job: ProwJob): string[] | undefined {
  const kept = entries.filter((e) => entryContext(e) !== job.spec.context);
  const next = job.status.state === 'failure' ? [...kept, entryFor(job)] : kept;
  const same = next.length === entries.length && next.every((e, i) => e === entries[i]);
  return same ? undefined : next;
}
