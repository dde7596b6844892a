import { BowlineError } from '@bowline/observability';

export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  /** Dotted path of the field, e.g. `presubmits.org/repo[0].trigger`. */
  field: string;
  message: string;
}

/** An invalid config.yaml; `problems` name file, line and field of each mistake. */
export class ConfigError extends BowlineError {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** `file:line:col: field: message`, the form editors and CI annotate. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.field}: ${p.message}`;
}
