import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { configJsonSchema } from '@bowline/config';
import { BowlineError, type Env } from '@bowline/observability';
import { checkConfig } from './checkconfig.js';
import { EVENTS_USAGE, runEventsCommand } from './events-command.js';
import { JOBS_USAGE, runJobsCommand } from './jobs-command.js';
import { asksForHelp, isParseArgsError, UsageError } from './usage.js';

export interface CliOptions {
  /** Raw output (a streamed log); defaults to `print` without the line ending. */
  write?: (chunk: string) => void;
  /** Where errors go; defaults to `print`. */
  printError?: (line: string) => void;
  env?: Env;
  now?: () => Date;
}

interface Command {
  usage: string;
  run(args: string[], print: (line: string) => void, options: CliOptions): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  checkconfig: {
    usage: `  bowline checkconfig --config PATH [--job-config DIR] [--strict]
      check a Prow config.yaml (and its split job config) as Bowline reads it; --strict fails on warnings`,
    run: async (args, print) => {
      const { values } = parseArgs({
        args,
        strict: true,
        options: { config: { type: 'string' }, 'job-config': { type: 'string' }, strict: { type: 'boolean' } },
      });
      if (!values.config) throw new UsageError('checkconfig needs --config PATH');
      const result = checkConfig({ config: values.config, jobConfig: values['job-config'], strict: values.strict });
      result.lines.forEach(print);
      return result.exitCode;
    },
  },
  schema: {
    usage: `  bowline schema [--out FILE]
      the JSON Schema of config.yaml, printed or written to FILE`,
    run: async (args, print) => {
      const { values } = parseArgs({ args, strict: true, options: { out: { type: 'string' } } });
      const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
      if (values.out) writeFileSync(values.out, text);
      else print(text.trimEnd());
      return 0;
    },
  },
  jobs: {
    usage: JOBS_USAGE,
    run: (args, print, options) =>
      runJobsCommand(args, { print, write: options.write ?? print, env: options.env ?? process.env, now: options.now ?? (() => new Date()) }),
  },
  events: {
    usage: EVENTS_USAGE,
    run: (args, print, options) => runEventsCommand(args, { print, env: options.env ?? process.env, now: options.now ?? (() => new Date()) }),
  },
};

const HELP = new Set(['--help', '-h', 'help']);

function usageOf(command?: Command): string {
  if (command) return `usage:\n${command.usage}`;
  return `usage: bowline COMMAND [OPTIONS] (bowline COMMAND --help for one command)\n${Object.values(COMMANDS)
    .map((c) => c.usage)
    .join('\n')}`;
}

function commandNamed(name: string | undefined): Command | undefined {
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

/**
 * Runs one command; returns the exit code. Output goes through `print` so tests can read it. Help
 * (`bowline --help`, `bowline help jobs`, `bowline jobs list --help`) goes to `print` with 0; a
 * mistake in the command line goes to `printError` with the usage and 2, as getopt-style tools do.
 */
export async function runCli(argv: string[], print: (line: string) => void, options: CliOptions = {}): Promise<number> {
  const [name, ...rest] = argv;
  const printError = options.printError ?? print;
  let command = commandNamed(name);
  try {
    if (name !== undefined && HELP.has(name)) {
      command = commandNamed(rest[0]);
      if (rest.length > 0 && !command) throw new UsageError(`no command "${rest[0]}"`);
      print(usageOf(command));
      return 0;
    }
    if (!command) throw new UsageError(name === undefined ? 'no command given' : name.startsWith('-') ? `unknown option "${name}"` : `unknown command "${name}"`);
    if (asksForHelp(rest)) {
      print(usageOf(command));
      return 0;
    }
    return await command.run(rest, print, options);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      printError(`bowline: ${error.message}\n${usageOf(command)}`);
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
