import { tenantFilterFromEnv, type TenantFilter } from '@bowline/config';
import { gitHubSettingsFromEnv, type GitHubSettings } from '@bowline/github';
import { readCommonSettings, type CommonSettings, type Env } from '@bowline/service';

export interface PlannerSettings extends CommonSettings {
  github: GitHubSettings;
  /** `BOWLINE_TENANTS`: the tenants whose events this planner reads (default every tenant). */
  tenants: TenantFilter;
}

export function readPlannerSettings(env: Env): PlannerSettings {
  return {
    ...readCommonSettings(env, 8081),
    github: gitHubSettingsFromEnv(env),
    tenants: tenantFilterFromEnv(env),
  };
}
