/** Where a value came from, so an error can name file, line and field. */
export interface Source {
  file: string;
  line: number;
}

export interface Brancher {
  branches: RegExp[];
  skipBranches: RegExp[];
}

export interface ChangeMatcher {
  runIfChanged?: RegExp;
  skipIfOnlyChanged?: RegExp;
}

/** A presubmit as Prow defines it, with defaults applied and regexes compiled. */
export interface Presubmit extends Brancher, ChangeMatcher {
  name: string;
  agent: string;
  context: string;
  alwaysRun: boolean;
  optional: boolean;
  skipReport: boolean;
  trigger: RegExp;
  rerunCommand: string;
  maxConcurrency: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  githubBranchSourceJob: boolean;
  source: Source;
}

export interface SinkerSettings {
  /** Finished ProwJobs whose start is older than this are deleted (Prow's default 7 days). */
  maxProwJobAgeMs: number;
  resyncPeriodMs: number;
}

export interface JenkinsOperatorSettings {
  /** How often every unfinished ProwJob is reconciled against Jenkins. */
  resyncPeriodMs: number;
}

export interface Config {
  /** Presubmits keyed by `org/repo`, every agent included (callers pick `jenkins`). */
  presubmits: Record<string, Presubmit[]>;
  sinker: SinkerSettings;
  jenkinsOperator: JenkinsOperatorSettings;
  /** Files the config was read from. */
  files: string[];
}
