import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks before a line is written. Secrets only ever come from files, but a header or
 * an options object holding one can still reach a log call; these keep them out.
 */
export const REDACTED_PATHS = [
  'token',
  'password',
  'secret',
  'privateKey',
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["x-hub-signature-256"]',
  '*.token',
  '*.password',
  '*.secret',
  '*.privateKey',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-hub-signature-256"]',
];

/**
 * How many causes deep an error's own fields are redacted as a line's are: redact paths name
 * fixed depths (pino's redact has no recursive wildcard), and our chains are three or four long
 * (a typed error, the client's error, the socket's).
 */
const REDACTED_CAUSES = 6;

/** REDACTED_PATHS again under `err` and each of its causes, as the `err` serializer writes them. */
const REDACTED_ERROR_PATHS = Array.from({ length: REDACTED_CAUSES + 1 }, (_, depth) => 'err' + '.cause'.repeat(depth)).flatMap((error) =>
  REDACTED_PATHS.map((path) => `${error}.${path}`),
);

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: NodeJS.WritableStream;
}

/**
 * One logger per process; everything else gets a child of it. Field names used across services:
 * `deliveryId`, `repo`, `pr`, `job`, `prowjob`, `build`. An error goes under `err`, and is written
 * with its chain: each cause nested under `cause` with its own type, message, stack and fields
 * (our errors' `context`, a NATS error's `code`). pino's default `err` serializer would only join
 * the causes' messages and stacks into one string and drop their fields.
 */
export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    name: options.service,
    level: options.level ?? 'info',
    redact: { paths: [...REDACTED_PATHS, ...REDACTED_ERROR_PATHS], censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.errWithCause },
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // stdout is written asynchronously: pino's default, a synchronous write(2) per line, held each
  // service's event loop on its log pipe (issue 21: 1.2 ms a line in the hook's profile, 9 % of its
  // time, and a full pipe blocks it outright). pino flushes what is left when the process exits.
  return pino(settings, options.destination ?? pino.destination({ dest: 1, sync: false }));
}
