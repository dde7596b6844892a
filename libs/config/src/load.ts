import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { compileGoRegexp, parseCron, parseLabelSelector, selectorsOverlap, type CronSchedule, type GoTemplate, type LabelSelector } from '@bowline/go';
import { describeError } from '@bowline/observability';
import { parseDuration } from '@bowline/service';
import { commandText } from './command-text.js';
import { configField, jobConfigField, periodicField, postsubmitField, presubmitField } from './definitions.js';
import type { Field } from './fields.js';
import { ConfigError, type ConfigProblem } from './problems.js';
import { brancherIntersects, defaultRerunCommand, defaultTrigger, runsAgainstBranch } from './presubmit.js';
import { parseConfigTemplate } from './templates.js';
import type { Brancher, Config, JenkinsMaster, JenkinsOperatorConfig, JobBase, Periodic, Postsubmit, Presubmit } from './types.js';

type Path = (string | number)[];
type Raw = Record<string, unknown>;

const DAY_MS = 24 * 3_600_000;
const YAML_11_BOOLEANS: Record<string, boolean> = Object.fromEntries([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON'].map((w) => [w, true]),
  ...['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'].map((w) => [w, false]),
]);
/** Prow's job name rule; Jenkins jobs may also name folders with `/`. */
const JOB_NAME = /^[A-Za-z0-9-._]+$/;
const JENKINS_JOB_NAME = /^[A-Za-z0-9-._/]+$/;

export interface LoadOptions {
  /** Prow's `--job-config-path`: a directory whose YAML files (searched recursively) hold more jobs. */
  jobConfigDir?: string;
}

/** Reads and validates a Prow config.yaml (with Bowline's section) and its job files. Throws ConfigError. */
export function loadConfigFile(file: string, options: LoadOptions = {}): Config {
  const sources = [{ file, text: readText(file) }];
  if (options.jobConfigDir) {
    for (const jobFile of yamlFilesUnder(options.jobConfigDir)) sources.push({ file: jobFile, text: readText(jobFile) });
  }
  return parseConfig(sources[0]!.text, file, sources.slice(1));
}

/** Parses config text; `jobFiles` are Prow's split job config files. Throws ConfigError. */
export function parseConfig(text: string, file: string, jobFiles: { file: string; text: string }[] = []): Config {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const main = new DocumentReader(file, text, configField, problems, warnings);
  const jobDocs = jobFiles.map((f) => new DocumentReader(f.file, f.text, jobConfigField, problems, warnings));
  if (problems.length > 0) throw new ConfigError(problems);

  const builder = new ConfigBuilder(problems, warnings);
  for (const doc of [main, ...jobDocs]) builder.addJobs(doc);
  const config = builder.finish(main, [file, ...jobFiles.map((f) => f.file)]);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ file, line: 0, col: 0, field: '(file)', message: `cannot read: ${describeError(error)}` }]);
  }
}

