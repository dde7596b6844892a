import { JENKINS_OPERATOR_LEASE } from '@bowline/bus';
import { tenantFilterFromEnv, type Config, type TenantFilter } from '@bowline/config';
import type { JenkinsAuth } from '@bowline/jenkins';
import { SettingsError } from '@bowline/observability';
import { readCommonSettings, readSecretFile, requireEnv, type CommonSettings, type Env } from '@bowline/service';

/** The master named by the JENKINS_* variables. */
export interface DefaultMasterSettings {
  url: string;
  auth: JenkinsAuth;
  /** PEM content of `JENKINS_CA_FILE`. */
  ca?: string;
}

export interface OperatorSettings extends CommonSettings {
  /** Absent when JENKINS_URL is unset: config.yaml's `bowline.jenkins` must then list the masters. */
  jenkins?: DefaultMasterSettings;
  /** `BOWLINE_TENANTS`: the tenants whose ProwJobs this operator acts on (default every tenant). */
  tenants: TenantFilter;
  /** `BOWLINE_VIEW_TOKENS_FILE`: who may read which tenant's logs; unset, anyone may (as before tenants). */
  viewTokensFile?: string;
}

/** The JENKINS_URL master with basic (user + API token) or bearer auth, when JENKINS_URL is set. */
export function readOperatorSettings(env: Env): OperatorSettings {
  const common = {
    ...readCommonSettings(env, 8082),
    tenants: tenantFilterFromEnv(env),
    ...(env.BOWLINE_VIEW_TOKENS_FILE?.trim() ? { viewTokensFile: env.BOWLINE_VIEW_TOKENS_FILE.trim() } : {}),
  };
  if (!env.JENKINS_URL?.trim()) return common;
  const url = requireEnv(env, 'JENKINS_URL', 'the URL of the Jenkins master, e.g. https://jenkins.example.com');
  const auth: JenkinsAuth = env.JENKINS_BEARER_TOKEN_FILE
    ? { kind: 'bearer', token: readSecretFile(env, 'JENKINS_BEARER_TOKEN_FILE', 'a Jenkins bearer token') }
    : {
        kind: 'basic',
        user: requireEnv(env, 'JENKINS_USER', 'the Jenkins user whose API token is in JENKINS_TOKEN_FILE'),
        token: readSecretFile(env, 'JENKINS_TOKEN_FILE', "the Jenkins user's API token"),
      };
  const ca = env.JENKINS_CA_FILE?.trim()
    ? readSecretFile(env, 'JENKINS_CA_FILE', "the PEM certificate of the CA that signed Jenkins' certificate")
    : undefined;
  return { ...common, jenkins: { url, auth, ca } };
}

/**
 * The operator's lease: one for all tenants, or one per set of tenants it serves
 * (`jenkins-operator.payments.search`), so operators for disjoint sets each act on their own
 * tenants at once, and replicas of one set still take turns. Sets must not overlap (README
 * "Tenants"): two leases over one tenant would let two operators start its jobs.
 */
export function operatorLeaseName(tenants: TenantFilter): string {
  if (!tenants.names) return JENKINS_OPERATOR_LEASE;
  return [JENKINS_OPERATOR_LEASE, ...[...tenants.names].sort()].join('.');
}

/** At start, some master must exist: the JENKINS_URL one, or one listed in config.yaml (bowline.jenkins or a tenant's). */
export function requireSomeMaster(settings: OperatorSettings, config: Config): void {
  if (settings.jenkins || config.bowline.tenants.some((t) => t.jenkins.length > 0)) return;
  throw new SettingsError(
    'JENKINS_URL is not set: set it to the URL of the Jenkins master, e.g. https://jenkins.example.com (or list masters under bowline.jenkins in config.yaml)',
    { context: { variable: 'JENKINS_URL' } },
  );
}
