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

/**
 * The table rows of a failure comment, read as Prow reads them: every line after a line starting
 * with `---` up to the next empty line, trimmed (so CRLF line ends, which GitHub gives back after
 * an edit in its web editor, read the same).
 */
export function parseEntries(body: string): string[] {
  const entries: string[] = [];
  let tracking = false;
  for (const raw of body.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('---')) tracking = true;
    else if (line === '') tracking = false;
    else if (tracking) entries.push(line);
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

/** A comment on the pull request: its id, and its text. */
export interface IssueComment {
  id: number;
  body: string;
}

/** What to do with the failure comment after a job finished. */
export interface CommentPlan {
  /** Rows of the comment to write; none: write no comment. */
  entries: string[];
  /** The comment to edit with `entries`; absent: post a new one (when there are entries). */
  editId?: number;
  /** The bot's comments to delete. */
  deleteIds: number[];
}

/**
 * Prow's parseIssueComments (pkg/github/report): every row of every copy of the bot's failure
 * comment (the bot's comments holding the marker, oldest first), each context once with its
 * latest row and none for the job that just finished, then a row for the job if it failed. A new
 * failure posts a new comment and deletes every copy, so GitHub tells people of it (an edit
 * notifies no one); otherwise the newest copy is edited, or deleted when no row is left, and the
 * older copies deleted.
 */
export function planFailureComment(job: ProwJob, botComments: IssueComment[]): CommentPlan {
  const ours = botComments.filter((c) => c.body.includes(REPORT_MARKER));
  const rows = ours.flatMap((c) => parseEntries(c.body));
  const latestOf = new Map<string, number>();
  rows.forEach((row, i) => latestOf.set(entryContext(row), i));
  const entries = rows.filter((row, i) => latestOf.get(entryContext(row)) === i && entryContext(row) !== job.spec.context);
  const failed = job.status.state === 'failure';
  if (failed) entries.push(entryFor(job));
  const latest = ours.at(-1);
  const deleteIds = ours.slice(0, -1).map((c) => c.id);
  if (latest && (failed || entries.length === 0)) return { entries, deleteIds: [...deleteIds, latest.id] };
  return { entries, deleteIds, ...(latest ? { editId: latest.id } : {}) };
}
