import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { BowlineError, parseDuration, describeError } from '@bowline/observability';
import { compileGoRegexp } from './go-regexp.js';
import { defaultRerunCommand, defaultTrigger } from './presubmit.js';
import type { Config, Presubmit, Source } from './types.js';

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

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.field}: ${p.message}`;
}

const DAY_MS = 24 * 3_600_000;

/** Reads and validates a Prow config.yaml (with Bowline's section). Throws ConfigError. */
export function loadConfigFile(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ file, line: 0, col: 0, field: '(file)', message: `cannot read: ${describeError(error)}` }]);
  }
  return parseConfig(text, file);
}

type Path = (string | number)[];

export function parseConfig(text: string, file: string): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const error of doc.errors) {
    const pos = error.linePos?.[0] ?? { line: 0, col: 0 };
    problems.push({ file, line: pos.line, col: pos.col, field: '(yaml)', message: error.message.split('\n')[0] ?? '' });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const reader = new FieldReader(doc, lineCounter, file, problems);
  const root = doc.toJS() ?? {};
  if (typeof root !== 'object' || Array.isArray(root)) {
    throw new ConfigError([{ file, line: 1, col: 1, field: '(root)', message: 'config.yaml must be a mapping' }]);
  }

  const presubmits: Record<string, Presubmit[]> = {};
  const rawPresubmits = reader.mapping(['presubmits']);
  for (const orgRepo of Object.keys(rawPresubmits)) {
    if (!/^[^/\s]+\/[^/\s]+$/.test(orgRepo)) reader.problem(['presubmits', orgRepo], 'keys must be "org/repo"');
    const jobs = reader.list(['presubmits', orgRepo]);
    presubmits[orgRepo] = jobs.flatMap((_, index) => {
      const job = readPresubmit(reader, ['presubmits', orgRepo, index]);
      return job ? [job] : [];
    });
    const seen = new Set<string>();
    presubmits[orgRepo]!.forEach((job, index) => {
      if (seen.has(job.name)) reader.problem(['presubmits', orgRepo, index, 'name'], `duplicate job name "${job.name}" in ${orgRepo}`);
      seen.add(job.name);
    });
  }

  const config: Config = {
    presubmits,
    sinker: {
      maxProwJobAgeMs: reader.duration(['sinker', 'max_prowjob_age'], 7 * DAY_MS),
      resyncPeriodMs: reader.duration(['sinker', 'resync_period'], 3_600_000),
    },
    jenkinsOperator: {
      resyncPeriodMs: reader.duration(['bowline', 'jenkins_operator', 'resync_period'], 10_000),
    },
    files: [file],
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function readPresubmit(reader: FieldReader, path: Path): Presubmit | undefined {
  const name = reader.string([...path, 'name']);
  if (!name) {
    reader.problem([...path, 'name'], 'every job needs a name');
    return undefined;
  }
  const alwaysRun = reader.boolean([...path, 'always_run'], false);
  const runIfChanged = reader.regexp([...path, 'run_if_changed']);
  const skipIfOnlyChanged = reader.regexp([...path, 'skip_if_only_changed']);
  if (alwaysRun && (runIfChanged || skipIfOnlyChanged)) {
    reader.problem([...path, 'always_run'], 'always_run and run_if_changed/skip_if_only_changed are mutually exclusive');
  }
  if (runIfChanged && skipIfOnlyChanged) {
    reader.problem([...path, 'run_if_changed'], 'run_if_changed and skip_if_only_changed are mutually exclusive');
  }
  const triggerText = reader.string([...path, 'trigger']);
  const rerunCommand = reader.string([...path, 'rerun_command']);
  if (Boolean(triggerText) !== Boolean(rerunCommand)) {
    reader.problem([...path, triggerText ? 'rerun_command' : 'trigger'], 'trigger and rerun_command must be set together');
  }
  const trigger = reader.regexp([...path, 'trigger'], triggerText ? undefined : defaultTrigger(name));
  const presubmit: Presubmit = {
    name,
    agent: reader.string([...path, 'agent']) ?? 'kubernetes',
    context: reader.string([...path, 'context']) ?? name,
    alwaysRun,
    runIfChanged,
    skipIfOnlyChanged,
    branches: reader.strings([...path, 'branches']).flatMap((b, i) => reader.compiled([...path, 'branches', i], b)),
    skipBranches: reader.strings([...path, 'skip_branches']).flatMap((b, i) => reader.compiled([...path, 'skip_branches', i], b)),
    optional: reader.boolean([...path, 'optional'], false),
    skipReport: reader.boolean([...path, 'skip_report'], false),
    trigger: trigger ?? /$^/,
    rerunCommand: rerunCommand ?? defaultRerunCommand(name),
    maxConcurrency: reader.number([...path, 'max_concurrency'], 0),
    labels: reader.stringMap([...path, 'labels']),
    annotations: reader.stringMap([...path, 'annotations']),
    githubBranchSourceJob: reader.boolean([...path, 'jenkins_spec', 'github_branch_source_job'], false),
    source: reader.source(path),
  };
  if (presubmit.maxConcurrency < 0) reader.problem([...path, 'max_concurrency'], 'must not be negative');
  if (rerunCommand && trigger && !trigger.test(rerunCommand)) {
    reader.problem([...path, 'rerun_command'], `"${rerunCommand}" does not match the job's trigger`);
  }
  return presubmit;
}

