// The job list's live updates and filters without a full reload. The page works without this
// file: the filters are a GET form and every row is rendered on the server. Rows and the summary
// arrive as markup rendered (and escaped) by the deck; this script only puts them in place.
'use strict';

(function deck() {
  const table = document.getElementById('jobs');
  const form = document.getElementById('filters');
  if (!table || !form) return;
  const status = document.getElementById('live-status');
  let source;

  function say(text) {
    if (status) status.textContent = text;
  }

  function parse(markup, selector) {
    const template = document.createElement('template');
    template.innerHTML = markup;
    return selector ? template.content.querySelector(selector) : template.content.firstElementChild;
  }

  // Newest first, then by job name: the order the deck renders.
  function comesBefore(row, other) {
    const started = row.dataset.started;
    const otherStarted = other.dataset.started;
    if (started !== otherStarted) return started > otherStarted;
    return row.dataset.job < other.dataset.job;
  }

  function rowId(name) {
    return 'job-' + name;
  }

  function putRow(markup) {
    const row = parse('<table><tbody>' + markup + '</tbody></table>', 'tr');
    if (!row) return;
    const body = table.tBodies[0];
    const old = document.getElementById(row.id);
    if (old) old.remove();
    let next = null;
    for (const candidate of body.rows) {
      if (comesBefore(row, candidate)) {
        next = candidate;
        break;
      }
    }
    body.insertBefore(row, next);
    const limit = Number(table.dataset.limit);
    while (limit > 0 && body.rows.length > limit) body.deleteRow(-1);
  }

  function applyJobs(event) {
    const message = JSON.parse(event.data);
    for (const name of message.removed) document.getElementById(rowId(name))?.remove();
    for (const row of message.rows) putRow(row.html);
    const summary = parse(message.summary);
    const current = document.getElementById('summary');
    if (summary && current) current.replaceWith(summary);
    if (event.lastEventId) table.dataset.revision = event.lastEventId;
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  }

  function connect() {
    if (source) source.close();
    if (!window.EventSource) return;
    const query = new URLSearchParams(location.search);
    query.set('since', table.dataset.revision || '0');
    source = new EventSource('/events?' + query.toString());
    source.addEventListener('open', () => {
      document.body.dataset.live = 'connected';
      say('Live: the list updates as jobs change.');
    });
    source.addEventListener('jobs', applyJobs);
    source.addEventListener('reload', () => load(location.href, false));
    source.addEventListener('error', () => {
      document.body.dataset.live = 'reconnecting';
      say('Live updates paused: reconnecting…');
    });
  }

  function queryOf(formElement) {
    const query = new URLSearchParams();
    for (const [name, value] of new FormData(formElement)) {
      if (typeof value === 'string' && value.trim() !== '') query.set(name, value.trim());
    }
    const text = query.toString();
    return text ? '/?' + text : '/';
  }

  // Fetches the page for these filters and puts its summary and rows in place of ours; from the
  // back or forward button the form takes the page's values too.
  async function load(url, fromHistory) {
    let response;
    try {
      response = await fetch(url, { headers: { accept: 'text/html' } });
    } catch {
      location.assign(url);
      return;
    }
    if (!response.ok) {
      location.assign(url);
      return;
    }
    const next = new DOMParser().parseFromString(await response.text(), 'text/html');
    const nextTable = next.getElementById('jobs');
    const nextSummary = next.getElementById('summary');
    if (!nextTable || !nextSummary) {
      location.assign(url);
      return;
    }
    document.getElementById('summary').replaceWith(document.importNode(nextSummary, true));
    table.tBodies[0].replaceWith(document.importNode(nextTable.tBodies[0], true));
    table.dataset.revision = nextTable.dataset.revision;
    if (fromHistory) {
      const nextForm = next.getElementById('filters');
      for (const field of form.elements) {
        const value = nextForm?.elements.namedItem(field.name);
        if (field.name && value && 'value' in value) field.value = value.value;
      }
    }
    connect();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const url = queryOf(form);
    history.pushState({ deck: true }, '', url);
    load(url, false);
  });
  for (const select of form.querySelectorAll('select')) {
    select.addEventListener('change', () => form.requestSubmit());
  }
  // The state bar's counts are links to the same list in one state: followed in place as well.
  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('#summary a') : null;
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    history.pushState({ deck: true }, '', link.href);
    load(link.href, true);
  });
  window.addEventListener('popstate', () => load(location.href, true));

  connect();
})();
