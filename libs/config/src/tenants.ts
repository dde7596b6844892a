import type { AccessEntry, Config, GitHubCredentials, JenkinsMaster, Tenant, TenantAccess } from './types.js';
import type { DocumentReader, Path, Raw } from './yaml-document.js';

/** The name of the one tenant of a config that lists none. */
export const DEFAULT_TENANT = 'default';

/**
 * The tenant owning `org/repo`: a tenant listing the repository wins over one listing its whole
 * org; a config without tenants answers its implicit tenant for every repository. GitHub's names
 * are case-insensitive (a webhook spells them as the repository does now), so the match is too.
 */
export function tenantOf(config: Config, org: string, repo: string): Tenant | undefined {
  return tenantAmong(config.bowline.tenants, org, repo);
}

export function tenantAmong(tenants: Tenant[], org: string, repo: string): Tenant | undefined {
  if (tenants.length === 1 && tenants[0]!.implicit) return tenants[0];
  const full = `${org}/${repo}`.toLowerCase();
  const wholeOrg = org.toLowerCase();
  return (
    tenants.find((t) => t.repos.some((r) => r.toLowerCase() === full)) ??
    tenants.find((t) => t.repos.some((r) => r.toLowerCase() === wholeOrg))
  );
}

export function tenantNamed(config: Config, name: string): Tenant | undefined {
  return config.bowline.tenants.find((t) => t.name === name);
}

/** `org-members`, `collaborators`, `team:org/team`, `user:login`; anything else is `undefined`. */
export function parseAccessEntry(text: string): AccessEntry | undefined {
  if (text === 'org-members') return { kind: 'org-members' };
  if (text === 'collaborators') return { kind: 'collaborators' };
  const team = /^team:([^/\s:]+)\/([^/\s]+)$/.exec(text);
  if (team) return { kind: 'team', org: team[1]!, team: team[2]! };
  const user = /^user:([^/\s:]+)$/.exec(text);
  if (user) return { kind: 'user', login: user[1]! };
  return undefined;
}

/** How the builder reads a tenant's Jenkins list: as `bowline.jenkins` entries, at the tenant's path. */
export type MastersReader = (doc: DocumentReader, path: Path, entries: Raw[]) => JenkinsMaster[];

/**
 * `bowline.tenants` made into tenants, or the implicit `default` tenant (with `bowline.jenkins`)
 * when the list is absent or empty. Values failing their field's type or pattern are already
 * problems (DocumentReader) and arrive here as `undefined`; they are left out.
 */
export function buildTenants(doc: DocumentReader, raw: Raw[] | undefined, topMasters: JenkinsMaster[], readMasters: MastersReader): Tenant[] {
  if (!raw || raw.length === 0) {
    return [
      {
        name: DEFAULT_TENANT,
        repos: [],
        jenkins: topMasters,
        quotas: { maxConcurrency: 0, maxJobsPerPr: 0 },
        access: {},
        implicit: true,
        source: { file: doc.file, line: doc.line(['bowline']) },
      },
    ];
  }
  return raw.flatMap((entry, i): Tenant[] => {
    if (!entry || typeof entry.name !== 'string') return [];
    const path = ['bowline', 'tenants', i];
    const quotas = (entry.quotas as Raw | undefined) ?? {};
    return [
      {
        name: entry.name,
        repos: ((entry.repos as unknown[] | undefined) ?? []).filter((r): r is string => typeof r === 'string'),
        webhookSecretFile: entry.webhook_secret_file as string | undefined,
        github: credentials(entry.github as Raw | undefined),
        jenkins: readMasters(doc, [...path, 'jenkins'], (entry.jenkins as Raw[] | undefined) ?? []),
        quotas: {
          maxConcurrency: (quotas.max_concurrency as number | undefined) ?? 0,
          maxJobsPerPr: (quotas.max_jobs_per_pr as number | undefined) ?? 0,
        },
        access: access(entry.access as Raw | undefined),
        implicit: false,
        source: { file: doc.file, line: doc.line(path) },
      },
    ];
  });
}

function credentials(raw: Raw | undefined): GitHubCredentials | undefined {
  if (!raw) return undefined;
  if (typeof raw.token_file === 'string') return { tokenFile: raw.token_file };
  if (typeof raw.app_id === 'string' && typeof raw.private_key_file === 'string') return { appId: raw.app_id, privateKeyFile: raw.private_key_file };
  return undefined;
}

function access(raw: Raw | undefined): TenantAccess {
  const list = (value: unknown): AccessEntry[] | undefined =>
    Array.isArray(value) ? value.flatMap((text: unknown) => (typeof text === 'string' ? (parseAccessEntry(text) ?? []) : [])) : undefined;
  const out: TenantAccess = {};
  const test = list(raw?.test);
  const okToTest = list(raw?.ok_to_test);
  const view = list(raw?.view);
  if (test) out.test = test;
  if (okToTest) out.okToTest = okToTest;
  if (view) out.view = view;
  return out;
}
