import { SettingsError } from '@bowline/observability';
import type { Env } from '@bowline/service';
import type { Config } from './types.js';

/**
 * The tenants one process serves (`BOWLINE_TENANTS=payments,search`), so a planner or
 * jenkins-operator can run per tenant; unset or empty, every tenant.
 */
export interface TenantFilter {
  /** The tenants named, in order; undefined: every tenant. */
  readonly names?: readonly string[];
  includes(tenant: string): boolean;
}

export const ALL_TENANTS: TenantFilter = { includes: () => true };

const TENANT_NAME = /^[a-z0-9-]+$/;

/** `BOWLINE_TENANTS`: comma-separated tenant names. Throws SettingsError on a name no tenant can have. */
export function tenantFilterFromEnv(env: Env): TenantFilter {
  const text = env.BOWLINE_TENANTS?.trim() ?? '';
  if (text === '') return ALL_TENANTS;
  const names = [...new Set(text.split(',').map((n) => n.trim()).filter((n) => n !== ''))];
  const bad = names.filter((n) => !TENANT_NAME.test(n));
  if (bad.length > 0) {
    throw new SettingsError(`BOWLINE_TENANTS names ${bad.map((n) => `"${n}"`).join(', ')}: tenant names are lower-case letters, digits and -, separated by commas`, {
      context: { variable: 'BOWLINE_TENANTS' },
    });
  }
  if (names.length === 0) return ALL_TENANTS;
  return { names, includes: (tenant) => names.includes(tenant) };
}

/** The names of the filter that are no tenant of the config (a typo serves nobody: log it). */
export function unknownTenants(filter: TenantFilter, config: Config): string[] {
  return (filter.names ?? []).filter((name) => !config.bowline.tenants.some((t) => t.name === name));
}
