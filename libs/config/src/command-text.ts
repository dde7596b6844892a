/**
 * Which text of a comment is read for commands; the planner reads comments through it, and the
 * config check uses it to warn about a `rerun_command` no comment could carry.
 *
 * Prow drops closed code fences (pkg/markdown DropCodeBlock). Bowline drops fenced code blocks,
 * closed or not, and `>` quoted lines too: quoting someone's `/test all` in a review should not
 * start anything. Fences follow CommonMark: backticks or tildes, indented at most three spaces,
 * closed only by a fence of the same character at least as long, or by the end of the comment.
 */
export function commandText(body: string): string {
  const kept: string[] = [];
  let fence: string | undefined;
  for (const line of body.replace(/\r\n?/g, '\n').split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      const closes = marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker;
      if (closes) fence = undefined;
      continue;
    }
    if (marker !== undefined) {
      fence = marker;
      continue;
    }
    if (line.trimStart().startsWith('>')) continue;
    kept.push(line);
  }
  return kept.join('\n');
}
