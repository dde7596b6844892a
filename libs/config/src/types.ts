import type { CronSchedule, GoTemplate, LabelSelector } from '@bowline/go';
import type { ConfigProblem } from './problems.js';

/** Where a value came from, so an error can name file, line and field. */
export interface Source {
  file: string;
  line: number;
}

export interface Brancher {
  branches: RegExp[];
  skipBranches: RegExp[];
  /** The patterns as written, which Prow compares when it asks whether two branchers intersect. */
  branchPatterns: string[];
  skipBranchPatterns: string[];
}

export interface ChangeMatcher {
  runIfChanged?: RegExp;
  skipIfOnlyChanged?: RegExp;
}

/** What every job kind shares (Prow's JobBase), with defaults applied. */
export interface JobBase {
  name: string;
  agent: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  maxConcurrency: number;
  githubBranchSourceJob: boolean;
  /** What Prow copies into the job's primary refs (pjutil.CompletePrimaryRefs); unset when absent. */
  primaryRefs: PrimaryRefsSettings;
  source: Source;
}

/** `path_alias`, `clone_uri`, `skip_submodules`, `clone_depth`, `skip_fetch_head` of a job, as set. */
export interface PrimaryRefsSettings {
  pathAlias?: string;
  cloneUri?: string;
  skipSubmodules?: boolean;
  cloneDepth?: number;
  skipFetchHead?: boolean;
}

/** A presubmit as Prow defines it, with defaults applied and regexes compiled. */
export interface Presubmit extends JobBase, Brancher, ChangeMatcher {
  context: string;
  alwaysRun: boolean;
  optional: boolean;
  skipReport: boolean;
  trigger: RegExp;
  rerunCommand: string;
}

export interface Postsubmit extends JobBase, Brancher, ChangeMatcher {
  context: string;
  /** `undefined`: not set, and a postsubmit without file filters runs anyway. */
  alwaysRun?: boolean;
  skipReport: boolean;
}

export interface Periodic extends JobBase {
  intervalMs?: number;
  cron?: CronSchedule;
}

export interface JenkinsOperatorSettings {
  /** How often every unfinished ProwJob is reconciled against Jenkins. */
  resyncPeriodMs: number;
}

/** An entry of Prow's `jenkins_operators`. */
export interface JenkinsOperatorConfig {
  labelSelector: LabelSelector;
  maxConcurrency: number;
  jobUrlTemplate?: GoTemplate;
  reportTemplate?: GoTemplate;
  source: Source;
}

/** A Jenkins master of `bowline.jenkins`. */
export interface JenkinsMaster {
  name: string;
  url: string;
  user?: string;
  tokenFile?: string;
  bearerTokenFile?: string;
  caFile?: string;
  labelSelector: LabelSelector;
  maxConcurrency: number;
  maxPendingMs: number;
  source: Source;
}

export interface TrustSettings {
  okToTest: 'per_pull_request' | 'per_commit';
  onlyOrgMembers: boolean;
  trustedApps: string[];
  trustedOrgs: string[];
}

/** `bowline.deck`: who may rerun and abort besides trusted users, by `*`, `org` or `org/repo`. */
export interface DeckSettings {
  rerunUsers: Record<string, string[]>;
  rerunTeams: Record<string, { org: string; slug: string }[]>;
}

export interface SinkerSettings {
  /** Finished ProwJobs whose start is older than this are deleted (Prow's default 7 days). */
  maxProwJobAgeMs: number;
  resyncPeriodMs: number;
  /** `bowline.sinker.max_unfinished_age`: an unfinished ProwJob older than this is ended as `error`. */
  maxUnfinishedAgeMs: number;
}

export interface HistorySettings {
  /** `bowline.history.max_age`: how long the HISTORY stream keeps a state change. */
  maxAgeMs: number;
}

export interface Config {
  /** Jobs keyed by `org/repo`, every agent included (callers pick `jenkins`). */
  presubmits: Record<string, Presubmit[]>;
  postsubmits: Record<string, Postsubmit[]>;
  periodics: Periodic[];
  jenkinsOperators: JenkinsOperatorConfig[];
  /** Prow's `status_error_link`: the link of a Jenkins job that could not be started or found. */
  statusErrorLink: string;
  sinker: SinkerSettings;
  jenkinsOperator: JenkinsOperatorSettings;
  history: HistorySettings;
  githubReporter: { jobTypesToReport: ('presubmit' | 'postsubmit')[] };
  bowline: {
    jenkins: JenkinsMaster[];
    trust: TrustSettings;
    deck: DeckSettings;
    tenants: Record<string, unknown>;
  };
  /** Files the config was read from. */
  files: string[];
  /** What is accepted but probably a mistake; `checkconfig --strict` fails on these. */
  warnings: ConfigProblem[];
}
