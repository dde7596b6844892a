import { ConfigError, formatProblem, loadConfigFile, type Config, type ConfigProblem } from '@bowline/config';
import { pushTo } from '@bowline/observability';

export interface CheckOptions {
  config: string;
  jobConfig?: string;
  strict?: boolean;
}

export interface CheckResult {
  /** Lines to print: problems first, then the summary. */
  lines: string[];
  exitCode: number;
}

/**
 * Prow's checkconfig for Bowline: every error as `file:line:col: field: message`, then what was
 * found. Exit 1 on errors, and with `strict` on warnings too.
 */
export function checkConfig(options: CheckOptions): CheckResult {
  let config: Config;
  try {
    config = loadConfigFile(options.config, options.jobConfig ? { jobConfigDir: options.jobConfig } : {});
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const lines = error.problems.map(formatProblem);
    lines.push(`${error.problems.length} error${error.problems.length === 1 ? '' : 's'}: the config is not valid`);
    return { lines, exitCode: 1 };
  }
  const lines = [...config.warnings.map((w: ConfigProblem) => `${formatProblem(w)} (warning)`), ...summarize(config)];
  const failed = Boolean(options.strict) && config.warnings.length > 0;
  lines.push(
    failed
      ? `${config.warnings.length} warning${config.warnings.length === 1 ? '' : 's'}: failing because of --strict`
      : `valid${config.warnings.length > 0 ? ` (${config.warnings.length} warning${config.warnings.length === 1 ? '' : 's'})` : ''}`,
  );
  return { lines, exitCode: failed ? 1 : 0 };
}

function summarize(config: Config): string[] {
  const byRepo = new Map<string, string[]>();
  let ignored = 0;
  const ignoredAgents = new Set<string>();
  const count = { presubmits: 0, postsubmits: 0, periodics: 0 };
  const note = (kind: keyof typeof count, repo: string, job: { name: string; agent: string }): void => {
    if (job.agent !== 'jenkins') {
      ignored += 1;
      ignoredAgents.add(job.agent);
      return;
    }
    count[kind] += 1;
    pushTo(byRepo, repo, `${job.name} (${kind.slice(0, -1)})`);
  };
  for (const [repo, jobs] of Object.entries(config.presubmits)) for (const job of jobs) note('presubmits', repo, job);
  for (const [repo, jobs] of Object.entries(config.postsubmits)) for (const job of jobs) note('postsubmits', repo, job);
  for (const job of config.periodics) note('periodics', '(periodics)', job);
  const repos = new Set([...Object.keys(config.presubmits), ...Object.keys(config.postsubmits)]);
  const lines = [
    `files: ${config.files.join(', ')}`,
    `repositories: ${repos.size}${repos.size ? ` (${[...repos].sort().join(', ')})` : ''}`,
    `Jenkins jobs: ${count.presubmits} presubmits, ${count.postsubmits} postsubmits, ${count.periodics} periodics`,
  ];
  for (const [repo, jobs] of [...byRepo].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${repo}:`);
    for (const job of jobs) lines.push(`    ${job}`);
  }
  lines.push(`ignored jobs of other agents: ${ignored}${ignored ? ` (${[...ignoredAgents].sort().join(', ')})` : ''}`);
  lines.push(`jenkins_operators: ${config.jenkinsOperators.length}, Jenkins masters in bowline.jenkins: ${config.bowline.jenkins.length}`);
  const tenants = config.bowline.tenants.filter((t) => !t.implicit);
  if (tenants.length > 0) {
    lines.push(`tenants: ${tenants.length}`);
    for (const t of tenants) lines.push(`  ${t.name}: ${t.repos.join(', ')} (Jenkins: ${t.jenkins.map((m) => m.name).join(', ')})`);
  }
  return lines;
}
