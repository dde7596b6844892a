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
  /** `allowed_teams`: only members of these teams (`org/team`) may start the job; empty: no such limit. */
  allowedTeams: string[];
  /**
   * The tenant the job belongs to: its repository's tenant for presubmits and postsubmits, Prow's
   * `prowjob_defaults.tenant_id` for periodics; `default` in a config without tenants, and when
   * no tenant owns the job (a config problem once tenants are listed).
   */
  tenant: string;
  /** Prow's `prowjob_defaults.tenant_id`, as written. */
  tenantId?: string;
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

export interface SinkerSettings {
  /** Finished ProwJobs whose start is older than this are deleted (Prow's default 7 days). */
  maxProwJobAgeMs: number;
  resyncPeriodMs: number;
  /** `bowline.sinker.max_unfinished_age`: an unfinished ProwJob older than this is ended as `error`. */
  maxUnfinishedAgeMs: number;
}

/** `bowline.kubernetes`: what kube-bridge mirrors to and imports from a cluster. */
export interface KubernetesSettings {
  enabled: boolean;
  namespace: string;
  /** Import ProwJobs with `agent: jenkins` created in the cluster by others. */
  import: boolean;
}

export interface HistorySettings {
  /** `bowline.history.max_age`: how long the HISTORY stream keeps a state change. */
  maxAgeMs: number;
}

/** Who an access rule lets in: `org-members`, `collaborators`, `team:org/team`, `user:login`. */
export type AccessEntry =
  | { kind: 'org-members' }
  | { kind: 'collaborators' }
  | { kind: 'team'; org: string; team: string }
  | { kind: 'user'; login: string };

/** A tenant's own GitHub identity: a bot account's token, or a GitHub App. */
export type GitHubCredentials = { tokenFile: string } | { appId: string; privateKeyFile: string };

/** 0: no limit. */
export interface TenantQuotas {
  maxConcurrency: number;
  maxJobsPerPr: number;
}

/** Unset lists: today's trust rules (`bowline.trust`) for test and ok_to_test; everyone may view. */
export interface TenantAccess {
  test?: AccessEntry[];
  okToTest?: AccessEntry[];
  view?: AccessEntry[];
}

/** An entry of `bowline.tenants`, or the implicit `default` tenant of a config without tenants. */
export interface Tenant {
  /** `[a-z0-9-]+`, unique. */
  name: string;
  /** `org` or `org/repo`, as written; empty for the implicit tenant, which owns every repository. */
  repos: string[];
  /** Unset only for the implicit tenant: the hook's own secret file (`GITHUB_WEBHOOK_SECRET_FILE`). */
  webhookSecretFile?: string;
  /** Unset: the service's own GitHub credentials (environment). */
  github?: GitHubCredentials;
  /** The implicit tenant's are `bowline.jenkins` (possibly empty: the JENKINS_* master). */
  jenkins: JenkinsMaster[];
  quotas: TenantQuotas;
  access: TenantAccess;
  /** True for the `default` tenant of a config without tenants. */
  implicit: boolean;
  source: Source;
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
    /** Never empty: a config without `bowline.tenants` has one implicit tenant, `default`. */
    tenants: Tenant[];
    kubernetes: KubernetesSettings;
  };
  /** Files the config was read from. */
  files: string[];
  /** What is accepted but probably a mistake; `checkconfig --strict` fails on these. */
  warnings: ConfigProblem[];
}
