// What every service process shares: settings from the environment, start-up (`runMain`,
// `startRuntime`), the HTTP port with /healthz /readyz /metrics, and the stop on SIGTERM.
export { formatDuration, optionalEnv, parseDuration, readSecretFile, requireEnv, type Env } from './env.js';
export { startOpsServer, type OpsServer, type RawHandler } from './ops-server.js';
export { observe, readCommonSettings, runMain, startRuntime, type CommonSettings } from './runtime.js';
export { decideView, ViewTokens, type ViewableTenant, type ViewDecision, type ViewGrant } from './view-tokens.js';
