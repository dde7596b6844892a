import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { accessEntryText, type ConfigSource, type TenantFilter } from '@bowline/config';
import { JenkinsError } from '@bowline/jenkins';
import type { Logger } from '@bowline/observability';
import { tenantOfJob, type ProwJob, type ProwJobStore } from '@bowline/prowjob';
import { decideView, type ViewTokens } from '@bowline/service';
import { jenkinsJobPath } from './build-parameters.js';
import type { JenkinsMasters } from './jenkins-masters.js';
import { followedBuildOf } from './job-records.js';

export interface LogsRouteDeps {
  store: Pick<ProwJobStore, 'get'>;
  masters: Pick<JenkinsMasters, 'forJob'>;
  logger: Logger;
  /**
   * `BOWLINE_VIEW_TOKENS_FILE`: when given, a caller sees a job's log only with a bearer token
   * that may view the job's tenant (401 without one, 403 for another tenant's job); the config
   * says each job's tenant and each tenant's `access.view`. Not given: anyone may read (as before).
   */
  viewTokens?: Pick<ViewTokens, 'grantOf'>;
  config?: ConfigSource;
  /** `BOWLINE_TENANTS`: an operator serving some tenants serves only their jobs' logs (others are another operator's, 404). */
  tenants?: TenantFilter;
}

/** What Express gives a `/logs/:prowjob` handler, in node:http's terms. */
export type LogsRequest = IncomingMessage & { params: Record<string, string | undefined> };

export type LogsHandler = (req: LogsRequest, res: ServerResponse) => Promise<void>;

// A NATS KV key (the ProwJob's name): anything else is no ProwJob, and the bucket would refuse it.
const PROWJOB_NAME = /^[A-Za-z0-9_=-]+(?:\.[A-Za-z0-9_=-]+)*$/;

/**
 * `GET /logs/{prowjob}`: the build's `consoleText`, streamed through as it comes, so a status page
 * can show a log without Jenkins credentials. Only the log crosses: none of Jenkins' headers (its
 * session cookies) and none of its error pages; the operator's own credentials stay with it.
 */
export function createLogsHandler(deps: LogsRouteDeps): LogsHandler {
  return async (req, res) => {
    const name = req.params.prowjob ?? '';
    const log = deps.logger.child({ prowjob: name });
    try {
      // Who asks comes first: without a token, not even whether a job exists is told.
      const grant = deps.viewTokens?.grantOf(req.headers.authorization);
      if (deps.viewTokens && !grant) return answer(res, 401, 'A bearer token that may view this job is needed.\n', { 'www-authenticate': 'Bearer' });
      if (!PROWJOB_NAME.test(name)) return answer(res, 404, 'No such ProwJob.\n');
      const job = (await deps.store.get(name))?.job;
      if (!job || job.spec.agent !== 'jenkins' || !served(deps, job)) return answer(res, 404, `No Jenkins ProwJob named ${name}.\n`);
      if (deps.viewTokens && !mayView(deps, grant, job)) return answer(res, 403, `This token may not view the jobs of ProwJob ${name}'s tenant.\n`);
      const build = followedBuildOf(job);
      if (build === undefined) return answer(res, 404, `ProwJob ${name} has no Jenkins build yet.\n`);

      const client = deps.masters.forJob(job)?.client;
      if (!client) return answer(res, 503, `No Jenkins master configured for ProwJob ${name} can be used.\n`);

      // The reader going away (a closed browser tab) stops the read from Jenkins too.
      const reading = new AbortController();
      res.once('close', () => reading.abort());
      let consoleText: Response;
      try {
        consoleText = await client.consoleText(jenkinsJobPath(job), build, { signal: reading.signal });
      } catch (error) {
        if (error instanceof JenkinsError && error.status === 404) {
          return answer(res, 404, `The log of build #${build} is no longer kept by Jenkins.\n`);
        }
        log.warn({ build, err: error }, 'cannot read the build log from Jenkins');
        return answer(res, 502, 'Cannot read the build log from Jenkins.\n');
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
      if (!consoleText.body || req.method === 'HEAD') {
        reading.abort();
        res.end();
        return;
      }
      try {
        await pipeline(Readable.fromWeb(consoleText.body), res);
      } catch (error) {
        if (!reading.signal.aborted) log.warn({ build, err: error }, 'the build log stopped part way');
      }
    } catch (error) {
      log.error({ err: error }, 'cannot serve the build log');
      answer(res, 503, 'Cannot read the ProwJob.\n');
    }
  };
}

function served(deps: LogsRouteDeps, job: ProwJob): boolean {
  const config = deps.config?.get();
  return !deps.tenants || !config || deps.tenants.includes(tenantOfJob(config, job).name);
}

/** The job's tenant as the config has it now; a tenant the config no longer lists is seen by name or `*` grants only. */
function mayView(deps: LogsRouteDeps, grant: ReturnType<ViewTokens['grantOf']>, job: ProwJob): boolean {
  const config = deps.config?.get();
  if (!config) return false;
  const { name, tenant } = tenantOfJob(config, job);
  const view = tenant ? tenant.access.view?.map(accessEntryText) : [];
  return decideView(grant, { name, view }) === 'allowed';
}


function answer(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  // Part of a log was sent already: the cut connection is the only way left to say it failed.
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers });
  res.end(text);
}
