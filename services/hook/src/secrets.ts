import { parse } from 'yaml';
import { SettingsError } from '@bowline/observability';

/**
 * The webhook secrets: a global list, and optionally lists per org and per `org/repo`.
 *
 * Two file formats are read. One secret per line (every line accepted, so a secret can be rotated
 * by adding the new line before GitHub is changed and removing the old one after). Or Prow's
 * hmac file: YAML mapping `'*'`, `org` or `org/repo` to a list of `{ value, created_at }`; then the
 * most specific key of the payload's repository decides, as in Prow (prow/github/hmac.go), so a
 * repository with its own secret cannot be forged with the global one.
 */
export interface WebhookSecrets {
  global: string[];
  byOwner: Map<string, string[]>;
  /** True when some org or repository has its own secrets, so the payload must be read first. */
  scoped: boolean;
}

export function parseSecrets(text: string, file: string): WebhookSecrets {
  const prow = parseProwHmacFile(text, file);
  if (prow) return prow;
  const global = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  if (global.length === 0) throw new SettingsError(`${file} holds no webhook secret`);
  return { global, byOwner: new Map(), scoped: false };
}

function parseProwHmacFile(text: string, file: string): WebhookSecrets | undefined {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const byOwner = new Map<string, string[]>();
  for (const [key, tokens] of Object.entries(doc)) {
    if (!Array.isArray(tokens) || tokens.some((t) => typeof (t as { value?: unknown })?.value !== 'string')) {
      throw new SettingsError(`${file}: "${key}" must be a list of { value, created_at } as in Prow's hmac file`);
    }
    byOwner.set(key.toLowerCase(), (tokens as { value: string }[]).map((t) => t.value));
  }
  const global = byOwner.get('*') ?? [];
  byOwner.delete('*');
  if (global.length === 0 && byOwner.size === 0) throw new SettingsError(`${file} holds no webhook secret`);
  return { global, byOwner, scoped: byOwner.size > 0 };
}

/** The secrets that may sign a payload of `orgRepo` (`org/repo`, or just `org` for org events). */
export function secretsFor(secrets: WebhookSecrets, orgRepo: string | undefined): string[] {
  if (orgRepo) {
    const lower = orgRepo.toLowerCase();
    const exact = secrets.byOwner.get(lower);
    if (exact) return exact;
    const org = secrets.byOwner.get(lower.split('/')[0]!);
    if (org) return org;
  }
  return secrets.global;
}

/** Whose secret applies: the repository's full name, else the organization (org-level events). */
export function ownerOf(payload: unknown): string | undefined {
  const p = payload as { repository?: { full_name?: unknown }; organization?: { login?: unknown } } | null;
  if (typeof p?.repository?.full_name === 'string') return p.repository.full_name;
  if (typeof p?.organization?.login === 'string') return p.organization.login;
  return undefined;
}
