import { parseCron, type CronSchedule } from '@bowline/go';
import { describeError } from '@bowline/observability';
import { commandText } from './command-text.js';
import { periodicField, postsubmitField, presubmitField } from './definitions.js';
import { definedOnly, definedStrings, durationField, isString, regexpField } from './field-values.js';
import type { Field } from './fields.js';
import { brancherIntersects, defaultRerunCommand, defaultTrigger, runsAgainstBranch } from './presubmit.js';
import { DEFAULT_TENANT, tenantAmong } from './tenants.js';
import type { Brancher, Tenant, JobBase, Periodic, Postsubmit, Presubmit } from './types.js';
import type { DocumentReader, Path, Raw } from './yaml-document.js';

/** Prow's job name rule; Jenkins jobs may also name folders with `/`. */
const JOB_NAME = /^[A-Za-z0-9-._]+$/;
const JENKINS_JOB_NAME = /^[A-Za-z0-9-._/]+$/;

/** Prow's `prowjob_defaults.tenant_id` of a job, when written. */
function tenantIdOf(raw: Raw): string | undefined {
  const defaults = raw.prowjob_defaults as Raw | undefined;
  return typeof defaults?.tenant_id === 'string' ? defaults.tenant_id : undefined;
}

/** Typed jobs from checked values, with Prow's defaults, and the rules that span jobs. */
export class JobsBuilder {
  readonly presubmits: Record<string, { job: Presubmit; doc: DocumentReader; path: Path }[]> = {};
  readonly postsubmits: Record<string, { job: Postsubmit; doc: DocumentReader; path: Path }[]> = {};
  readonly periodics: { job: Periodic; doc: DocumentReader; path: Path }[] = [];

  addJobs(doc: DocumentReader): void {
    for (const [orgRepo, jobs] of Object.entries((doc.value.presubmits as Record<string, Raw[]>) ?? {})) {
      for (const [i, raw] of (jobs ?? []).entries()) {
        const path = ['presubmits', orgRepo, i];
        const job = raw && this.presubmit(doc, raw, path);
        if (job) (this.presubmits[orgRepo] ??= []).push({ job, doc, path });
      }
    }
    for (const [orgRepo, jobs] of Object.entries((doc.value.postsubmits as Record<string, Raw[]>) ?? {})) {
      for (const [i, raw] of (jobs ?? []).entries()) {
        const path = ['postsubmits', orgRepo, i];
        const job = raw && this.postsubmit(doc, raw, path);
        if (job) (this.postsubmits[orgRepo] ??= []).push({ job, doc, path });
      }
    }
    for (const [i, raw] of ((doc.value.periodics as Raw[]) ?? []).entries()) {
      const path = ['periodics', i];
      const job = raw && this.periodic(doc, raw, path);
      if (job) this.periodics.push({ job, doc, path });
    }
  }

  /** Prow's rules that look at several jobs at once; run after every file's jobs are added. */
  checkTogether(): void {
    this.checkPresubmitsTogether();
    this.checkPostsubmitsTogether();
    this.checkPeriodicsTogether();
  }

  private jobBase(doc: DocumentReader, raw: Raw, path: Path, field: Extract<Field, { type: 'object' }>): JobBase | undefined {
    const name = raw.name as string | undefined;
    if (name === undefined) return undefined;
    const agent = (raw.agent as string | undefined) ?? 'kubernetes';
    const pattern = agent === 'jenkins' ? JENKINS_JOB_NAME : JOB_NAME;
    if (!pattern.test(name)) doc.problem([...path, 'name'], `job name "${name}" must match ${pattern.source}`);
    if (agent === 'jenkins') {
      // Other agents' jobs carry many fields Bowline does not model; in a Jenkins job an unknown
      // field is most likely a typo (`alway_run`) that silently changes what runs.
      for (const key of Object.keys(raw)) {
        if (!(key in field.fields) && !(field.known ?? []).includes(key)) doc.warn([...path, key], `job "${name}": unknown field "${key}" is ignored`);
      }
    }
    const jenkinsSpec = raw.jenkins_spec as Raw | undefined;
    return {
      name,
      agent,
      labels: definedStrings(raw.labels),
      annotations: definedStrings(raw.annotations),
      maxConcurrency: (raw.max_concurrency as number | undefined) ?? 0,
      githubBranchSourceJob: (jenkinsSpec?.github_branch_source_job as boolean | undefined) ?? false,
      primaryRefs: definedOnly({
        pathAlias: raw.path_alias as string | undefined,
        cloneUri: raw.clone_uri as string | undefined,
        skipSubmodules: raw.skip_submodules as boolean | undefined,
        cloneDepth: raw.clone_depth as number | undefined,
        skipFetchHead: raw.skip_fetch_head as boolean | undefined,
      }),
      allowedTeams: ((raw.allowed_teams as unknown[] | undefined) ?? []).filter(isString),
      tenant: DEFAULT_TENANT, // assignTenants, once the tenants are known
      tenantId: tenantIdOf(raw),
      source: { file: doc.file, line: doc.line(path) },
    };
  }

