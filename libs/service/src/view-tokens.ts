import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { parse } from 'yaml';
import { describeError, SettingsError } from '@bowline/observability';

/**
 * What one bearer token lets its holder see: tenants by name (`*`: every tenant), and the
 * `access.view` entries it stands for (`team:acme-pay/all`, `user:alice`), matched as written.
 */
export interface ViewGrant {
  tenants: readonly string[];
  view: readonly string[];
}

/** A tenant as the rule needs it: its name and its `access.view` entries as written (unset: everyone may view). */
export interface ViewableTenant {
  name: string;
  view?: readonly string[];
}

/** Whether the caller may read the tenant's jobs and logs: `unauthenticated` (401) or `forbidden` (403) when not. */
export type ViewDecision = 'allowed' | 'unauthenticated' | 'forbidden';

/**
 * The one rule every read surface applies (the operator's logs endpoint now, deck later): a token
 * naming the tenant, or `*`, or one of the tenant's `view` entries may see it; a tenant without a
 * `view` list may be seen by any known token. Without a token, or with an unknown one, nothing.
 */
export function decideView(grant: ViewGrant | undefined, tenant: ViewableTenant): ViewDecision {
  if (!grant) return 'unauthenticated';
  if (grant.tenants.includes('*') || grant.tenants.includes(tenant.name)) return 'allowed';
  if (tenant.view === undefined) return 'allowed';
  return grant.view.some((entry) => tenant.view!.includes(entry)) ? 'allowed' : 'forbidden';
}

/**
 * The bearer tokens of `BOWLINE_VIEW_TOKENS_FILE` (README "Tenants", "Who may see a tenant's
 * logs"). The file holds each token's SHA-256, or names a file holding the token itself, so no
 * token needs to sit in the mapping; only hashes are kept in memory. The file (and the token
 * files it names) is read again when its modification time changes, so a rotation needs no
 * restart; a change that cannot be read keeps the last good tokens and is reported once.
 */
export class ViewTokens {
  private byHash = new Map<string, ViewGrant>();
  private readAtMs = -1;

  private constructor(
    private readonly path: string,
    private readonly onReloadError: (error: SettingsError) => void,
  ) {}

  /** Reads the file now: a file that cannot be read or is malformed is a SettingsError naming it. */
  static load(path: string, onReloadError: (error: SettingsError) => void = () => undefined): ViewTokens {
    const tokens = new ViewTokens(path, onReloadError);
    tokens.read(tokens.modifiedMs());
    return tokens;
  }

  /** The grant of an `Authorization: Bearer …` header; undefined for no header, another scheme or an unknown token. */
  grantOf(authorization: string | undefined): ViewGrant | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return undefined;
    this.refresh();
    return this.byHash.get(sha256(match[1]!));
  }

  private refresh(): void {
    let modified: number;
    try {
      modified = this.modifiedMs();
    } catch (error) {
      return this.failed(error);
    }
    if (modified === this.readAtMs) return;
    try {
      this.read(modified);
    } catch (error) {
      // Tried once per change of the file, not at every request.
      this.readAtMs = modified;
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    this.onReloadError(error instanceof SettingsError ? error : new SettingsError(`${this.path} cannot be read`, { cause: error }));
  }

  private modifiedMs(): number {
    try {
      return statSync(this.path).mtimeMs;
    } catch (error) {
      throw new SettingsError(`BOWLINE_VIEW_TOKENS_FILE names ${this.path}, which cannot be read: ${(error as NodeJS.ErrnoException).code ?? describeError(error)}`, {
        cause: error,
        context: { variable: 'BOWLINE_VIEW_TOKENS_FILE' },
      });
    }
  }

  private read(modifiedMs: number): void {
    const problem = (text: string, cause?: unknown): SettingsError =>
      new SettingsError(`${this.path}: ${text}`, { cause, context: { variable: 'BOWLINE_VIEW_TOKENS_FILE' } });
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      throw problem(`cannot be read: ${(error as NodeJS.ErrnoException).code ?? describeError(error)}`, error);
    }
    let document: unknown;
    try {
      document = parse(text);
    } catch {
      // The parser's message quotes the line, so neither it nor the error is kept: never repeat
      // what the file holds.
      throw problem('is not YAML of the form "tokens: [{ sha256 | token_file, tenants, view }]"');
    }
    const entries = (document as { tokens?: unknown } | null)?.tokens;
    if (!Array.isArray(entries)) throw problem('needs a list "tokens"');
    const byHash = new Map<string, ViewGrant>();
    entries.forEach((entry: unknown, i) => {
      const at = `tokens[${i}]`;
      if (typeof entry !== 'object' || entry === null) throw problem(`${at} is not a mapping`);
      const fields = entry as Record<string, unknown>;
      const strings = (name: string): string[] => {
        const value = fields[name] ?? [];
        if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) throw problem(`${at}.${name} must be a list of strings`);
        return value;
      };
      const grant: ViewGrant = { tenants: strings('tenants'), view: strings('view') };
      if (grant.tenants.length === 0 && grant.view.length === 0) throw problem(`${at} names no tenants and no view entries: it would see nothing`);
      byHash.set(this.hashOf(fields, at, problem), grant);
    });
    this.byHash = byHash;
    this.readAtMs = modifiedMs;
  }

  private hashOf(fields: Record<string, unknown>, at: string, problem: (text: string, cause?: unknown) => SettingsError): string {
    const { sha256: hash, token_file: file } = fields;
    if ((hash === undefined) === (file === undefined)) throw problem(`${at} needs either sha256 or token_file`);
    if (hash !== undefined) {
      if (typeof hash !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hash)) throw problem(`${at}.sha256 must be the 64 hex digits of the token's SHA-256`);
      return hash.toLowerCase();
    }
    if (typeof file !== 'string') throw problem(`${at}.token_file must be a path`);
    let token: string;
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw problem(`${at}.token_file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? describeError(error)}`, error);
    }
    if (token === '') throw problem(`${at}.token_file ${file} is empty`);
    return sha256(token);
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
