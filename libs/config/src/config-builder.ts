import { selectorsOverlap } from '@bowline/go';
import { durationField, isString, selectorField, templateField } from './field-values.js';
import { JobsBuilder } from './jobs.js';
import type { ConfigProblem } from './problems.js';
import type { Config, JenkinsMaster, JenkinsOperatorConfig } from './types.js';
import { buildTenants, checkTenants } from './tenants.js';
import type { DocumentReader, Path, Raw } from './yaml-document.js';

const DAY_MS = 24 * 3_600_000;

/** Turns checked values into typed jobs and settings, applying Prow's defaults and rules. */
export class ConfigBuilder {
  private readonly jobs = new JobsBuilder();

  constructor(
    private readonly problems: ConfigProblem[],
    private readonly warnings: ConfigProblem[],
  ) {}

  addJobs(doc: DocumentReader): void {
    this.jobs.addJobs(doc);
  }

  finish(main: DocumentReader, files: string[]): Config {
    this.jobs.checkTogether();
    const raw = main.value;
    const sinker = (raw.sinker as Raw) ?? {};
    const bowline = (raw.bowline as Raw) ?? {};
    const trust = (bowline.trust as Raw) ?? {};
    const jenkinsOperators = this.jenkinsOperators(main, (raw.jenkins_operators as Raw[]) ?? []);
    const jenkins = this.jenkinsMasters(main, ['bowline', 'jenkins'], (bowline.jenkins as Raw[]) ?? []);
    checkTenants(main, bowline.tenants as Raw[] | undefined, bowline.jenkins);
    const tenants = buildTenants(main, bowline.tenants as Raw[] | undefined, jenkins, (doc, path, entries) => this.jenkinsMasters(doc, path, entries));
    this.checkExternalAgentLogs(main, raw.deck);
    this.jobs.assignTenants(tenants);
    this.jobs.checkJobsHaveAMaster(tenants);
    return {
      presubmits: mapValues(this.jobs.presubmits, (jobs) => jobs.map((j) => j.job)),
      postsubmits: mapValues(this.jobs.postsubmits, (jobs) => jobs.map((j) => j.job)),
      periodics: this.jobs.periodics.map((p) => p.job),
      jenkinsOperators,
      // Prow's default (pkg/config/config.go, when status_error_link is unset).
      statusErrorLink: (raw.status_error_link as string | undefined) || 'https://github.com/kubernetes/test-infra/issues',
      sinker: {
        maxProwJobAgeMs: durationField(main, ['sinker', 'max_prowjob_age'], sinker.max_prowjob_age, 7 * DAY_MS),
        resyncPeriodMs: durationField(main, ['sinker', 'resync_period'], sinker.resync_period, 3_600_000),
        maxUnfinishedAgeMs: durationField(
          main,
          ['bowline', 'sinker', 'max_unfinished_age'],
          (bowline.sinker as Raw | undefined)?.max_unfinished_age,
          48 * 3_600_000,
        ),
      },
      history: {
        maxAgeMs: durationField(main, ['bowline', 'history', 'max_age'], (bowline.history as Raw | undefined)?.max_age, 90 * DAY_MS),
      },
      githubReporter: {
        // Prow's default: presubmits and postsubmits (periodics have no commit to report on).
        jobTypesToReport: ((raw.github_reporter as Raw | undefined)?.job_types_to_report as ('presubmit' | 'postsubmit' | undefined)[] | undefined)?.filter(
          (t): t is 'presubmit' | 'postsubmit' => t !== undefined,
        ) ?? ['presubmit', 'postsubmit'],
      },
      jenkinsOperator: {
        resyncPeriodMs: durationField(main, ['bowline', 'jenkins_operator', 'resync_period'], (bowline.jenkins_operator as Raw | undefined)?.resync_period, 10_000),
      },
      bowline: {
        jenkins,
        trust: {
          okToTest: (trust.ok_to_test as 'per_pull_request' | 'per_commit' | undefined) ?? 'per_pull_request',
          onlyOrgMembers: (trust.only_org_members as boolean | undefined) ?? false,
          trustedApps: ((trust.trusted_apps as (string | undefined)[] | undefined) ?? []).filter(isString),
          trustedOrgs: ((trust.trusted_orgs as (string | undefined)[] | undefined) ?? []).filter(isString),
        },
        tenants,
        kubernetes: {
          enabled: ((bowline.kubernetes as Raw | undefined)?.enabled as boolean | undefined) ?? false,
          namespace: ((bowline.kubernetes as Raw | undefined)?.namespace as string | undefined) ?? 'default',
          import: ((bowline.kubernetes as Raw | undefined)?.import as boolean | undefined) ?? true,
        },
      },
      files,
      warnings: this.warnings,
    };
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
          labelSelector: selectorField(doc, [...path, 'label_selector'], selectorText),
          maxConcurrency: (raw.max_concurrency as number | undefined) ?? 0,
          jobUrlTemplate: templateField(doc, [...path, 'job_url_template'], raw.job_url_template),
          reportTemplate: templateField(doc, [...path, 'report_template'], raw.report_template),
          source: { file: doc.file, line: doc.line(path) },
        },
      ];
    });
  }

  /** The masters of `bowline.jenkins`, or of a tenant's `jenkins` (`at`). */
  private jenkinsMasters(doc: DocumentReader, at: Path, entries: Raw[]): JenkinsMaster[] {
    const masters = entries.flatMap((raw, i): JenkinsMaster[] => {
      if (!raw?.name || !raw.url) return [];
      const path = [...at, i];
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
          labelSelector: selectorField(doc, [...path, 'label_selector'], selectorText),
          maxConcurrency: (raw.max_concurrency as number | undefined) ?? 0,
          maxPendingMs: durationField(doc, [...path, 'max_pending'], raw.max_pending, DAY_MS),
          source: { file: doc.file, line: doc.line(path) },
        },
      ];
    });
    masters.forEach((master, i) => {
      for (const [j, other] of masters.slice(0, i).entries()) {
        if (other.name === master.name) doc.problem([...at, i, 'name'], `two Jenkins masters are named "${master.name}"`);
        else if (selectorsOverlap(other.labelSelector, master.labelSelector) === true) {
          doc.warn([...at, i, 'label_selector'], `Jenkins masters "${other.name}" (entry ${j}) and "${master.name}" can both match one job; the first listed wins`);
        }
      }
    });
    return masters;
  }

  /** Deck's `external_agent_logs[].url_template` are templates over the ProwJob too. */
  private checkExternalAgentLogs(doc: DocumentReader, deck: unknown): void {
    const logs = (deck as { external_agent_logs?: unknown } | undefined)?.external_agent_logs;
    if (!Array.isArray(logs)) return;
    logs.forEach((entry: unknown, i) => {
      const template = (entry as { url_template?: unknown } | null)?.url_template;
      if (template !== undefined) templateField(doc, ['deck', 'external_agent_logs', i, 'url_template'], template);
    });
  }
}

function mapValues<T, U>(record: Record<string, T>, f: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));
}
