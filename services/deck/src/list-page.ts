import type { ProwJobState } from '@bowline/prowjob';
import { durationHistogram } from './duration-histogram.js';
import { filterQuery, type FilterName, type JobFilters } from './filters.js';
import { html, linkTo, type Html } from './html.js';
import { STATES, TYPES, type FilterChoices, type JobList } from './job-list.js';
import type { JobView } from './job-view.js';
import { page } from './layout.js';
import { actionSlot } from './auth/action-slot.js';

export interface ListPageModel {
  filters: JobFilters;
  list: JobList;
  rows: JobView[];
  choices: FilterChoices;
  /** The index's revision the page shows: live updates continue from it. */
  revision: number;
  limit: number;
}

const COLUMNS = ['State', 'Job', 'Repository', 'Pull request', 'Revision', 'Author', 'Started (UTC)', 'Duration', 'Build', 'Rerun', 'History'];

/** `/`: the filters, the state bar and the table, complete without any script. */
export function listPage(model: ListPageModel): Html {
  const body = html`<h1>Jobs</h1>
${filterForm(model.filters, model.choices)}
${summary(model.list, model.filters, model.limit)}
<table id="jobs" data-revision="${model.revision}" data-limit="${model.limit}">
<caption class="visually-hidden">Jobs, newest first</caption>
<thead><tr>${COLUMNS.map((column) => html`<th scope="col">${column}</th>`)}</tr></thead>
<tbody>${model.rows.map(jobRow)}</tbody>
</table>
<p id="live-status" class="muted" role="status"></p>`;
  return page('Jobs', body, { script: 'deck.js' });
}

/** One job's row; the live updates send the same markup for a job that changed. */
export function jobRow(view: JobView): Html {
  const started = view.started.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
  return html`<tr id="job-${view.name}" data-started="${view.started}" data-job="${view.job}" data-state="${view.state}">
<td><span class="state state-${view.state}" title="${view.description}">${view.state}</span></td>
<td><a href="/prowjob/${encodeURIComponent(view.name)}">${view.job}</a> <span class="muted">${view.type}</span></td>
<td>${linkTo(view.repoLink, view.repo)}${view.branch ? html` <span class="muted">${view.branch}</span>` : ''}</td>
<td>${view.pull ? linkTo(view.pull.link, `#${view.pull.number}`, html` title="${view.pull.title}"`) : ''}</td>
<td class="mono">${view.revision ? linkTo(view.revision.link, view.revision.sha.slice(0, 7), html` title="${view.revision.sha}"`) : ''}</td>
<td>${view.author ? linkTo(view.author.link, view.author.login) : ''}</td>
<td><time datetime="${view.started}">${started}</time></td>
<td>${view.duration}</td>
<td>${view.buildLink ? linkTo(view.buildLink, 'Jenkins', html` aria-label="Jenkins build of ${view.job}"`) : ''}</td>
<td>${view.rerunCommand ? html`<code>${view.rerunCommand}</code>` : ''}${actionSlot(view)}</td>
<td class="history-links"><a href="/job-history/${encodeURIComponent(view.job)}" aria-label="Job history: ${view.job}">job</a>${
    view.pull && view.repo ? html` · <a href="/pr/${view.repo}/${view.pull.number}" aria-label="PR history: ${view.repo}#${view.pull.number}">PR</a>` : ''
  }${view.buildLink ? html` · <a href="/log/${encodeURIComponent(view.name)}" aria-label="Build log of ${view.job}">log</a>` : ''}</td>
</tr>`;
}

/** The count of what is shown and the state bar: counts per state, each a link to those jobs. */
export function summary(list: JobList, filters: JobFilters, limit: number): Html {
  const shown = list.total > limit ? html`Showing the newest ${limit} of ${list.total} jobs` : html`${list.total} ${list.total === 1 ? 'job' : 'jobs'}`;
  const present = STATES.filter((state) => list.counts[state] > 0);
  return html`<section id="summary" aria-label="Summary">
<div class="summary-charts">
<div class="states">
<p id="shown-count">${shown}</p>
${stateBar(list.counts, list.total)}
<ul class="state-counts">${present.map(
    (state) => html`<li><a href="/${filterQuery({ ...filters, state })}"><span class="state state-${state}">${state}</span> ${list.counts[state]}</a></li>`,
  )}</ul>
</div>
${durationHistogram(list.durations)}
</div>
</section>`;
}

/** The bar as SVG rectangles: widths in attributes, so the page needs no inline style. */
function stateBar(counts: Record<ProwJobState, number>, total: number): Html {
  if (total === 0) return html``;
  let x = 0;
  const parts = STATES.filter((state) => counts[state] > 0).map((state) => {
    const width = (counts[state] / total) * 100;
    const rect = html`<rect class="fill-${state}" x="${x.toFixed(3)}" y="0" width="${width.toFixed(3)}" height="1"></rect>`;
    x += width;
    return rect;
  });
  return html`<svg class="state-bar" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true" focusable="false">${parts}</svg>`;
}

function filterForm(filters: JobFilters, choices: FilterChoices): Html {
  const select = (name: FilterName, label: string, options: readonly string[]): Html => html`<label>${label}
<select name="${name}" id="filter-${name}"><option value="">any</option>${options.map(
    (option) => html`<option${option === filters[name] ? html` selected` : ''}>${option}</option>`,
  )}</select></label>`;
  const text = (name: FilterName, label: string, list: string[] | undefined, placeholder: string): Html => html`<label>${label}
<input type="text" name="${name}" id="filter-${name}" value="${filters[name] ?? ''}" placeholder="${placeholder}"${list ? html` list="choices-${name}"` : ''} autocomplete="off" spellcheck="false">${
    list ? html`<datalist id="choices-${name}">${list.map((option) => html`<option value="${option}"></option>`)}</datalist>` : ''
  }</label>`;
  return html`<form id="filters" method="get" action="/" role="search" aria-label="Filter jobs">
${select('type', 'Type', TYPES)}
${text('repo', 'Repository', choices.repo, 'org/repo')}
<label>Pull request
<input type="text" name="pull" id="filter-pull" value="${filters.pull ?? ''}" inputmode="numeric" pattern="[0-9]*" placeholder="number" autocomplete="off"></label>
${text('author', 'Author', choices.author, 'login')}
${text('branch', 'Branch', choices.branch, 'main')}
${select('state', 'State', STATES)}
${text('job', 'Job', choices.job, 'pull-*-unit')}
<button type="submit">Filter</button>
<a href="/" class="clear">Clear</a>
</form>
<p class="muted hint">Text fields take <code>*</code> for any characters: <code>pull-*</code>.</p>`;
}
