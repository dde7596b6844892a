import { html, linkTo, type Html } from './html.js';
import { buildLinks } from './job-history-page.js';
import { page } from './layout.js';
import type { PullHistory } from './pr-history.js';
import { shortTime, type RunView } from './run-view.js';

/** `/pr/<org>/<repo>/<number>`: the jobs on the head commit, then every run on every commit. */
export function prPage(history: PullHistory, githubUrl: string): Html {
  const { repo, pr } = history;
  const repoLink = `${githubUrl}/${repo}`;
  const commitLink = (sha: string): string => `${repoLink}/pull/${pr}/commits/${sha}`;
  const body = html`<h1>PR history: ${repo}#${pr}</h1>
<p>${linkTo(`${repoLink}/pull/${pr}`, `${repo}#${pr} on GitHub`)} · <a href="/?repo=${encodeURIComponent(repo)}&amp;pull=${pr}">Current jobs of ${repo}#${pr}</a></p>
${history.commits.length === 0 ? html`<p>No runs on ${repo}#${pr} are recorded.</p>` : html`<h2>Jobs on the head commit ${
    history.head ? linkTo(commitLink(history.head), html`<span class="mono">${history.head.slice(0, 7)}</span>`, html` aria-label="Head commit ${history.head.slice(0, 7)} on GitHub"`) : ''
  }</h2>
<table class="runs" id="head-jobs">
<caption class="visually-hidden">The newest run of each job on the head commit</caption>
<thead><tr><th scope="col">State</th><th scope="col">Job</th><th scope="col">Started (UTC)</th><th scope="col">Duration</th><th scope="col">Build</th></tr></thead>
<tbody>${history.onHead.map(
    (run) => html`<tr data-job="${run.job}" data-state="${run.state}">
<td><span class="state state-${run.state}" title="${run.description}">${run.state}</span></td>
<td>${jobLinks(run)}</td>
<td><time datetime="${run.started}">${shortTime(run.started)}</time></td>
<td>${run.duration}</td>
<td>${buildLinks(run)}</td>
</tr>`,
  )}</tbody>
</table>
<h2>Every run, by commit</h2>
<div class="grid-scroll" tabindex="0" role="region" aria-label="Runs by job and commit">
<table class="pr-grid" id="pr-grid">
<caption class="visually-hidden">Runs of each job (rows) on each commit (columns, newest first)</caption>
<thead><tr><th scope="col">Job</th>${history.commits.map(
    (sha) => html`<th scope="col" class="mono">${sha ? linkTo(commitLink(sha), sha.slice(0, 7), html` aria-label="Commit ${sha.slice(0, 7)} on GitHub"`) : 'unknown'}</th>`,
  )}</tr></thead>
<tbody>${history.jobs.map(
    (job) => html`<tr data-job="${job}"><th scope="row">${job}</th>${history.commits.map(
      (sha) => html`<td>${(history.grid.get(job)?.get(sha) ?? []).map(gridRun)}</td>`,
    )}</tr>`,
  )}</tbody>
</table>
</div>`}`;
  return page(`PR history: ${repo}#${pr}`, body);
}

function jobLinks(run: RunView): Html {
  return html`<a href="/job-history/${encodeURIComponent(run.job)}" aria-label="Job history: ${run.job}">${run.job}</a>`;
}

/** One run in the grid: its state, linked to its ProwJob while the bucket has it, else to Jenkins. */
function gridRun(run: RunView): Html {
  const label = `${run.state}, started ${shortTime(run.started)}`;
  const badge = html`<span class="state state-${run.state}">${run.state}</span>`;
  if (run.live) return html`<a class="run" href="/prowjob/${encodeURIComponent(run.prowjob)}" aria-label="ProwJob of ${run.job}: ${run.prowjob}, ${label}" title="${label}">${badge}</a> `;
  if (run.buildLink) return html`${linkTo(run.buildLink, badge, html` class="run" aria-label="Jenkins${run.build ? ` #${run.build}` : ''}: the build of ${run.job}, ${label}" title="${label}"`)} `;
  return html`<span class="run" title="${label}">${badge}</span> `;
}
