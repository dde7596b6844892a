import { ConfigBuilder } from './config-builder.js';
import { configField, jobConfigField } from './definitions.js';
import { readText, yamlFilesUnder } from './job-files.js';
import { ConfigError, type ConfigProblem } from './problems.js';
import type { Config } from './types.js';
import { DocumentReader } from './yaml-document.js';

export interface LoadOptions {
  /** Prow's `--job-config-path`: a directory whose YAML files (searched recursively) hold more jobs. */
  jobConfigDir?: string;
}

/** Reads and validates a Prow config.yaml (with Bowline's section) and its job files. Throws ConfigError. */
export function loadConfigFile(file: string, options: LoadOptions = {}): Config {
  const sources = [{ file, text: readText(file) }];
  if (options.jobConfigDir) {
    for (const jobFile of yamlFilesUnder(options.jobConfigDir)) sources.push({ file: jobFile, text: readText(jobFile) });
  }
  return parseConfig(sources[0]!.text, file, sources.slice(1));
}

/** Parses config text; `jobFiles` are Prow's split job config files. Throws ConfigError. */
export function parseConfig(text: string, file: string, jobFiles: { file: string; text: string }[] = []): Config {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const main = new DocumentReader(file, text, configField, problems, warnings);
  const jobDocs = jobFiles.map((f) => new DocumentReader(f.file, f.text, jobConfigField, problems, warnings));
  if (problems.length > 0) throw new ConfigError(problems);

  const builder = new ConfigBuilder(problems, warnings);
  for (const doc of [main, ...jobDocs]) builder.addJobs(doc);
  const config = builder.finish(main, [file, ...jobFiles.map((f) => f.file)]);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
