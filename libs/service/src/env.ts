import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { SettingsError } from '@bowline/observability';

export type Env = Record<string, string | undefined>;

/** The value of a variable, or a SettingsError that says which variable to set and what it is. */
export function requireEnv(env: Env, name: string, meaning: string): string {
  const value = env[name]?.trim();
  if (!value) throw new SettingsError(`${name} is not set: set it to ${meaning}`, { context: { variable: name } });
  return value;
}

export function optionalEnv(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return value ? value : fallback;
}

export function portFromEnv(env: Env, fallback: number): number {
  const raw = optionalEnv(env, 'PORT', String(fallback));
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SettingsError(`PORT is "${raw}": set it to a TCP port number`, { context: { variable: 'PORT' } });
  }
  return port;
}

/**
 * `BIND_ADDRESS`: the one address a service's HTTP port listens on, or undefined for every
 * interface (the default, as before the setting existed).
 */
export function bindAddressFromEnv(env: Env): string | undefined {
  const value = env.BIND_ADDRESS?.trim();
  if (!value) return undefined;
  if (isIP(value) === 0 && value !== 'localhost') {
    throw new SettingsError(`BIND_ADDRESS is "${value}": set it to an IP address of this host, such as 127.0.0.1 or ::, or leave it unset for every interface`, {
      context: { variable: 'BIND_ADDRESS' },
    });
  }
  return value;
}

/**
 * Reads a secret from the file a `*_FILE` variable names. Secrets never come from the environment
 * itself, so they do not show up in `env` dumps or crash reports.
 */
export function readSecretFile(env: Env, name: string, meaning: string): string {
  const path = requireEnv(env, name, `the path of a file holding ${meaning}`);
  try {
    const value = readFileSync(path, 'utf8').trim();
    if (!value) throw new SettingsError(`${name} names ${path}, which is empty: it must hold ${meaning}`);
    return value;
  } catch (error) {
    if (error instanceof SettingsError) throw error;
    throw new SettingsError(`${name} names ${path}, which cannot be read: it must hold ${meaning}`, {
      cause: error,
      context: { variable: name },
    });
  }
}

/** Go-style durations as Prow writes them ("1h", "30m", "168h", "1h30m", "500ms"). */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < trimmed.length) {
    part.lastIndex = index;
    const match = part.exec(trimmed);
    if (!match) throw new SettingsError(`"${text}" is not a duration such as "30s", "10m" or "168h"`);
    total += Number(match[1]) * units[match[2] as string]!;
    index = part.lastIndex;
  }
  if (index === 0) throw new SettingsError(`"${text}" is not a duration such as "30s", "10m" or "168h"`);
  return total;
}

/**
 * A duration the way parseDuration reads it back, zero parts left out ("48h", "1h30m", "2m5s",
 * "750ms"); whole seconds from a second up, which is what people read in messages and tables.
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const total = Math.round(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(total / 3600), 'h'],
    [Math.floor((total % 3600) / 60), 'm'],
    [total % 60, 's'],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join('');
}
