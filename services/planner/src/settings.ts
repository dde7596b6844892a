import { readCommonSettings, type CommonSettings } from '@bowline/bus';
import { gitHubSettingsFromEnv, type GitHubSettings } from '@bowline/github';
import type { Env } from '@bowline/observability';

export interface PlannerSettings extends CommonSettings {
  github: GitHubSettings;
}

export function readPlannerSettings(env: Env): PlannerSettings {
  return {
    ...readCommonSettings(env, 8081),
    github: gitHubSettingsFromEnv(env),
  };
}
