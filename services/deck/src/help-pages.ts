import { presubmitCommands, type Config, type Postsubmit, type Presubmit } from '@bowline/config';
import { html, linkTo, type Html } from './html.js';
import { page } from './layout.js';

/**
 * The comment commands the planner answers, as Prow's trigger plugin documents them
 * (pkg/plugins/trigger/trigger.go's help): what a contributor may type on a pull request.
 */
export const COMMANDS: readonly { command: string; does: string; who: string }[] = [
  { command: '/test <job>', does: 'Runs the named job (its rerun command), whatever files the pull request changes.', who: 'Trusted users' },
  { command: '/test all', does: 'Runs every job that would run by itself on this pull request: always_run jobs, and run_if_changed jobs whose files changed.', who: 'Trusted users' },
  { command: '/test ?', does: 'Answers with the commands this repository’s jobs take on the pull request’s branch.', who: 'Anyone' },
  { command: '/retest', does: 'Runs again the jobs whose last run on the head commit failed.', who: 'Trusted users' },
  { command: '/retest-required', does: 'Runs again the failed jobs that are required for merging.', who: 'Trusted users' },
  { command: '/test-manual-required', does: 'Runs the required jobs that only run when asked.', who: 'Trusted users' },
  { command: '/ok-to-test', does: 'Lets the jobs of an outside contributor’s pull request run (the ok-to-test label).', who: 'Organisation members' },
  { command: '/ok-to-test cancel', does: 'Takes that back (removes the label).', who: 'Organisation members' },
];

/** `/command-help`: the commands, and every repository the config gives jobs, each linked to its jobs. */
export function commandHelpPage(config: Config): Html {
  const repos = [...new Set([...Object.keys(config.presubmits), ...Object.keys(config.postsubmits)])].filter((repo) => jenkinsJobs(config, repo).some).sort();
  const periodics = config.periodics.filter(isJenkins);
  const body = html`<h1>Command help</h1>
<p>Commands are comments on a pull request, each on a line of its own. Which jobs a repository has, and the command of each, is on its configured jobs page.</p>
<table class="runs" id="commands">
<caption class="visually-hidden">Comment commands</caption>
<thead><tr><th scope="col">Command</th><th scope="col">What it does</th><th scope="col">Who may use it</th></tr></thead>
<tbody>${COMMANDS.map((c) => html`<tr><td><code>${c.command}</code></td><td>${c.does}</td><td>${c.who}</td></tr>`)}</tbody>
</table>
<h2>Repositories with jobs</h2>
${repos.length === 0 ? html`<p>The config gives no repository any job.</p>` : html`<ul id="repos">${repos.map((repo) => html`<li><a href="/configured-jobs/${repo}">Configured jobs of ${repo}</a></li>`)}</ul>`}
${periodics.length > 0 ? html`<h2>Periodic jobs</h2><ul id="periodics">${periodics.map(
    (p) => html`<li><a href="/job-history/${encodeURIComponent(p.name)}" aria-label="Job history: ${p.name}">${p.name}</a> <span class="muted">${p.cron ? `cron ${p.cron.expression}` : p.intervalMs ? `every ${Math.round(p.intervalMs / 60_000)} min` : ''}</span></li>`,
  )}</ul>` : ''}`;
  return page('Command help', body);
}