/** Every `.yaml`/`.yml` file under `dir`, sorted so errors come in a stable order. */
export function yamlFilesUnder(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (error) {
    throw new ConfigError([{ file: dir, line: 0, col: 0, field: '(job config)', message: `cannot read directory: ${describeError(error)}` }]);
  }
  return entries.flatMap((name) => {
    // Kubernetes mounts a ConfigMap with hidden `..data` links; following them would read each file twice.
    if (name.startsWith('.')) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFilesUnder(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

/** One YAML file: its values type-checked against the config's field descriptions, with positions. */
class DocumentReader {
  readonly value: Raw;
  private readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    text: string,
    root: Field,
    private readonly problems: ConfigProblem[],
    private readonly warnings: ConfigProblem[],
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true });
    for (const error of this.doc.errors) {
      const pos = error.linePos?.[0] ?? { line: 0, col: 0 };
      problems.push({ file, line: pos.line, col: pos.col, field: '(yaml)', message: error.message.split('\n')[0] ?? '' });
    }
    const js: unknown = this.doc.errors.length > 0 ? {} : (this.doc.toJS() ?? {});
    this.value = (this.check(root, js, []) as Raw | undefined) ?? {};
  }

  problem(path: Path, message: string): void {
    this.problems.push(this.locate(path, message));
  }

  warn(path: Path, message: string): void {
    this.warnings.push(this.locate(path, message));
  }

  line(path: Path): number {
    return this.locate(path, '').line;
  }

  private locate(path: Path, message: string): ConfigProblem {
    // The field's own node, or its nearest parent present in the file.
    for (let end = path.length; end >= 0; end -= 1) {
      const node = this.doc.getIn(path.slice(0, end), true);
      if (isNode(node) && node.range) {
        const { line, col } = this.lines.linePos(node.range[0]);
        return { file: this.file, line, col, field: formatPath(path), message };
      }
    }
    return { file: this.file, line: 1, col: 1, field: formatPath(path), message };
  }

  /** The value if it has the field's type (recursively), else `undefined` and a problem. */
  private check(field: Field, value: unknown, path: Path): unknown {
    if (value === undefined || value === null) return undefined;
    const wrong = (expected: string): undefined => {
      this.problem(path, `must be ${expected}, not ${JSON.stringify(value)}`);
      return undefined;
    };
    switch (field.type) {
      case 'string':
        if (typeof value !== 'string') return wrong('a string');
        if (field.enum && !field.enum.includes(value)) return wrong(`one of ${field.enum.join(', ')}`);
        return value;
      case 'boolean':
        if (typeof value === 'boolean') return value;
        // Prow's Go YAML library reads YAML 1.1, where `yes`, `on`, `y` … are booleans too.
        if (typeof value === 'string' && value in YAML_11_BOOLEANS) return YAML_11_BOOLEANS[value];
        return wrong('true or false');
      case 'integer':
        if (typeof value !== 'number' || !Number.isInteger(value)) return wrong('a whole number');
        if (field.minimum !== undefined && value < field.minimum) {
          this.problem(path, field.minimum === 0 ? 'must not be negative' : `must be at least ${field.minimum}`);
          return undefined;
        }
        return value;
      case 'list':
        if (!Array.isArray(value)) return wrong('a list');
        return value.map((item, i) => this.check(field.items, item, [...path, i]));
      case 'map': {
        if (typeof value !== 'object' || Array.isArray(value)) return wrong('a mapping');
        const out: Raw = {};
        for (const [key, item] of Object.entries(value)) {
          if (field.keyPattern && !new RegExp(field.keyPattern).test(key)) this.problem([...path, key], `key "${key}" must look like org/repo`);
          else out[key] = this.check(field.values, item, [...path, key]);
        }
        return out;
      }
      case 'object': {
        if (typeof value !== 'object' || Array.isArray(value)) return wrong('a mapping');
        const out: Raw = {};
        for (const [key, item] of Object.entries(value)) {
          const sub = field.fields[key];
          if (sub) out[key] = this.check(sub, item, [...path, key]);
          else if (field.open) out[key] = item;
          else this.problem([...path, key], `unknown field "${key}" (known: ${Object.keys(field.fields).join(', ')})`);
        }
        for (const key of field.required ?? []) {
          if (out[key] === undefined) this.problem([...path, key], 'is required');
        }
        return out;
      }
      case 'any':
        return value;
    }
  }
}

/** Turns checked values into typed jobs and settings, applying Prow's defaults and rules. */
class ConfigBuilder {
  private readonly presubmits: Record<string, { job: Presubmit; doc: DocumentReader; path: Path }[]> = {};
  private readonly postsubmits: Record<string, { job: Postsubmit; doc: DocumentReader; path: Path }[]> = {};
  private readonly periodics: { job: Periodic; doc: DocumentReader; path: Path }[] = [];

  constructor(
    private readonly problems: ConfigProblem[],
    private readonly warnings: ConfigProblem[],
  ) {}

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

  finish(main: DocumentReader, files: string[]): Config {
    this.checkPresubmitsTogether();
    this.checkPostsubmitsTogether();
    this.checkPeriodicsTogether();
    const raw = main.value;
    const sinker = (raw.sinker as Raw) ?? {};
    const bowline = (raw.bowline as Raw) ?? {};
    const trust = (bowline.trust as Raw) ?? {};
    const jenkinsOperators = this.jenkinsOperators(main, (raw.jenkins_operators as Raw[]) ?? []);
    const jenkins = this.jenkinsMasters(main, (bowline.jenkins as Raw[]) ?? []);
    this.checkExternalAgentLogs(main, raw.deck);
    this.checkJobsHaveAMaster(jenkins);
    return {
      presubmits: mapValues(this.presubmits, (jobs) => jobs.map((j) => j.job)),
      postsubmits: mapValues(this.postsubmits, (jobs) => jobs.map((j) => j.job)),
      periodics: this.periodics.map((p) => p.job),
      jenkinsOperators,
      // Prow's default (pkg/config/config.go, when status_error_link is unset).
      statusErrorLink: (raw.status_error_link as string | undefined) || 'https://github.com/kubernetes/test-infra/issues',
      sinker: {
        maxProwJobAgeMs: this.duration(main, ['sinker', 'max_prowjob_age'], sinker.max_prowjob_age, 7 * DAY_MS),
        resyncPeriodMs: this.duration(main, ['sinker', 'resync_period'], sinker.resync_period, 3_600_000),
        maxUnfinishedAgeMs: this.duration(
          main,
          ['bowline', 'sinker', 'max_unfinished_age'],
          (bowline.sinker as Raw | undefined)?.max_unfinished_age,
          48 * 3_600_000,
        ),
      },
      history: {
        maxAgeMs: this.duration(main, ['bowline', 'history', 'max_age'], (bowline.history as Raw | undefined)?.max_age, 90 * DAY_MS),
      },
      githubReporter: {
        // Prow's default: presubmits and postsubmits (periodics have no commit to report on).
        jobTypesToReport: ((raw.github_reporter as Raw | undefined)?.job_types_to_report as ('presubmit' | 'postsubmit' | undefined)[] | undefined)?.filter(
          (t): t is 'presubmit' | 'postsubmit' => t !== undefined,
        ) ?? ['presubmit', 'postsubmit'],
      },
      jenkinsOperator: {
        resyncPeriodMs: this.duration(main, ['bowline', 'jenkins_operator', 'resync_period'], (bowline.jenkins_operator as Raw | undefined)?.resync_period, 10_000),
      },
      bowline: {
        jenkins,
        trust: {
          okToTest: (trust.ok_to_test as 'per_pull_request' | 'per_commit' | undefined) ?? 'per_pull_request',
          onlyOrgMembers: (trust.only_org_members as boolean | undefined) ?? false,
          trustedApps: ((trust.trusted_apps as (string | undefined)[] | undefined) ?? []).filter(isString),
          trustedOrgs: ((trust.trusted_orgs as (string | undefined)[] | undefined) ?? []).filter(isString),
        },
        tenants: (bowline.tenants as Record<string, unknown>) ?? {},
      },
      files,
      warnings: this.warnings,
    };
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
      source: { file: doc.file, line: doc.line(path) },
    };
  }

  private brancher(doc: DocumentReader, raw: Raw, path: Path, job: string): Brancher {
    const branchPatterns = ((raw.branches as (string | undefined)[]) ?? []).filter(isString);
    const skipBranchPatterns = ((raw.skip_branches as (string | undefined)[]) ?? []).filter(isString);
    const brancher: Brancher = {
      branchPatterns,
      skipBranchPatterns,
      branches: branchPatterns.flatMap((p, i) => this.regexp(doc, [...path, 'branches', i], p, job) ?? []),
      skipBranches: skipBranchPatterns.flatMap((p, i) => this.regexp(doc, [...path, 'skip_branches', i], p, job) ?? []),
    };
    // A branch the job lists but also skips: listing only such branches means the job never runs.
    if (branchPatterns.length > 0 && branchPatterns.every((b) => !runsAgainstBranch(brancher, b))) {
      doc.warn([...path, 'skip_branches'], `job "${job}": skip_branches excludes every branch in branches, so the job never runs`);
    }
    return brancher;
  }

  private changeMatcher(doc: DocumentReader, raw: Raw, path: Path, job: string, alwaysRun: boolean | undefined) {
    const runIfChanged = this.regexp(doc, [...path, 'run_if_changed'], raw.run_if_changed as string | undefined, job);
    const skipIfOnlyChanged = this.regexp(doc, [...path, 'skip_if_only_changed'], raw.skip_if_only_changed as string | undefined, job);
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
    const trigger = this.regexp(doc, [...path, 'trigger'], triggerText ?? defaultTrigger(name), name) ?? /$^/;
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
      periodic.intervalMs = this.duration(doc, [...path, 'interval'], raw.interval, 0);
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

  /** Prow's rules for `jenkins_operators`: valid selectors, and no empty one among several. */
  private jenkinsOperators(doc: DocumentReader, entries: Raw[]): JenkinsOperatorConfig[] {
    return entries.flatMap((raw, i) => {
      if (!raw) return [];
      const path = ['jenkins_operators', i];
      const selectorText = (raw.label_selector as string | undefined) ?? '';
      if (entries.length > 1 && selectorText === '') {
        doc.problem([...path, 'label_selector'], 'selector overlap: an empty label_selector cannot be used with several jenkins_operators');
      }
      if (entries.length === 1 && selectorText !== '') {
        doc.warn([...path, 'label_selector'], "a label_selector on the only jenkins_operators entry: Prow's checkconfig rejects this; Bowline applies the entry to the jobs it selects");
      }
      return [
        {
          labelSelector: this.selector(doc, [...path, 'label_selector'], selectorText),
          maxConcurrency: (raw.max_concurrency as number | undefined) ?? 0,
          jobUrlTemplate: this.template(doc, [...path, 'job_url_template'], raw.job_url_template),
          reportTemplate: this.template(doc, [...path, 'report_template'], raw.report_template),
          source: { file: doc.file, line: doc.line(path) },
        },
      ];
    });
  }

  private jenkinsMasters(doc: DocumentReader, entries: Raw[]): JenkinsMaster[] {
    const masters = entries.flatMap((raw, i): JenkinsMaster[] => {
      if (!raw?.name || !raw.url) return [];
      const path = ['bowline', 'jenkins', i];
      const name = raw.name as string;
      const url = raw.url as string;
      if (!/^https?:\/\/[^\s/]+/.test(url)) doc.problem([...path, 'url'], `Jenkins master "${name}": "${url}" is not an http(s) URL`);
      if (raw.bearer_token_file !== undefined && (raw.user !== undefined || raw.token_file !== undefined)) {
        doc.problem([...path, 'bearer_token_file'], `Jenkins master "${name}": use either bearer_token_file or user + token_file, not both`);
      }
      if ((raw.user === undefined) !== (raw.token_file === undefined)) {
        doc.problem([...path, raw.user === undefined ? 'user' : 'token_file'], `Jenkins master "${name}": user and token_file go together`);
      }
      const selectorText = (raw.label_selector as string | undefined) ?? '';
      if (entries.length > 1 && selectorText === '') {
        doc.problem([...path, 'label_selector'], `Jenkins master "${name}": with several masters each needs a label_selector saying which jobs it runs`);
      }
      return [
        {
          name,
          url,
          user: raw.user as string | undefined,
          tokenFile: raw.token_file as string | undefined,
          bearerTokenFile: raw.bearer_token_file as string | undefined,
          caFile: raw.ca_file as string | undefined,
          labelSelector: this.selector(doc, [...path, 'label_selector'], selectorText),
          maxConcurrency: (raw.max_concurrency as number | undefined) ?? 0,
          maxPendingMs: this.duration(doc, [...path, 'max_pending'], raw.max_pending, DAY_MS),
          source: { file: doc.file, line: doc.line(path) },
        },
      ];
    });
    masters.forEach((master, i) => {
      for (const [j, other] of masters.slice(0, i).entries()) {
        if (other.name === master.name) doc.problem(['bowline', 'jenkins', i, 'name'], `two Jenkins masters are named "${master.name}"`);
        else if (selectorsOverlap(other.labelSelector, master.labelSelector) === true) {
          doc.warn(['bowline', 'jenkins', i, 'label_selector'], `Jenkins masters "${other.name}" (entry ${j}) and "${master.name}" can both match one job; the first listed wins`);
        }
      }
    });
    return masters;
  }

  /** A Jenkins job that no master's selector takes would wait forever. */
  private checkJobsHaveAMaster(masters: JenkinsMaster[]): void {
    if (masters.length === 0) return;
    const all = [...Object.values(this.presubmits), ...Object.values(this.postsubmits), this.periodics].flat();
    for (const { job, doc, path } of all) {
      if (job.agent === 'jenkins' && !masters.some((m) => m.labelSelector.matches(job.labels))) {
        doc.warn([...path, 'labels'], `job "${job.name}": no Jenkins master's label_selector matches its labels, so it never runs`);
      }
    }
  }

  /** Deck's `external_agent_logs[].url_template` are templates over the ProwJob too. */
  private checkExternalAgentLogs(doc: DocumentReader, deck: unknown): void {
    const logs = (deck as { external_agent_logs?: unknown } | undefined)?.external_agent_logs;
    if (!Array.isArray(logs)) return;
    logs.forEach((entry: unknown, i) => {
      const template = (entry as { url_template?: unknown } | null)?.url_template;
      if (template !== undefined) this.template(doc, ['deck', 'external_agent_logs', i, 'url_template'], template);
    });
  }

  private regexp(doc: DocumentReader, path: Path, pattern: string | undefined, job: string): RegExp | undefined {
    if (pattern === undefined) return undefined;
    try {
      return compileGoRegexp(pattern);
    } catch (error) {
      doc.problem(path, `job "${job}": invalid regular expression: ${describeError(error)}`);
      return undefined;
    }
  }

  private duration(doc: DocumentReader, path: Path, text: unknown, fallback: number): number {
    if (typeof text !== 'string') return fallback;
    try {
      return parseDuration(text);
    } catch (error) {
      doc.problem(path, describeError(error));
      return fallback;
    }
  }

  private selector(doc: DocumentReader, path: Path, text: string): LabelSelector {
    try {
      return parseLabelSelector(text);
    } catch (error) {
      doc.problem(path, `invalid label selector "${text}": ${describeError(error)}`);
      return parseLabelSelector('');
    }
  }

  private template(doc: DocumentReader, path: Path, text: unknown): GoTemplate | undefined {
    if (typeof text !== 'string') return undefined;
    try {
      return parseConfigTemplate(text);
    } catch (error) {
      doc.problem(path, `invalid template: ${describeError(error)}`);
      return undefined;
    }
  }
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function definedStrings(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries((value as Record<string, unknown>) ?? {}).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
}

function definedOnly<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
}

function mapValues<T, U>(record: Record<string, T>, f: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));
}

function formatPath(path: Path): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
}