  /**
   * Each presubmit and postsubmit belongs to its repository's tenant. A periodic has no
   * repository, so it names its tenant as Prow's jobs do, in `prowjob_defaults.tenant_id`. In a
   * config without tenants every job is `default`'s, whatever `tenant_id` it carries for Prow's Deck.
   */
  assignTenants(tenants: Tenant[]): void {
    const implicit = tenants.some((t) => t.implicit);
    for (const byRepo of [this.presubmits, this.postsubmits]) {
      for (const [orgRepo, jobs] of Object.entries(byRepo)) {
        const [org = '', repo = ''] = orgRepo.split('/');
        const owner = tenantAmong(tenants, org, repo);
        for (const { job } of jobs) job.tenant = owner?.name ?? DEFAULT_TENANT;
      }
    }
    for (const { job } of this.periodics) job.tenant = implicit ? DEFAULT_TENANT : (job.tenantId ?? DEFAULT_TENANT);
    if (!implicit) this.checkJobTenants(tenants);
  }

  /**
   * With tenants listed, every Jenkins job belongs to one: a presubmit's or postsubmit's repository
   * is in a tenant (and a `tenant_id` it carries names that tenant), a periodic names its tenant in
   * `prowjob_defaults.tenant_id`. Other agents' jobs are Bowline's to ignore, so not checked.
   */
  private checkJobTenants(tenants: Tenant[]): void {
    const names = tenants.map((t) => t.name);
    for (const byRepo of [this.presubmits, this.postsubmits]) {
      for (const [orgRepo, jobs] of Object.entries(byRepo)) {
        const [org = '', repo = ''] = orgRepo.split('/');
        const owner = tenantAmong(tenants, org, repo);
        for (const { job, doc, path } of jobs) {
          if (job.agent !== 'jenkins') continue;
          if (!owner) doc.problem(path, `job "${job.name}": ${orgRepo} is in no tenant: add it (or its org) to one of ${names.join(', ')}`);
          else if (job.tenantId !== undefined && job.tenantId !== owner.name) {
            doc.problem([...path, 'prowjob_defaults', 'tenant_id'], `job "${job.name}": tenant_id "${job.tenantId}" is not ${orgRepo}'s tenant, "${owner.name}"`);
          }
        }
      }
    }
    for (const { job, doc, path } of this.periodics) {
      if (job.agent !== 'jenkins') continue;
      if (job.tenantId === undefined) doc.problem(path, `periodic "${job.name}": name its tenant in prowjob_defaults.tenant_id (one of ${names.join(', ')})`);
      else if (!names.includes(job.tenantId)) doc.problem([...path, 'prowjob_defaults', 'tenant_id'], `periodic "${job.name}": there is no tenant "${job.tenantId}" (tenants: ${names.join(', ')})`);
    }
  }

