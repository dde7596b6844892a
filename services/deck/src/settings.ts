import { SettingsError } from '@bowline/observability';
import { optionalEnv, readSecretFile, type Env } from '@bowline/service';
import type { LinkSettings } from './job-view.js';

export interface DeckSettings extends LinkSettings {
  /** `DECK_MAX_ROWS`: the most rows one job list shows, newest first; the counts cover all. */
  maxRows: number;
  /** `DECK_OPERATOR_URL`: the jenkins-operator whose `/logs/<prowjob>` the log pages show. */
  operatorUrl?: string;
  /** Read from `DECK_OPERATOR_TOKEN_FILE`: the bearer token the operator's logs endpoint asks for. */
  operatorToken?: string;
  /** `BOWLINE_VIEW_TOKENS_FILE`: who may see which tenant's jobs (visibility.ts); unset, everyone sees all. */
  viewTokensFile?: string;
}

/**
 * A page of this many rows renders in a few milliseconds and stays light in a browser; Prow's deck
 * sends every job to the browser and crawls at ~22k of them (kubernetes/test-infra #14910).
 */
const DEFAULT_MAX_ROWS = 500;

/** The deck's own settings; the ones every service shares are read beside them in main.ts. */
export function readDeckSettings(env: Env): DeckSettings {
  const githubUrl = optionalEnv(env, 'DECK_GITHUB_URL', 'https://github.com').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(githubUrl)) {
    throw new SettingsError(`DECK_GITHUB_URL must be a web address such as https://github.com, not ${githubUrl}`, { context: { variable: 'DECK_GITHUB_URL' } });
  }
  const maxRows = Number(optionalEnv(env, 'DECK_MAX_ROWS', String(DEFAULT_MAX_ROWS)));
  if (!Number.isInteger(maxRows) || maxRows <= 0) {
    throw new SettingsError('DECK_MAX_ROWS must be a positive whole number of rows', { context: { variable: 'DECK_MAX_ROWS' } });
  }
  const operatorUrl = env.DECK_OPERATOR_URL?.trim().replace(/\/+$/, '');
  if (operatorUrl !== undefined && operatorUrl !== '' && !/^https?:\/\/[^/]+/.test(operatorUrl)) {
    throw new SettingsError(`DECK_OPERATOR_URL must be a web address such as http://bowline-jenkins-operator:8080, not ${operatorUrl}`, { context: { variable: 'DECK_OPERATOR_URL' } });
  }
  return {
    githubUrl,
    maxRows,
    ...(operatorUrl ? { operatorUrl } : {}),
    ...(env.BOWLINE_VIEW_TOKENS_FILE?.trim() ? { viewTokensFile: env.BOWLINE_VIEW_TOKENS_FILE.trim() } : {}),
    ...(env.DECK_OPERATOR_TOKEN_FILE ? { operatorToken: readSecretFile(env, 'DECK_OPERATOR_TOKEN_FILE', 'the bearer token of the jenkins-operator’s logs endpoint') } : {}),
  };
}
