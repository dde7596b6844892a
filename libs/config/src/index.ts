export type {
  Brancher,
  ChangeMatcher,
  Config,
  HistorySettings,
  JenkinsMaster,
  JenkinsOperatorConfig,
  JenkinsOperatorSettings,
  JobBase,
  Periodic,
  Postsubmit,
  Presubmit,
  PrimaryRefsSettings,
  SinkerSettings,
  Source,
  TrustSettings,
} from './types.js';
export { ConfigError, formatProblem, type ConfigProblem } from './problems.js';
export { brancherIntersects, defaultRerunCommand, defaultTrigger, matchChanges, needsChanges, needsExplicitTrigger, runsAgainstBranch, shouldRunPresubmit, type ChangedFiles } from './presubmit.js';
export { commandText } from './command-text.js';
export { loadConfigFile, parseConfig, type LoadOptions } from './load.js';
export { configPathsFromEnv, staticConfigSource, watchConfigFile, type ConfigSource, type WatchedConfig, type WatchOptions } from './config-source.js';
export { configJsonSchema } from './schema.js';
export { prowJobGoView, SAMPLE_PROWJOB, SAMPLE_PROWJOB_VIEW, type ProwJobJson, type PullJson, type RefsJson } from './template-view.js';