  private brancher(doc: DocumentReader, raw: Raw, path: Path, job: string): Brancher {
    const branchPatterns = ((raw.branches as (string | undefined)[]) ?? []).filter(isString);
    const skipBranchPatterns = ((raw.skip_branches as (string | undefined)[]) ?? []).filter(isString);
    const brancher: Brancher = {
      branchPatterns,
      skipBranchPatterns,
      branches: branchPatterns.flatMap((p, i) => regexpField(doc, [...path, 'branches', i], p, job) ?? []),
      skipBranches: skipBranchPatterns.flatMap((p, i) => regexpField(doc, [...path, 'skip_branches', i], p, job) ?? []),
    };
    // A branch the job lists but also skips: listing only such branches means the job never runs.
    if (branchPatterns.length > 0 && branchPatterns.every((b) => !runsAgainstBranch(brancher, b))) {
      doc.warn([...path, 'skip_branches'], `job "${job}": skip_branches excludes every branch in branches, so the job never runs`);
    }
    return brancher;
  }

  private changeMatcher(doc: DocumentReader, raw: Raw, path: Path, job: string, alwaysRun: boolean | undefined) {
    const runIfChanged = regexpField(doc, [...path, 'run_if_changed'], raw.run_if_changed as string | undefined, job);
    const skipIfOnlyChanged = regexpField(doc, [...path, 'skip_if_only_changed'], raw.skip_if_only_changed as string | undefined, job);
    if (alwaysRun && (raw.run_if_changed !== undefined || raw.skip_if_only_changed !== undefined)) {
      doc.problem([...path, 'always_run'], `job "${job}": always_run and run_if_changed/skip_if_only_changed are mutually exclusive`);
    }
    if (raw.run_if_changed !== undefined && raw.skip_if_only_changed !== undefined) {
      doc.problem([...path, 'run_if_changed'], `job "${job}": run_if_changed and skip_if_only_changed are mutually exclusive`);
    }
    return { runIfChanged, skipIfOnlyChanged };
  }

  private presubmit(doc: DocumentReader, raw: Raw, path: Path): Presubmit | undefined {
    const base = this.jobBase(doc, raw, path, presubmitField as Extract<Field, { type: 'object' }>);
    if (!base) return undefined;
    const { name } = base;
    const alwaysRun = (raw.always_run as boolean | undefined) ?? false;
    const triggerText = raw.trigger as string | undefined;
    const rerunCommand = raw.rerun_command as string | undefined;
    if ((triggerText === undefined) !== (rerunCommand === undefined)) {
      doc.problem([...path, triggerText === undefined ? 'trigger' : 'rerun_command'], `job "${name}": trigger and rerun_command must be set together`);
    }
    const trigger = regexpField(doc, [...path, 'trigger'], triggerText ?? defaultTrigger(name), name) ?? /$^/;
    const rerun = rerunCommand ?? defaultRerunCommand(name);
    if (rerunCommand !== undefined && triggerText !== undefined && !trigger.test(rerunCommand)) {
      doc.problem([...path, 'rerun_command'], `job "${name}": "${rerunCommand}" does not match the job's trigger`);
    }
    return {
      ...base,
      ...this.brancher(doc, raw, path, name),
      ...this.changeMatcher(doc, raw, path, name, alwaysRun),
      context: (raw.context as string | undefined) ?? name,
      alwaysRun,
      optional: (raw.optional as boolean | undefined) ?? false,
      skipReport: (raw.skip_report as boolean | undefined) ?? false,
      trigger,
      rerunCommand: rerun,
    };
  }

  private postsubmit(doc: DocumentReader, raw: Raw, path: Path): Postsubmit | undefined {
    const base = this.jobBase(doc, raw, path, postsubmitField as Extract<Field, { type: 'object' }>);
    if (!base) return undefined;
    const alwaysRun = raw.always_run as boolean | undefined;
    return {
      ...base,
      ...this.brancher(doc, raw, path, base.name),
      ...this.changeMatcher(doc, raw, path, base.name, alwaysRun),
      context: (raw.context as string | undefined) ?? base.name,
      alwaysRun,
      skipReport: (raw.skip_report as boolean | undefined) ?? false,
    };
  }

