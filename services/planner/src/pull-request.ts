import type { EventEnvelope } from '@bowline/bus';
import type { Tenant } from '@bowline/config';
import type { Logger } from '@bowline/observability';

/** The parts of a GitHub pull request the planner reads, from an event or from the API. */
export interface PullRequest {
  number: number;
  state: string;
  draft?: boolean;
  title: string;
  html_url?: string;
  /** GitHub's answer, `null` while it is still computing it. */
  mergeable?: boolean | null;
  user: { login: string; type?: string; html_url?: string };
  head: { sha: string; ref: string };
  /** GitHub sends `base.repo` in events and in `GET /pulls/{n}`; its links go into the refs. */
  base: { sha: string; ref: string; repo?: { name: string; html_url?: string; owner: { login: string } } };
  labels?: { name?: string }[];
}

export interface Repository {
  name: string;
  html_url?: string;
  owner: { login: string };
}

/** One event being handled: where it is, and the logger carrying its fields. */
export interface EventContext {
  envelope: EventEnvelope<unknown>;
  log: Logger;
  org: string;
  repo: string;
  /** The tenant owning the repository: its GitHub identity, access rules and quotas apply. */
  tenant: Tenant;
}

export function hasLabel(labels: readonly { name?: string }[] | undefined, name: string): boolean {
  return (labels ?? []).some((l) => l.name === name);
}

/** The host pull requests are shown on (github.com, or a GitHub Enterprise host), for links. */
export function webHost(repository: Repository): string {
  try {
    return new URL(repository.html_url ?? '').host || 'github.com';
  } catch {
    return 'github.com';
  }
}
