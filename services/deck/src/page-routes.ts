import type { Express, Request, Response } from 'express';
import type { ConfigSource } from '@bowline/config';
import type { Logger } from '@bowline/observability';
import type { ProwJob } from '@bowline/prowjob';
import { badgeStatus, badgeSvg, latestOfEach } from './badge.js';
import { commandHelpPage, configuredJobsPage } from './help-pages.js';
import type { HistorySource } from './history-source.js';
import { html } from './html.js';
import { jobHistoryPage } from './job-history-page.js';
import { notFoundPage, page, sendPage } from './layout.js';
import { sendLogPage, type LogSource } from './log-page.js';
import { pullHistory } from './pr-history.js';
import { prPage } from './pr-page.js';
import { liveRun, runView, type RunView } from './run-view.js';
import { scopeOf } from './visibility.js';

export interface PageRoutesOptions {
  history: HistorySource;
  config: ConfigSource;
  logs: LogSource;
  githubUrl: string;
  logger: Logger;
  /** Runs on a page of a job's history: Prow's deck shows 20. */
  runsPerPage?: number;
}

/**
 * The deck's pages beyond the job list (issue 18's second part): pull request and job histories
 * from HISTORY, build logs through the jenkins-operator, the config's commands and jobs, badges.
 */
export function pageRoutes(options: PageRoutesOptions): (app: Express) => void {
  const { history, config, logs, githubUrl, logger } = options;
  const runsPerPage = options.runsPerPage ?? 20;
  const failed = (res: Response, what: string, error: unknown, context: Record<string, unknown>): void => {
    logger.error({ err: error, ...context }, `cannot read ${what}`);
    sendPage(res, page('Not available', html`<h1>Not available</h1><p>The deck cannot read ${what} now. Try again in a moment.</p>`), 503);
  };

  return (app) => {
    app.get('/job-history/:job', async (req, res) => {
      const job = req.params.job;
      const cursor = pageCursor(req);
      if (cursor === 'bad') return sendPage(res, page('Bad request', html`<h1>Bad request</h1><p>before and after must be whole numbers.</p>`), 400);
      try {
        const scope = scopeOf(res);
        const found = await history.jobRuns(job, { ...cursor, limit: runsPerPage });
        const runs: RunView[] = found.runs.filter(({ record }) => scope.record(record)).map(({ record }) => {
          const live = scope.jobs.get(record.prowjob);
          return live ? liveRun(live) : runView(record, false);
        });
        if (!cursor.before && !cursor.after) {
          // The newest page also shows runs the sinker has not recorded yet: live ones that started
          // after the newest recorded run (older live runs are on the pages their records put them).
          const recorded = new Set(runs.map((run) => run.prowjob));
          const newest = runs.reduce((latest, run) => (run.started > latest ? run.started : latest), '');
          const unrecorded = scope.jobs.all().filter((live) => live.spec.job === job && !recorded.has(live.metadata.name) && (live.status.startTime ?? '') >= newest);
          runs.unshift(...unrecorded.map(liveRun));
        }
        sendPage(res, jobHistoryPage({ job, runs, older: found.older, newer: found.newer, githubUrl }));
      } catch (error) {
        failed(res, `the history of ${job}`, error, { job });
      }
    });

    app.get('/pr/:org/:repo/:number', async (req, res) => {
      const repo = `${req.params.org}/${req.params.repo}`;
      const pr = Number(req.params.number);
      if (!Number.isSafeInteger(pr) || pr <= 0) return sendPage(res, notFoundPage(`${req.params.number} is not a pull request number.`), 404);
      try {
        const scope = scopeOf(res);
        const records = (await history.pullRecords(repo, pr)).filter(scope.record);
        sendPage(res, prPage(pullHistory(repo, pr, records, scope.jobs.all()), githubUrl));
      } catch (error) {
        failed(res, `the history of ${repo}#${pr}`, error, { repo, pr });
      }
    });

    app.get('/log/:name', async (req, res) => {
      const job = scopeOf(res).jobs.get(req.params.name);
      if (!job) return sendPage(res, notFoundPage(`There is no ProwJob named ${req.params.name}: its log is on its build’s page in Jenkins, linked from its job history.`), 404);
      await sendLogPage(req, res, job, logs, logger);
    });

    app.get('/command-help', (_req, res) => sendPage(res, commandHelpPage(config.get())));

    app.get('/configured-jobs/:org/:repo', (req, res) => {
      const repo = `${req.params.org}/${req.params.repo}`;
      const content = configuredJobsPage(config.get(), repo, githubUrl);
      if (!content) return sendPage(res, notFoundPage(`The config gives ${repo} no jobs.`), 404);
      sendPage(res, content);
    });

    app.get('/badge.svg', (req, res) => {
      const selector = typeof req.query.jobs === 'string' ? req.query.jobs : '';
      const picked: ProwJob[] = selector ? latestOfEach(scopeOf(res).jobs.all(), selector) : [];
      const { status, color } = badgeStatus(picked);
      res.status(200).set({ 'cache-control': 'no-cache', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" }).type('image/svg+xml').send(badgeSvg('build', status, color));
    });
  };
}

/** `?before=` or `?after=`, Prow's `buildId` paging with stream positions; 'bad' when not numbers. */
function pageCursor(req: Request): { before?: number; after?: number } | 'bad' {
  const read = (name: string): number | undefined | 'bad' => {
    const value = req.query[name];
    if (value === undefined) return undefined;
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
    return Number.isSafeInteger(n) && n > 0 ? n : 'bad';
  };
  const before = read('before');
  const after = read('after');
  if (before === 'bad' || after === 'bad') return 'bad';
  return { ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) };
}
