import { html, type Html } from '../html.js';

/** What a slot needs to know of a job; JobView and the ProwJob page both have it. */
export interface SlotJob {
  name: string;
  job: string;
  /** `org/repo`, empty for a job without a repository. */
  repo: string;
  state: string;
}

const FINISHED = new Set(['success', 'failure', 'aborted', 'error']);

/**
 * Where a job's Rerun or Abort button goes: the same markup for every viewer (the live updates
 * send one row to all), holding no button. The page's script (static/deck-actions.js) asks
 * `/auth/actions` which repositories the signed-in user may act in and puts a POST form in the
 * slots of those; the server decides again on every POST.
 */
export function actionSlot(job: SlotJob): Html {
  return html`<span class="deck-actions" data-prowjob="${job.name}" data-job="${job.job}" data-repo="${job.repo}" data-finished="${FINISHED.has(job.state) ? 'true' : 'false'}"></span>`;
}
