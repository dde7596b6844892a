import { readFileSync } from 'node:fs';
import { DEFAULT_TENANT, tenantOf, type Config, type ConfigSource, type Tenant } from '@bowline/config';
import { describeError, SettingsError, type Logger } from '@bowline/observability';
import { ownerOf, parseSecrets, secretsFor, type WebhookSecrets } from './secrets.js';

/**
 * Whose secret checks a webhook.
 * - `tenant`: the tenant owning the payload's repository (or, for an event without one, the
 *   tenant listing its whole org) and that tenant's secrets only.
 * - `unknown`: the repository or org is in no tenant: refused with 404, never checked against
 *   anyone's secret.
 * - `ownerless`: the payload names neither repository nor org (a GitHub App's own `ping`, a body
 *   that is not JSON): any tenant's secret is accepted, since nothing a tenant owns is concerned,
 *   and such an event is never stored (the hook stores only events with a repository).
 */
export type SecretVerdict =
  | { kind: 'tenant'; tenant: string; secrets: readonly string[] }
  | { kind: 'unknown'; reason: 'unknown_repository' | 'unknown_org'; owner: string }
  | { kind: 'ownerless'; secrets: readonly string[] };

/** What the webhook route asks of the secrets (narrow, so tests can hand it fixed ones). */
export interface SecretLookup {
  /** True when the verdict depends on the payload, so it must be parsed before the signature is checked. */
  needsPayload(): boolean;
  /** `payload`: the parsed body, or undefined when it was not parsed or is not JSON. */
  verdict(payload: unknown): SecretVerdict;
}

export interface SecretBookOptions {
  /** Without a config (no `BOWLINE_CONFIG`), every webhook is the implicit tenant's. */
  config?: ConfigSource;
  /** `GITHUB_WEBHOOK_SECRET_FILE`: the implicit tenant's secrets; unused when tenants are listed. */
  secretFile?: string;
  logger: Logger;
}

/**
 * Every tenant's webhook secrets, read from their files when the book is made (a file that cannot
 * be read stops the hook from starting, as a missing secret always did) and again for each new
 * config: a reload is how a rotated secret file takes effect. A file that cannot be read on a
 * reload leaves that tenant's last good secrets in force, logged.
 */
export class WebhookSecretBook implements SecretLookup {
  private readFor: Config | undefined;
  private implicit: WebhookSecrets | undefined;
  private readonly byTenant = new Map<string, WebhookSecrets>();

  constructor(private readonly options: SecretBookOptions) {
    this.read(options.config?.get(), true);
  }

  /** A lookup of fixed secrets for the implicit tenant (tests, and the route's own tests). */
  static fixed(secrets: WebhookSecrets): SecretLookup {
    return { needsPayload: () => secrets.scoped, verdict: (payload) => implicitVerdict(secrets, payload) };
  }

  needsPayload(): boolean {
    const config = this.current();
    return !isImplicit(config) || (this.implicit?.scoped ?? false);
  }

  verdict(payload: unknown): SecretVerdict {
    const config = this.current();
    if (isImplicit(config)) return this.implicit ? implicitVerdict(this.implicit, payload) : { kind: 'tenant', tenant: DEFAULT_TENANT, secrets: [] };
    const tenants = config.bowline.tenants;
    const repository = repositoryOf(payload);
    if (repository) {
      const owner = tenantOf(config, repository.org, repository.repo);
      if (!owner) return { kind: 'unknown', reason: 'unknown_repository', owner: `${repository.org}/${repository.repo}` };
      return { kind: 'tenant', tenant: owner.name, secrets: this.secretsOf(owner, `${repository.org}/${repository.repo}`) };
    }
    const org = orgOf(payload);
    if (org) {
      const owner = tenants.find((t) => t.repos.some((r) => r.toLowerCase() === org.toLowerCase()));
      if (!owner) return { kind: 'unknown', reason: 'unknown_org', owner: org };
      return { kind: 'tenant', tenant: owner.name, secrets: this.secretsOf(owner, org) };
    }
    return { kind: 'ownerless', secrets: tenants.flatMap((t) => this.secretsOf(t, undefined)) };
  }