/** `/configured-jobs/<org>/<repo>`: what `/test ?` answers there, and each job's settings. */
export function configuredJobsPage(config: Config, repo: string, githubUrl: string): Html | undefined {
  const { presubmits, postsubmits, some } = jenkinsJobs(config, repo);
  if (!some) return undefined;
  const commands = presubmitCommands(presubmits);
  const commandList = (items: string[]): Html => html`<ul>${items.map((item) => html`<li><code>${item}</code></li>`)}</ul>`;
  const body = html`<h1>Configured jobs of ${repo}</h1>
<p>${linkTo(`${githubUrl}/${repo}`, `${repo} on GitHub`)} · <a href="/?repo=${encodeURIComponent(repo)}">Current jobs of ${repo}</a> · <a href="/command-help">Command help</a></p>
<h2>What <code>/test ?</code> answers</h2>
<section id="test-help" aria-label="What /test ? answers">
${commands.required.length > 0 ? html`<p>The following commands are available to trigger required jobs:</p>${commandList(commands.required)}` : ''}
${commands.optional.length > 0 ? html`<p>The following commands are available to trigger optional jobs:</p>${commandList(commands.optional)}` : ''}
${commands.required.length + commands.optional.length === 0 ? html`<p>No presubmit jobs available for ${repo}.</p>` : html`<p>Use <code>/test all</code> to run the jobs that run by themselves. A branch’s jobs are those whose branches take it.</p>`}
</section>
${presubmits.length > 0 ? html`<h2>Presubmits</h2>
<table class="runs" id="presubmits">
<caption class="visually-hidden">Presubmit jobs of ${repo}</caption>
<thead><tr><th scope="col">Job</th><th scope="col">Command</th><th scope="col">Runs</th><th scope="col">Required</th><th scope="col">Branches</th><th scope="col">Status context</th></tr></thead>
<tbody>${presubmits.map(presubmitRow)}</tbody>
</table>` : ''}
${postsubmits.length > 0 ? html`<h2>Postsubmits</h2>
<table class="runs" id="postsubmits">
<caption class="visually-hidden">Postsubmit jobs of ${repo}</caption>
<thead><tr><th scope="col">Job</th><th scope="col">Runs</th><th scope="col">Branches</th></tr></thead>
<tbody>${postsubmits.map(postsubmitRow)}</tbody>
</table>` : ''}`;
  return page(`Configured jobs of ${repo}`, body);
}

function jobLink(name: string): Html {
  return html`<a href="/job-history/${encodeURIComponent(name)}" aria-label="Job history: ${name}">${name}</a>`;
}

function branches(job: Presubmit | Postsubmit): string {
  const only = job.branchPatterns.length > 0 ? job.branchPatterns.join(', ') : 'all';
  return job.skipBranchPatterns.length > 0 ? `${only}, not ${job.skipBranchPatterns.join(', ')}` : only;
}

function presubmitRow(job: Presubmit): Html {
  const runs = job.alwaysRun ? 'on every push' : changeFilter(job) ? `when files change (${changeFilter(job)})` : 'when asked';
  return html`<tr><td>${jobLink(job.name)}</td><td><code>${job.rerunCommand}</code></td><td>${runs}</td><td>${job.optional ? 'optional' : 'required'}</td><td>${branches(job)}</td><td>${job.skipReport ? html`<span class="muted">not reported</span>` : job.context}</td></tr>`;
}

function postsubmitRow(job: Postsubmit): Html {
  const runs = job.alwaysRun === false || changeFilter(job) ? 'when files change' : 'on every merge';
  return html`<tr><td>${jobLink(job.name)}</td><td>${runs}</td><td>${branches(job)}</td></tr>`;
}

/** The file filter a job runs on, as written: `run_if_changed`, or `skip_if_only_changed` with a `not`. */
function changeFilter(job: Presubmit | Postsubmit): string | undefined {
  // A RegExp's source escapes `/`, which the config's text did not.
  const written = (pattern: RegExp): string => pattern.source.replace(/\\\//g, '/');
  if (job.runIfChanged) return written(job.runIfChanged);
  if (job.skipIfOnlyChanged) return `not only ${written(job.skipIfOnlyChanged)}`;
  return undefined;
}

/** Jobs of other agents belong to another Prow, as the planner leaves them (job-starter.ts). */
function isJenkins(job: { agent: string }): boolean {
  return job.agent === 'jenkins';
}

function jenkinsJobs(config: Config, repo: string): { presubmits: Presubmit[]; postsubmits: Postsubmit[]; some: boolean } {
  const presubmits = (config.presubmits[repo] ?? []).filter(isJenkins);
  const postsubmits = (config.postsubmits[repo] ?? []).filter(isJenkins);
  return { presubmits, postsubmits, some: presubmits.length + postsubmits.length > 0 };
}
