import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { BowlineError, type Logger } from '@bowline/observability';
import { connectGitHub, type GitHub, type GitHubSettings } from './client.js';

/** What the factory needs of a tenant (a `Tenant` of @bowline/config fits). */
export interface TenantIdentity {
  name: string;
  /** Unset: the service's own identity. */
  github?: { tokenFile: string } | { appId: string; privateKeyFile: string };
}

/** A tenant's credential file cannot be read, or is empty; nothing is sent to GitHub for it. */
export class TenantCredentialsError extends BowlineError {}

export interface TenantClientsOptions {
  /** The service's own client, for tenants without `github` (and the implicit tenant). */
  own: GitHub;
  /** Where GitHub is and how writes are paced: the service's own settings (`GITHUB_API_URL`, `GITHUB_WRITE_INTERVAL`). */
  settings: Pick<GitHubSettings, 'apiUrl' | 'writeIntervalMs'>;
  logger: Logger;
  service: string;
  registry?: Registry;
}

interface Built {
  /** The tenant's credentials and their file contents' hash: the same key reuses the client. */
  key: string;
  client: GitHub;
}

/**
 * One GitHub client per tenant identity, each built on first use with the same resilience,
 * metrics and conditional requests as the service's own (`connectGitHub`), and its writes paced
 * apart (each identity has its own GitHub limits).
 *
 * Credential files are read again for each new config (a reload makes new tenant objects), so a
 * rotated token takes effect with the next config reload; a client whose credentials and file
 * contents did not change is kept, with its ETag cache and App installation tokens.
 */
export class TenantGitHubClients {
  private readonly byTenant = new WeakMap<TenantIdentity, GitHub>();
  private readonly byName = new Map<string, Built>();

  constructor(private readonly options: TenantClientsOptions) {}

  /** The tenant's client; throws TenantCredentialsError when its credential file cannot be read. */
  forTenant(tenant: TenantIdentity): GitHub {
    const credentials = tenant.github;
    if (!credentials) return this.options.own;
    const seen = this.byTenant.get(tenant);
    if (seen) return seen;
    const settings: GitHubSettings =
      'tokenFile' in credentials
        ? { ...this.options.settings, token: readCredential(tenant.name, credentials.tokenFile, 'a GitHub token') }
        : {
            ...this.options.settings,
            app: {
              apiUrl: this.options.settings.apiUrl,
              appId: credentials.appId,
              privateKey: readCredential(tenant.name, credentials.privateKeyFile, "a GitHub App's private key"),
            },
          };
    const key = createHash('sha256')
      .update(JSON.stringify(credentials))
      .update('\0')
      .update(settings.token ?? settings.app?.privateKey ?? '')
      .digest('hex');
    let built = this.byName.get(tenant.name);
    if (built?.key !== key) {
      const { logger, service, registry } = this.options;
      built = { key, client: connectGitHub(settings, { logger: logger.child({ tenant: tenant.name }), service, registry, queue: `${service}-${tenant.name}` }) };
      this.byName.set(tenant.name, built);
    }
    this.byTenant.set(tenant, built.client);
    return built.client;
  }
}

function readCredential(tenant: string, file: string, meaning: string): string {
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new TenantCredentialsError(`tenant "${tenant}": ${file} cannot be read: it must hold ${meaning}`, { cause: error, context: { tenant, file } });
  }
  if (!value) throw new TenantCredentialsError(`tenant "${tenant}": ${file} is empty: it must hold ${meaning}`, { context: { tenant, file } });
  return value;
}
