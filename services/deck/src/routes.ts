import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import express, { type Express, type Request, type RequestHandler } from 'express';
import type { Logger } from '@bowline/observability';
import { readFilters } from './filters.js';
import type { JobIndex } from './job-index.js';
import { filterChoices, listJobs } from './job-list.js';
import { jobView, type LinkSettings } from './job-view.js';
import { notFoundPage, sendPage } from './layout.js';
import { listPage } from './list-page.js';
import type { LiveUpdates } from './live-updates.js';
import { prowJobPage, prowJobYaml } from './prowjob-page.js';
import { prowJobsContentType, prowJobsPieces, refusedProwJobsQuery, type ProwJobsQuery } from './prowjobs-data.js';
import { everything, scopeOf } from './visibility.js';

/** The stylesheet and scripts, served as they are in the repository: there is no build step. */
export const STATIC_DIR = fileURLToPath(new URL('../static/', import.meta.url));

export interface DeckRoutesOptions {
  index: JobIndex;
  live: LiveUpdates;
  links: LinkSettings;
  /** The most rows one list shows. */
  limit: number;
  /**
   * Who may read which tenant's jobs (visibility.ts): every read surface below goes through the
   * scope it gives a request. Absent: everything, as Prow's deck.
   */
  visibility?: RequestHandler;
  /** The pages beyond the list (page-routes.ts). */
  pages?: (app: Express) => void;
  logger: Logger;
}

/** Every page of the deck, on the service's HTTP server beside `/healthz` `/readyz` `/metrics`. */
export function deckRoutes(options: DeckRoutesOptions): (app: Express) => void {
  const { index, live, links, limit } = options;
  return (app) => {
    app.use('/static', express.static(STATIC_DIR, { index: false, fallthrough: false, maxAge: '5m' }));

    app.get(READ_SURFACES, options.visibility ?? ((_req, res, next) => ((res.locals.scope = everything(index)), next())));

    app.get('/', (req, res) => {
      const filters = readFilters(req.query);
      const jobs = scopeOf(res).jobs.all();
      const list = listJobs(jobs, filters, limit);
      const rows = list.shown.map((job) => jobView(job, links));
      sendPage(res, listPage({ filters, list, rows, choices: filterChoices(jobs), revision: scopeOf(res).jobs.revision, limit }));
    });

    app.get('/events', live.handle);

    options.pages?.(app);

    app.get('/prowjob/:name', (req, res) => {
      const job = scopeOf(res).jobs.get(req.params.name);
      if (!job) return sendPage(res, notFoundPage(`There is no ProwJob named ${req.params.name}.`), 404);
      sendPage(res, prowJobPage(job));
    });

    // Prow's deck address, for scripts written for it: the YAML as plain text.
    app.get('/prowjob', (req, res) => {
      const name = queryText(req, 'prowjob');
      res.set(NO_CACHING);
      if (!name) return void res.status(400).type('text/plain').send("request did not provide the 'prowjob' query parameter\n");
      const job = scopeOf(res).jobs.get(name);
      if (!job) return void res.status(404).type('text/plain').send(`ProwJob not found: ${name}\n`);
      res.type('text/plain').send(prowJobYaml(job));
    });

    app.get('/prowjobs.js', async (req, res) => {
      const query: ProwJobsQuery = {
        omit: queryText(req, 'omit'),
        org: queryText(req, 'org'),
        repo: queryText(req, 'repo'),
        owner: queryText(req, 'owner'),
        var: queryText(req, 'var'),
      };
      res.set(NO_CACHING);
      const refused = refusedProwJobsQuery(query);
      if (refused) return void res.status(400).type('text/plain').send(refused);
      res.status(200).type(prowJobsContentType(query));
      // Streamed with the socket's backpressure: built as one string, 20,000 jobs' answer was a
      // 25 MB string and its 25 MB Buffer per request, the most of the deck's memory (issue 18
      // item 4). A reader that goes away ends the stream, which is all there is to do about it.
      await pipeline(Readable.from(prowJobsPieces(scopeOf(res).jobs.all(), query)), res).catch((error: unknown) => {
        if ((error as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') options.logger.error({ err: error }, 'cannot send /prowjobs.js');
      });
    });
  };
}

/** Every address that shows jobs, runs or logs: each is answered within the caller's scope. */
const READ_SURFACES = ['/', '/events', '/prowjob', '/prowjob/:name', '/prowjobs.js', '/pr/:org/:repo/:number', '/job-history/:job', '/log/:name', '/badge.svg'];

/** As Prow's deck sends its data: never from a cache. */
const NO_CACHING = { 'cache-control': 'no-store, must-revalidate', expires: '0' };

function queryText(req: Request, name: string): string | undefined {
  const value = req.query[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first !== '' ? first : undefined;
}
