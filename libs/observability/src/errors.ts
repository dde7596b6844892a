/**
 * Typed errors carry the context a reader needs ("cannot list builds for job x") and keep the
 * original failure as `cause`, so logs show the whole chain without string concatenation.
 */
export class BowlineError extends Error {
  readonly context: Record<string, unknown>;

  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.context = options.context ?? {};
  }
}

/** A setting is missing or wrong; the message names the variable or field to fix. */
export class SettingsError extends BowlineError {}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