/** Reads typed fields from the parsed document and records a located problem for each mistake. */
class FieldReader {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
    private readonly problems: ConfigProblem[],
  ) {}

  source(path: Path): Source {
    return { file: this.file, line: this.position(path).line };
  }

  problem(path: Path, message: string): void {
    const { line, col } = this.position(path);
    this.problems.push({ file: this.file, line, col, field: formatPath(path), message });
  }

  /** Position of the field, or of its nearest present parent. */
  private position(path: Path): { line: number; col: number } {
    for (let end = path.length; end >= 0; end -= 1) {
      const node = this.doc.getIn(path.slice(0, end), true);
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]);
    }
    return { line: 1, col: 1 };
  }

  private value(path: Path): unknown {
    const node = this.doc.getIn(path, true);
    return isNode(node) ? node.toJSON() : node;
  }

  mapping(path: Path): Record<string, unknown> {
    const value = this.value(path);
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path, 'must be a mapping');
      return {};
    }
    return value as Record<string, unknown>;
  }

  list(path: Path): unknown[] {
    const value = this.value(path);
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.problem(path, 'must be a list');
      return [];
    }
    return value;
  }

  string(path: Path): string | undefined {
    const value = this.value(path);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.problem(path, `must be a string, not ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  }

  strings(path: Path): string[] {
    return this.list(path).flatMap((_, i) => this.string([...path, i]) ?? []);
  }

  stringMap(path: Path): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.mapping(path))) {
      if (typeof value === 'string') out[key] = value;
      else this.problem([...path, key], 'must be a string');
    }
    return out;
  }

  boolean(path: Path, fallback: boolean): boolean {
    const value = this.value(path);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') {
      this.problem(path, 'must be true or false');
      return fallback;
    }
    return value;
  }

  number(path: Path, fallback: number): number {
    const value = this.value(path);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.problem(path, 'must be a whole number');
      return fallback;
    }
    return value;
  }

  duration(path: Path, fallback: number): number {
    const text = this.string(path);
    if (text === undefined) return fallback;
    try {
      return parseDuration(text);
    } catch (error) {
      this.problem(path, describeError(error));
      return fallback;
    }
  }

  regexp(path: Path, fallbackPattern?: string): RegExp | undefined {
    const pattern = this.string(path) ?? fallbackPattern;
    if (pattern === undefined) return undefined;
    return this.compiled(path, pattern)[0];
  }

  compiled(path: Path, pattern: string): RegExp[] {
    try {
      return [compileGoRegexp(pattern)];
    } catch (error) {
      this.problem(path, `invalid regular expression: ${describeError(error)}`);
      return [];
    }
  }
}

function formatPath(path: Path): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}
