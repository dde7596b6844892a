import { parseArgs } from 'node:util';

/** A mistake in the command line: what is wrong and the command's usage on stderr, exit 2. */
export class UsageError extends Error {}

/**
 * Whether the arguments ask for help (`--help` or `-h`, before any `--`). parseArgs reads them as
 * tokens, without the command's options, so help wins over a flag the command would refuse.
 */
export function asksForHelp(args: string[]): boolean {
  const { tokens } = parseArgs({ args, strict: false, allowPositionals: true, tokens: true });
  return tokens.some((token) => token.kind === 'option' && (token.name === 'help' || token.name === 'h'));
}

/**
 * Whether parseArgs refused the command line (an unknown flag, a missing value, a stray argument),
 * by Node's error code: not `instanceof Error`, which fails across realms (jest's VM modules).
 */
export function isParseArgsError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
