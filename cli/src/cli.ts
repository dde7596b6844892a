import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { configJsonSchema } from '@bowline/config';
import { checkConfig } from './checkconfig.js';

const USAGE = `usage:
  bowline checkconfig --config PATH [--job-config DIR] [--strict]
  bowline schema [--out FILE]`;

/** Runs one command; returns the exit code. Output goes through `print` so tests can read it. */
export function runCli(argv: string[], print: (line: string) => void): number {
  const [command, ...rest] = argv;
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
    throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      print(`bowline: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}

class UsageError extends Error {}
