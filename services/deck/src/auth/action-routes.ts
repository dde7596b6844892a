import { randomUUID } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '@bowline/observability';
import { abortJob, hasRefs, isFinished, rerunJob, type ProwJob, type ProwJobStore } from '@bowline/prowjob';
import type { Announcer, DeckAction } from './announce.js';
import type { Permissions } from './permissions.js';
import { sendRefusal } from './replies.js';
import { localPath } from './safe-redirect.js';
import { csrfMatches, type Sessions } from './session.js';
import { queryText } from './sign-in-routes.js';

export interface ActionRoutesOptions {
  sessions: Sessions;
  permissions: Permissions;
  store: ProwJobStore;
  announcer: Announcer;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
}

/** How many repositories one `/auth/actions` question may ask about. */
const MAX_ASKED = 200;

/** Which action a job in this state offers: rerun once it ended, abort while it runs, as Prow's deck. */
export function actionFor(job: ProwJob): DeckAction {
  return isFinished(job) ? 'rerun' : 'abort';
}

/**
 * The deck's only writes: `POST /rerun?prowjob=` and `POST /abort?prowjob=` (Prow's deck
 * addresses), each signed in, with the session's CSRF token, and allowed by `Permissions`; and
 * `GET /auth/actions`, which tells the page's script who is signed in and which buttons to show.
 * Every attempt is logged and counted in `bowline_deck_actions_total{action,result}`.
 */
export function actionRoutes(options: ActionRoutesOptions): (app: Express) => void {
  const { sessions, permissions, store, announcer, logger } = options;
  const now = options.now ?? (() => new Date());
  const counted = new Counter({
    name: 'bowline_deck_actions_total',
    help: 'Reruns and aborts asked of the deck, by action and result (done, repeated, refused, unauthenticated, csrf, not_found, not_applicable, error)',
    labelNames: ['action', 'result'],
    registers: [options.registry],
  });

  const act = (action: DeckAction) => async (req: Request, res: Response): Promise<void> => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const name = queryText(req, 'prowjob') ?? (typeof body.prowjob === 'string' ? body.prowjob : undefined);
    const session = sessions.current(req);
    const back = localPath(body.next, name ? `/prowjob/${encodeURIComponent(name)}` : '/');
    const log = logger.child({ action, user: session?.login, prowjob: name });
    const refuse = (status: number, result: string, reason: string, fields: Record<string, unknown> = {}): void => {
      counted.inc({ action, result });
      log.info({ result, reason, ...fields }, `deck ${action} refused`);
      sendRefusal(req, res, status, action === 'rerun' ? 'Not rerun' : 'Not aborted', reason, back);
    };
    if (!session) return refuse(401, 'unauthenticated', `Sign in with GitHub to ${action} jobs.`);
    if (!csrfMatches(session, body.csrf ?? req.get('x-csrf-token'))) {
      return refuse(403, 'csrf', 'The form’s CSRF token is missing or does not match your session: reload the page and try again.');
    }
    if (!name) return refuse(400, 'not_found', "The request names no ProwJob (the 'prowjob' query parameter).");
    const stored = await store.get(name);
    if (!stored) return refuse(404, 'not_found', `There is no ProwJob named ${name}.`);
    const job = stored.job;
    const fields = jobFields(job);
    if (actionFor(job) !== action) {
      return refuse(409, 'not_applicable', action === 'rerun' ? `${job.spec.job} is still ${job.status.state}: only a finished job can be rerun.` : `${job.spec.job} has ended (${job.status.state}): only a triggered or pending job can be aborted.`, fields);
    }
    const permission = await permissions.decide(session.login, repoOf(job));
    if (!permission.allowed) return refuse(403, 'refused', permission.reason, fields);

    const outcome = action === 'rerun' ? await rerunJob(store, name, { user: session.login, now: now(), requestId: requestIdOf(body) }) : await abortJob(store, name, { user: session.login, now: now() });
    if (!outcome.done) return refuse(409, 'not_applicable', outcome.why, fields);
    const result = outcome.repeated ? 'repeated' : 'done';
    counted.inc({ action, result });
    const rerun = action === 'rerun' ? outcome.job : undefined;
    log.info({ result, reason: permission.reason, ...fields, ...(rerun ? { rerun: rerun.metadata.name } : {}) }, action === 'rerun' ? 'ProwJob rerun from the deck' : 'ProwJob aborted from the deck');
    if (!outcome.repeated) void announcer.announce(action, session.login, job, rerun);
    if (req.accepts(['html', 'json']) === 'json') {
      res.status(200).set('cache-control', 'no-store').json({ prowjob: (rerun ?? job).metadata.name });
      return;
    }
    res.redirect(303, localPath(body.next, `/prowjob/${encodeURIComponent((rerun ?? job).metadata.name)}`));
  };

  const guarded = (action: DeckAction) => async (req: Request, res: Response): Promise<void> => {
    try {
      await act(action)(req, res);
    } catch (err) {
      counted.inc({ action, result: 'error' });
      logger.error({ err, action, prowjob: queryText(req, 'prowjob') }, `deck ${action} failed`);
      if (!res.headersSent) sendRefusal(req, res, 500, 'Something went wrong', `The ${action} could not be done; nothing was changed if this page is all you saw. Try again.`);
    }
  };

  return (app) => {
    const form = express.urlencoded({ extended: false, limit: '8kb' });
    app.post('/rerun', form, guarded('rerun'));
    app.post('/abort', form, guarded('abort'));

    // Which repositories' jobs the signed-in user may act on: the page's script shows the buttons
    // of those rows (auth/action-slot.ts); asked by repository, since that is what decides, and
    // a page of 500 rows has few. `repo=` (empty) stands for jobs without a repository.
    app.get('/auth/actions', async (req, res) => {
      res.set('cache-control', 'no-store');
      const session = sessions.current(req);
      if (!session) return void res.json({ signIn: true, login: null });
      const repos = [...new Set([req.query.repo].flat().filter((r): r is string => typeof r === 'string'))].slice(0, MAX_ASKED);
      const allowed = await Promise.all(
        repos.map((repo) =>
          permissions.decide(session.login, repo || undefined).then(
            (p) => p.allowed,
            (err: unknown) => {
              logger.warn({ err, user: session.login, repo }, 'cannot tell whether the user may act in a repository: no button shown');
              return false;
            },
          ),
        ),
      );
      res.json({ signIn: true, login: session.login, csrf: session.csrf, repos: repos.filter((_, i) => allowed[i]) });
    });
  };
}

/** What every action's log line says of the job: the logger vocabulary's `job`, `repo`, `pr`. */
function jobFields(job: ProwJob): Record<string, unknown> {
  return { job: job.spec.job, repo: repoOf(job), pr: job.spec.refs.pulls?.[0]?.number };
}

function repoOf(job: ProwJob): string | undefined {
  return hasRefs(job.spec.refs) ? `${job.spec.refs.org}/${job.spec.refs.repo}` : undefined;
}

/** The form's own id (a form sent twice is one rerun); a request without one is its own. */
function requestIdOf(body: Record<string, unknown>): string {
  const id = body.request;
  return typeof id === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(id) ? id : randomUUID();
}
