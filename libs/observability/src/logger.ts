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

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: NodeJS.WritableStream;
}

/**
 * One logger per process; everything else gets a child of it. Field names used across services:
 * `deliveryId`, `repo`, `pr`, `job`, `prowjob`, `build`.
 */
export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    name: options.service,
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