  private periodic(doc: DocumentReader, raw: Raw, path: Path): Periodic | undefined {
    const base = this.jobBase(doc, raw, path, periodicField as Extract<Field, { type: 'object' }>);
    if (!base) return undefined;
    const hasInterval = raw.interval !== undefined;
    const hasCron = raw.cron !== undefined;
    if (hasInterval === hasCron) {
      doc.problem([...path, hasCron ? 'cron' : 'interval'], `job "${base.name}": set exactly one of interval and cron`);
    }
    const periodic: Periodic = { ...base };
    if (hasInterval) {
      periodic.intervalMs = durationField(doc, [...path, 'interval'], raw.interval, 0);
      if (periodic.intervalMs <= 0) doc.problem([...path, 'interval'], `job "${base.name}": interval must be longer than zero`);
    }
    if (hasCron) {
      try {
        periodic.cron = parseCron(raw.cron as string) as CronSchedule;
      } catch (error) {
        doc.problem([...path, 'cron'], `job "${base.name}": invalid cron "${raw.cron as string}": ${describeError(error)}`);
      }
    }
    return periodic;
  }

  /** Prow's validatePresubmits: one name per branch, and one context per branch. */
  private checkPresubmitsTogether(): void {
    for (const [orgRepo, jobs] of Object.entries(this.presubmits)) {
      this.checkNamesAndContexts(orgRepo, jobs, true);
      for (const { job, doc, path } of jobs) {
        // A command Bowline cannot read (quoted, in a code block) cannot start the job.
        if (!job.trigger.test(commandText(job.rerunCommand))) {
          doc.warn([...path, 'rerun_command'], `job "${job.name}": no comment can trigger it: "${job.rerunCommand}" is not read as a command`);
        }
        for (const other of jobs) {
          if (other.job !== job && other.job.trigger.test(job.rerunCommand) && !job.trigger.test(other.job.rerunCommand)) {
            doc.warn([...path, 'rerun_command'], `job "${job.name}": its rerun command "${job.rerunCommand}" also starts "${other.job.name}"`);
          }
        }
      }
    }
  }

  private checkPostsubmitsTogether(): void {
    for (const [orgRepo, jobs] of Object.entries(this.postsubmits)) this.checkNamesAndContexts(orgRepo, jobs, false);
  }

  private checkNamesAndContexts(
    orgRepo: string,
    jobs: { job: (Presubmit | Postsubmit); doc: DocumentReader; path: Path }[],
    contexts: boolean,
  ): void {
    jobs.forEach(({ job, doc, path }, i) => {
      for (const earlier of jobs.slice(0, i)) {
        if (!brancherIntersects(earlier.job, job)) continue;
        if (earlier.job.name === job.name) {
          doc.problem([...path, 'name'], `duplicate job "${job.name}" in ${orgRepo} on overlapping branches (also at ${earlier.job.source.file}:${earlier.job.source.line})`);
        } else if (contexts && earlier.job.context === job.context) {
          doc.problem([...path, 'context'], `jobs "${earlier.job.name}" and "${job.name}" report to the same context "${job.context}" on overlapping branches`);
        }
      }
    });
  }

  private checkPeriodicsTogether(): void {
    const seen = new Map<string, Periodic>();
    for (const { job, doc, path } of this.periodics) {
      const earlier = seen.get(job.name);
      if (earlier) doc.problem([...path, 'name'], `duplicate periodic "${job.name}" (also at ${earlier.source.file}:${earlier.source.line})`);
      seen.set(job.name, job);
    }
  }

  /** A Jenkins job that no master of its tenant takes would wait forever. */
  checkJobsHaveAMaster(tenants: Tenant[]): void {
    for (const { job, doc, path } of this.all()) {
      const masters = tenants.find((t) => t.name === job.tenant)?.jenkins ?? [];
      if (job.agent === 'jenkins' && masters.length > 0 && !masters.some((m) => m.labelSelector.matches(job.labels))) {
        doc.warn([...path, 'labels'], `job "${job.name}": no Jenkins master's label_selector matches its labels, so it never runs`);
      }
    }
  }

  private all(): { job: JobBase; doc: DocumentReader; path: Path }[] {
    return [...Object.values(this.presubmits), ...Object.values(this.postsubmits), this.periodics].flat();
  }
}
