import type { EventEnvelope } from '@bowline/bus';
import { tenantNamed, tenantOf, type Config, type Tenant } from '@bowline/config';

/** The repository an event is about, as each event GitHub sends names it. */
export function repositoryOf(payload: unknown): { org: string; repo: string } | undefined {
  const repository = (payload as { repository?: { name?: unknown; owner?: { login?: unknown; name?: unknown } } } | undefined)?.repository;
  // A push names the owner in `login` and `name`; the other events in `login`.
  const org = repository?.owner?.login ?? repository?.owner?.name;
  const repo = repository?.name;
  return typeof org === 'string' && typeof repo === 'string' ? { org, repo } : undefined;
}

/**
 * The tenant whose GitHub identity, access rules and quotas apply to an event: the tenant owning
 * its repository now. The hook checked the event with the secret of the tenant it names; if the
 * config moved the repository to another tenant since, the event is refused rather than acted on
 * with the new owner's credentials on the word of the old owner's secret. An event naming no
 * repository belongs to the tenant it names (the implicit one when it names none).
 */
export function tenantOfEvent(config: Config, envelope: EventEnvelope<unknown>): { tenant: Tenant } | { refused: string } {
  const where = repositoryOf(envelope.payload);
  const named = envelope.tenant === undefined ? undefined : tenantNamed(config, envelope.tenant);
  if (!where) {
    const tenant = named ?? (envelope.tenant === undefined ? config.bowline.tenants.find((t) => t.implicit) : undefined);
    return tenant ? { tenant } : { refused: `no tenant "${envelope.tenant ?? ''}" in the config` };
  }
  const owner = tenantOf(config, where.org, where.repo);
  if (!owner) return { refused: `no tenant owns ${where.org}/${where.repo}` };
  // Events stored before tenants name none; the implicit tenant owns every repository anyway.
  if (envelope.tenant !== undefined && envelope.tenant !== owner.name) {
    return { refused: `${where.org}/${where.repo} belongs to tenant ${owner.name}, not to ${envelope.tenant} whose event this is` };
  }
  return { tenant: owner };
}