  private secretsOf(tenant: Tenant, owner: string | undefined): readonly string[] {
    const secrets = this.byTenant.get(tenant.name);
    return secrets ? secretsFor(secrets, owner) : [];
  }

  private current(): Config | undefined {
    const config = this.options.config?.get();
    if (config !== this.readFor) this.read(config, false);
    return config;
  }

  private read(config: Config | undefined, starting: boolean): void {
    this.readFor = config;
    // A file that fails on a reload stores nothing, so the tenant's last good secrets stay.
    const load = (file: string, tenant: string, store: (s: WebhookSecrets) => void): void => {
      try {
        store(parseSecrets(readFileSync(file, 'utf8'), file));
      } catch (error) {
        if (starting) {
          if (error instanceof SettingsError) throw error;
          const what = tenant === DEFAULT_TENANT ? `GITHUB_WEBHOOK_SECRET_FILE names ${file}, which` : `the webhook secret file ${file} of tenant "${tenant}"`;
          throw new SettingsError(`${what} cannot be read`, { cause: error, context: { tenant } });
        }
        this.options.logger.error({ tenant, file, err: error }, `webhook secret file not read: the last secrets read stay in force (${describeError(error)})`);
      }
    };
    if (isImplicit(config)) {
      if (!this.options.secretFile) {
        const message = 'GITHUB_WEBHOOK_SECRET_FILE is not set: set it to the path of a file holding the webhook secret given to GitHub (or list tenants with their webhook_secret_file in config.yaml)';
        if (starting) throw new SettingsError(message, { context: { variable: 'GITHUB_WEBHOOK_SECRET_FILE' } });
        this.options.logger.error({ tenant: DEFAULT_TENANT }, message);
        return;
      }
      load(this.options.secretFile, DEFAULT_TENANT, (s) => (this.implicit = s));
      return;
    }
    const listed = new Set(config.bowline.tenants.map((t) => t.name));
    for (const name of [...this.byTenant.keys()]) if (!listed.has(name)) this.byTenant.delete(name);
    for (const tenant of config.bowline.tenants) {
      // checkconfig requires webhook_secret_file of every listed tenant.
      if (tenant.webhookSecretFile) load(tenant.webhookSecretFile, tenant.name, (s) => this.byTenant.set(tenant.name, s));
    }
  }
}

function isImplicit(config: Config | undefined): config is undefined {
  return config === undefined || config.bowline.tenants.some((t) => t.implicit);
}

function implicitVerdict(secrets: WebhookSecrets, payload: unknown): SecretVerdict {
  return { kind: 'tenant', tenant: DEFAULT_TENANT, secrets: secretsFor(secrets, ownerOf(payload)) };
}

/** The payload's repository, from the fields every repository event carries. */
function repositoryOf(payload: unknown): { org: string; repo: string } | undefined {
  const r = (payload as { repository?: { name?: unknown; owner?: { login?: unknown }; full_name?: unknown } } | null)?.repository;
  if (typeof r?.owner?.login === 'string' && typeof r.name === 'string') return { org: r.owner.login, repo: r.name };
  const [org, repo] = typeof r?.full_name === 'string' ? r.full_name.split('/') : [];
  return org && repo ? { org, repo } : undefined;
}

/** The org of an event without a repository: an org event's, or the App installation's account. */
function orgOf(payload: unknown): string | undefined {
  const p = payload as { organization?: { login?: unknown }; installation?: { account?: { login?: unknown } } } | null;
  if (typeof p?.organization?.login === 'string') return p.organization.login;
  if (typeof p?.installation?.account?.login === 'string') return p.installation.account.login;
  return undefined;
}
