export type {
  AccessEntry,
  Config,
  DeckSettings as DeckRerunSettings,
  GitHubCredentials,
  JenkinsMaster,
  JobBase,
  Periodic,
  Postsubmit,
  Presubmit,
  PrimaryRefsSettings,
  Source,
  Tenant,
  TenantAccess,
  TenantQuotas,
} from './types.js';
export { accessEntryText, DEFAULT_TENANT, parseAccessEntry, tenantNamed, tenantOf } from './tenants.js';
export { ConfigError, formatProblem, type ConfigProblem } from './problems.js';
export { matchChanges, needsExplicitTrigger, runsAgainstBranch, shouldRunPresubmit, type ChangedFiles } from './presubmit.js';
export { commandText } from './command-text.js';
export { loadConfigFile, parseConfig } from './load.js';
export { configPathsFromEnv, staticConfigSource, watchConfigFile, type ConfigSource, type WatchedConfig } from './config-source.js';
export { configJsonSchema } from './schema.js';
export { prowJobGoView, SAMPLE_PROWJOB, SAMPLE_PROWJOB_VIEW, type PullJson, type RefsJson } from './template-view.js';
export { OPTIONAL_COMMANDS_HEADER, presubmitCommands, REQUIRED_COMMANDS_HEADER, type PresubmitCommands } from './command-help.js';
export { ALL_TENANTS, tenantFilterFromEnv, unknownTenants, type TenantFilter } from './tenant-filter.js';
