import { BowlineError } from '@bowline/observability';

/** A template that does not parse, uses what the port or the caller leaves out, or fails to execute. */
export class TemplateError extends BowlineError {
  /** The problem alone, without the template name and position. */
  readonly reason: string;
  /** Position within the template text (UTF-16 code units from the start; line and col from 1). */
  readonly offset?: number;
  readonly line?: number;
  readonly col?: number;

  /**
   * `name` is the text's name (a file, or `job_url_template`); `template` is the template being
   * executed when that is another one of the text's, a `{{define}}` in it.
   */
  constructor(
    reason: string,
    options: { source?: string; name?: string; offset?: number; executing?: string; template?: string; cause?: unknown } = {},
  ) {
    const { source, name, offset, executing, template } = options;
    const at = source !== undefined && offset !== undefined ? lineAndColumn(source, offset) : undefined;
    // Go's shape: `template: NAME:LINE:COL: executing "NAME" at <.Spec.Jbo>: can't evaluate field Jbo ...`
    const where = [name, at && `${at.line}:${at.col}`].filter(Boolean).join(':');
    const doing = executing === undefined ? '' : `executing ${template === undefined ? '' : `${JSON.stringify(template)} `}at <${executing}>: `;
    super(`template: ${where ? `${where}: ` : ''}${doing}${reason}`, {
      cause: options.cause,
      context: { template: name, offset, line: at?.line, col: at?.col },
    });
    this.reason = reason;
    this.offset = offset;
    this.line = at?.line;
    this.col = at?.col;
  }
}

function lineAndColumn(source: string, offset: number): { line: number; col: number } {
  const before = source.slice(0, offset);
  const lastNewline = before.lastIndexOf('\n');
  return { line: before.split('\n').length, col: offset - lastNewline };
}

/** An error from a builtin function or from fmt; the evaluator adds Go's `error calling NAME:` and the position. */
export class CallError extends Error {}
