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

/** An access entry as written in config.yaml (the inverse of `parseAccessEntry`), as view tokens name it. */
export function accessEntryText(entry: AccessEntry): string {
  switch (entry.kind) {
    case 'team':
      return `team:${entry.org}/${entry.team}`;
    case 'user':
      return `user:${entry.login}`;
    default:
      return entry.kind;
  }
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

/**
 * The rules over `bowline.tenants` as a whole, each a problem at its field: unique names, each
 * repository or org in one tenant only, a webhook secret and a Jenkins master for every tenant,
 * one GitHub identity, and no `bowline.jenkins` beside tenants (whose jobs would run where?).
 * Names, repository entries and access entries of the wrong form are problems already (their
 * fields' patterns).
 */
export function checkTenants(doc: DocumentReader, raw: Raw[] | undefined, topMasters: unknown): void {
  if (!raw || raw.length === 0) return;
  if (Array.isArray(topMasters) && topMasters.length > 0) {
    doc.problem(['bowline', 'jenkins'], 'with bowline.tenants, list each tenant’s Jenkins masters under its own jenkins, not here');
  }
  const names = new Map<string, number>();
  const repos = new Map<string, { tenant: string; written: string }>();
  const masters = new Map<string, string>();
  raw.forEach((entry, i) => {
    if (!entry) return;
    const path = ['bowline', 'tenants', i];
    const name = typeof entry.name === 'string' ? entry.name : `#${i}`;
    const earlier = names.get(name);
    if (earlier !== undefined) doc.problem([...path, 'name'], `tenant "${name}" is listed twice (also bowline.tenants[${earlier}])`);
    names.set(name, i);
    const listed = Array.isArray(entry.repos) ? (entry.repos as unknown[]) : [];
    if (Array.isArray(entry.repos) && listed.length === 0) doc.problem([...path, 'repos'], `tenant "${name}" lists no repository or org`);
    listed.forEach((written, j) => {
      if (typeof written !== 'string') return;
      const other = repos.get(written.toLowerCase());
      if (other && other.tenant !== name) {
        doc.problem([...path, 'repos', j], `"${written}" is in tenants "${other.tenant}" and "${name}": each repository or org belongs to one tenant`);
      }
      repos.set(written.toLowerCase(), { tenant: name, written });
    });
    if (entry.webhook_secret_file === undefined) {
      doc.problem([...path, 'webhook_secret_file'], `tenant "${name}" needs a webhook_secret_file: its webhooks are checked with its own secret only`);
    }
    const jenkins = Array.isArray(entry.jenkins) ? (entry.jenkins as (Raw | undefined)[]) : [];
    if (jenkins.length === 0) {
      doc.problem([...path, 'jenkins'], `tenant "${name}" needs at least one Jenkins master: its jobs never run on another tenant's`);
    }
    jenkins.forEach((master, j) => {
      if (typeof master?.name !== 'string') return;
      const owner = masters.get(master.name);
      if (owner !== undefined && owner !== name) {
        doc.problem([...path, 'jenkins', j, 'name'], `Jenkins master "${master.name}" is also tenant "${owner}"'s: masters are named once across tenants (logs and metrics name them)`);
      }
      masters.set(master.name, name);
    });
    checkCredentials(doc, [...path, 'github'], name, entry.github as Raw | undefined);
  });
}

function checkCredentials(doc: DocumentReader, path: Path, tenant: string, github: Raw | undefined): void {
  if (!github) return;
  const token = github.token_file !== undefined;
  const app = github.app_id !== undefined || github.private_key_file !== undefined;
  if (token === app) {
    doc.problem(path, `tenant "${tenant}": set either token_file or app_id + private_key_file`);
  } else if (app && (github.app_id === undefined || github.private_key_file === undefined)) {
    doc.problem([...path, github.app_id === undefined ? 'app_id' : 'private_key_file'], `tenant "${tenant}": app_id and private_key_file go together`);
  }
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
