// Sign-in and the Rerun / Abort buttons. The pages render an empty slot for each job
// (`.deck-actions`, the same markup for every viewer); this script asks `/auth/actions` who is
// signed in and in which repositories they may act, and puts a POST form in those slots. The
// deck checks the session, the CSRF token and the permission again on every POST.
'use strict';

(function deckActions() {
  const account = document.getElementById('deck-account');
  // What the deck said of each repository: allowed or not, for this page's life.
  const known = new Map();
  let me = null;

  function here() {
    return location.pathname + location.search;
  }

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text) node.textContent = text;
    return node;
  }

  function hidden(name, value) {
    return element('input', { type: 'hidden', name, value });
  }

  function requestId() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function showAccount() {
    if (!account || !me || !me.signIn) return;
    account.replaceChildren();
    if (!me.login) {
      const link = element('a', { href: '/auth/login?next=' + encodeURIComponent(here()), id: 'sign-in' }, 'Sign in with GitHub');
      account.append(link);
      return;
    }
    const form = element('form', { method: 'post', action: '/auth/logout', class: 'inline', id: 'sign-out' });
    form.append(hidden('csrf', me.csrf), hidden('next', here()), element('button', { type: 'submit' }, 'Sign out'));
    account.append(element('span', { id: 'signed-in-as' }, 'Signed in as ' + me.login + ' '), form);
  }

  // One form per slot: Rerun for a finished job, Abort for one still running.
  function fill(slot) {
    if (slot.dataset.filled === 'true' || !me || !me.login || known.get(slot.dataset.repo) !== true) return;
    const rerun = slot.dataset.finished === 'true';
    const action = rerun ? 'rerun' : 'abort';
    const form = element('form', { method: 'post', action: '/' + action + '?prowjob=' + encodeURIComponent(slot.dataset.prowjob), class: 'inline deck-action' });
    const label = (rerun ? 'Rerun ' : 'Abort ') + slot.dataset.job;
    form.append(hidden('csrf', me.csrf), hidden('next', location.pathname.startsWith('/prowjob/') ? '' : here()));
    if (rerun) form.append(hidden('request', requestId()));
    form.append(element('button', { type: 'submit', class: 'action-' + action, 'aria-label': label, 'data-action': action }, rerun ? 'Rerun' : 'Abort'));
    slot.replaceChildren(form);
    slot.dataset.filled = 'true';
  }

  async function ask(repos) {
    const query = new URLSearchParams();
    for (const repo of repos) query.append('repo', repo);
    const response = await fetch('/auth/actions?' + query.toString(), { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    if (!response.ok) return null;
    return response.json();
  }

  let asking = null;
  let again = false;
  async function update() {
    const slots = Array.from(document.querySelectorAll('.deck-actions[data-prowjob]'));
    const unknown = [...new Set(slots.map((slot) => slot.dataset.repo))].filter((repo) => !known.has(repo));
    if (me === null || unknown.length > 0) {
      const answer = await ask(unknown);
      if (!answer) return;
      me = answer;
      for (const repo of unknown) known.set(repo, (answer.repos || []).includes(repo));
      showAccount();
    }
    for (const slot of slots) fill(slot);
    document.body.dataset.actions = 'ready';
  }

  function schedule() {
    // Rows arrive in bursts from the live updates: one question for a burst.
    if (asking) {
      again = true;
      return;
    }
    asking = Promise.resolve()
      .then(update)
      .catch(() => undefined)
      .finally(() => {
        asking = null;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  const table = document.getElementById('jobs');
  if (table) new MutationObserver(schedule).observe(table, { childList: true, subtree: true });
  schedule();
})();
