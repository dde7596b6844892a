import { html, linkTo, type Html } from './html.js';
import { page } from './layout.js';
import { runChart } from './run-chart.js';
import { shortTime, type RunView } from './run-view.js';

export interface JobHistoryModel {
  job: string;
  runs: RunView[];
  /** `before` of the older page, `after` of the newer one, when there are such pages. */
  older?: number;
  newer?: number;
  githubUrl: string;
}

/** `/job-history/<job>`: every run of a job, newest first, a page at a time, as Prow's deck shows one. */
export function jobHistoryPage(model: JobHistoryModel): Html {
  const { job } = model;
  const base = `/job-history/${encodeURIComponent(job)}`;
  const paging = html`<nav class="paging" aria-label="Pages of runs">${
    model.newer !== undefined ? html`<a href="${base}?after=${model.newer}" rel="prev">Newer runs</a>` : html`<span class="muted">Newest runs</span>`
  } ${model.older !== undefined ? html`<a href="${base}?before=${model.older}" rel="next">Older runs</a>` : html`<span class="muted">No older runs</span>`}</nav>`;
  const body = html`<h1>Job history: <span class="mono">${job}</span></h1>
<p class="muted">Every recorded run, including those the sinker has removed from the job list. <a href="/?job=${encodeURIComponent(job)}">Current runs of ${job}</a></p>
${model.runs.length === 0 ? html`<p>No runs of ${job} are recorded.</p>` : html`${runChart(model.runs)}
<table class="runs">
<caption class="visually-hidden">Runs of ${job}, newest first</caption>
<thead><tr><th scope="col">State</th><th scope="col">Started (UTC)</th><th scope="col">Duration</th><th scope="col">Repository</th><th scope="col">Pull request</th><th scope="col">Revision</th><th scope="col">Build</th></tr></thead>
<tbody>${model.runs.map((run) => historyRow(run, model.githubUrl))}</tbody>
</table>`}
${paging}`;
  return page(`Job history: ${job}`, body);
}

function historyRow(run: RunView, githubUrl: string): Html {
  const repoLink = run.repo ? `${githubUrl}/${run.repo}` : undefined;
  return html`<tr id="run-${run.prowjob}" data-state="${run.state}">
<td><span class="state state-${run.state}" title="${run.description}">${run.state}</span></td>
<td>${run.live ? html`<a href="/prowjob/${encodeURIComponent(run.prowjob)}" aria-label="ProwJob of ${run.job}: ${run.prowjob}, started ${shortTime(run.started)}">${shortTime(run.started)}</a>` : html`<time datetime="${run.started}">${shortTime(run.started)}</time>`}</td>
<td>${run.duration}</td>
<td>${run.repo ? linkTo(repoLink, run.repo) : html`<span class="muted">periodic</span>`}</td>
<td>${run.repo && run.pr !== undefined ? html`<a href="/pr/${run.repo}/${run.pr}" aria-label="PR history: ${run.repo}#${run.pr}">#${run.pr}</a>` : ''}</td>
<td class="mono">${run.sha ? linkTo(repoLink && `${repoLink}/commit/${run.sha}`, run.sha.slice(0, 7), html` title="${run.sha}" aria-label="Commit ${run.sha.slice(0, 7)} on GitHub"`) : ''}</td>
<td>${buildLinks(run)}</td>
</tr>`;
}

/** The Jenkins build, and the deck's copy of its log while the ProwJob is still in the bucket. */
export function buildLinks(run: RunView): Html {
  const jenkins = run.buildLink ? linkTo(run.buildLink, run.build ? `Jenkins #${run.build}` : 'Jenkins', html` aria-label="Jenkins${run.build ? ` #${run.build}` : ''}: the build of ${run.job}"`) : '';
  const log = run.live && run.buildLink ? html` · <a href="/log/${encodeURIComponent(run.prowjob)}" aria-label="Build log of ${run.job}">log</a>` : '';
  return html`${jenkins}${log}`;
}
