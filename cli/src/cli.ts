import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { configJsonSchema } from '@bowline/config';
import { BowlineError } from '@bowline/observability';
import type { Env } from '@bowline/service';
import { checkConfig } from './checkconfig.js';
import { EVENTS_USAGE, runEventsCommand } from './events-command.js';
import { JOBS_USAGE, runJobsCommand, UsageError } from './jobs-command.js';

const USAGE = `usage:
  bowline checkconfig --config PATH [--job-config DIR] [--strict]
  bowline schema [--out FILE]
${JOBS_USAGE}
${EVENTS_USAGE}`;

export interface CliOptions {
  /** Raw output (a streamed log); defaults to `print` without the line ending. */
  write?: (chunk: string) => void;
  /** Where errors go; defaults to `print`. */
  printError?: (line: string) => void;
  env?: Env;
  now?: () => Date;
}

/** Runs one command; returns the exit code. Output goes through `print` so tests can read it. */
export async function runCli(argv: string[], print: (line: string) => void, options: CliOptions = {}): Promise<number> {
  const [command, ...rest] = argv;
  const printError = options.printError ?? print;
  try {
    if (command === 'checkconfig') {
      const { values } = parseArgs({
        args: rest,
        options: { config: { type: 'string' }, 'job-config': { type: 'string' }, strict: { type: 'boolean' } },
      });
      if (!values.config) throw new UsageError('checkconfig needs --config PATH');
      const result = checkConfig({ config: values.config, jobConfig: values['job-config'], strict: values.strict });
      result.lines.forEach(print);
      return result.exitCode;
    }
    if (command === 'schema') {
      const { values } = parseArgs({ args: rest, options: { out: { type: 'string' } } });
      const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
      if (values.out) writeFileSync(values.out, text);
      else print(text.trimEnd());
      return 0;
    }
    if (command === 'jobs') {
      return await runJobsCommand(rest, {
        print,
        write: options.write ?? print,
        env: options.env ?? process.env,
        now: options.now ?? (() => new Date()),
      });
    }
    if (command === 'events') {
      return await runEventsCommand(rest, { print, env: options.env ?? process.env, now: options.now ?? (() => new Date()) });
    }
    throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      printError(`bowline: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    // NATS or the operator unreachable, and the like: one line saying what to fix, no stack.
    if (error instanceof BowlineError) {
      printError(`bowline: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
