import type { NextFunction, Request, Response } from 'express';
import { accessEntryText, DEFAULT_TENANT, tenantOf, type AccessEntry, type Config, type ConfigSource, type Tenant } from '@bowline/config';
import { tenantOfJob, type HistoryRecord, type ProwJob } from '@bowline/prowjob';
import { decideView, type ViewTokens } from '@bowline/service';
import { html } from './html.js';
import type { JobIndex } from './job-index.js';
import { page, sendPage } from './layout.js';

/** What a page reads of the index: the whole index, or only the jobs the caller may view. */
export type JobReader = Pick<JobIndex, 'get' | 'all' | 'revision' | 'changedSince'>;

/** What one request may read: the jobs (through `jobs`) and the HISTORY records (`record`). */
export interface Scope {
  jobs: JobReader;
  job(job: ProwJob): boolean;
  record(record: HistoryRecord): boolean;
}

export interface VisibilityDeps {
  index: JobIndex;
  /** `BOWLINE_VIEW_TOKENS_FILE`, as the jenkins-operator's logs endpoint reads it. */
  tokens: Pick<ViewTokens, 'grantOf'>;
  config: ConfigSource;
  /** The signed-in user's GitHub login (auth/); absent when the deck has no sign-in. */
  signedIn?: (req: Request, res: Response) => Promise<string | undefined>;
  /** Active membership of `org/slug`, through the bot's client (auth/permissions.ts). */
  inTeam?: (org: string, slug: string, user: string) => Promise<boolean>;
}

/**
 * Which tenants' jobs a request may see (issues 17, 18, 20): one filter over the index and the
 * HISTORY records every read surface goes through, so no page can forget it. The caller is a
 * bearer token of the view tokens file, else the signed-in GitHub user; the rule is the logs
 * endpoint's `decideView`, so nobody is anonymous: without either, 401.
 */
export class Visibility {
  constructor(private readonly deps: VisibilityDeps) {}

  /** Express middleware: puts the request's Scope in `res.locals.scope`, or answers 401. */
  readonly handle = (req: Request, res: Response, next: NextFunction): void => {
    this.scopeOf(req, res).then(
      (scope) => {
        if (!scope) return sendPage(res.set('www-authenticate', 'Bearer'), signInPage(this.deps.signedIn !== undefined), 401);
        res.locals.scope = scope;
        next();
      },
      (error: unknown) => next(error),
    );
  };

  private async scopeOf(req: Request, res: Response): Promise<Scope | undefined> {
    const config = this.deps.config.get();
    const grant = this.deps.tokens.grantOf(req.get('authorization'));
    const login = grant ? undefined : await this.deps.signedIn?.(req, res);
    if (!grant && !login) return undefined;
    const allowed = new Set<string>();
    for (const tenant of config.bowline.tenants) {
      if (grant ? decideView(grant, viewable(tenant)) === 'allowed' : await this.userMayView(login!, tenant)) allowed.add(tenant.name);
    }
    // A tenant the config no longer lists is seen by name or `*` grants only, as on the logs endpoint.
    const named = (name: string): boolean => allowed.has(name) || (grant !== undefined && decideView(grant, { name, view: [] }) === 'allowed');
    const job = (j: ProwJob): boolean => named(tenantNameOfJob(config, j));
    const record = (r: HistoryRecord): boolean => named(tenantNameOfRecord(config, r));
    return { job, record, jobs: scopedIndex(this.deps.index, job) };
  }

  /**
   * A signed-in user sees a tenant without `access.view`, or one whose `user:` or `team:` entry
   * admits them. `org-members` and `collaborators` name no organisation or repository of their
   * own for a whole tenant, so they admit nobody here yet (README "Who may see what in the deck").
   */
  private async userMayView(login: string, tenant: Tenant): Promise<boolean> {
    const view = tenant.access.view;
    if (view === undefined) return true;
    return admits(view, login, this.deps.inTeam);
  }
}

/** Whether one of `entries` admits `login`: `user:` by name, `team:` by active membership. */
export async function admits(entries: readonly AccessEntry[], login: string, inTeam: VisibilityDeps['inTeam']): Promise<boolean> {
  for (const entry of entries) {
    if (entry.kind === 'user' && entry.login.toLowerCase() === login.toLowerCase()) return true;
    if (entry.kind === 'team' && inTeam && (await inTeam(entry.org, entry.team, login))) return true;
  }
  return false;
}

/** The index as one request may read it. */
export function scopedIndex(index: JobIndex, visible: (job: ProwJob) => boolean): JobReader {
  return {
    get: (name) => {
      const job = index.get(name);
      return job && visible(job) ? job : undefined;
    },
    all: () => index.all().filter(visible),
    get revision() {
      return index.revision;
    },
    changedSince: (revision) => index.changedSince(revision),
  };
}

/** Everything, as Prow's deck shows it: the deck without a view tokens file. */
export function everything(index: JobIndex): Scope {
  return { jobs: index, job: () => true, record: () => true };
}

/** The request's scope, as Visibility (or the deck without one) left it. */
export function scopeOf(res: Response): Scope {
  return res.locals.scope as Scope;
}

function viewable(tenant: Tenant): { name: string; view?: string[] } {
  return { name: tenant.name, ...(tenant.access.view ? { view: tenant.access.view.map(accessEntryText) } : {}) };
}

/** As the operator's logs endpoint: `tenantOfJob`. */
function tenantNameOfJob(config: Config, job: ProwJob): string {
  return tenantOfJob(config, job).name;
}

function tenantNameOfRecord(config: Config, record: HistoryRecord): string {
  if (record.tenant) return record.tenant;
  const [org, repo] = (record.repo ?? '').split('/');
  return (org && repo && tenantOf(config, org, repo)?.name) || DEFAULT_TENANT;
}


function signInPage(canSignIn: boolean): ReturnType<typeof page> {
  return page(
    'Sign in',
    canSignIn
      ? html`<h1>Sign in</h1><p>This deck shows each tenant’s jobs to the people its access rules name. <a href="/auth/login">Sign in with GitHub</a>.</p>`
      : html`<h1>Sign in</h1><p>This deck shows jobs only to callers with a view token: send <code>Authorization: Bearer &lt;token&gt;</code>.</p>`,
  );
}
