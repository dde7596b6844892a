import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { FakeGitHubApp, FakeInstallation, FakePullRequest } from './types.js';

export interface PullRecord {
  org: string;
  repo: string;
  number: number;
  author: string;
  headSha: string;
  headRef: string;
  baseRef: string;
  baseSha: string;
  title: string;
  state: 'open' | 'closed';
  draft: boolean;
  mergeable: boolean | null;
  merged: boolean;
  files: string[];
  labels: string[];
  createdAt: string;
}

export interface CommentRecord {
  id: number;
  repoKey: string;
  org: string;
  repo: string;
  number: number;
  body: string;
  login: string;
  createdAt: string;
  updatedAt: string;
}

export interface StatusRecord {
  id: number;
  creator: string;
  state: string;
  context: string;
  description: string | null;
  targetUrl: string | null;
  createdAt: string;
}

export interface InstallationRecord {
  id: number;
  account: string;
  accountType: 'Organization' | 'User';
  createdAt: string;
}

interface InstallationTokenRecord {
  installationId: number;
  /** Ms since the epoch, on the fake's clock. */
  expiresAt: number;
}

export const DEFAULT_APP_SLUG = 'bowline-app';

/**
 * What the fake GitHub holds, and the one place it changes: repositories' pull requests, labels,
 * comments and commit statuses, org members and collaborators, the App with its installations and
 * their tokens, and the ids GitHub gives users and labels. The routes read and write it; the
 * views render it.
 */
export class GitHubState {
  private readonly pulls = new Map<string, PullRecord>();
  private readonly orgMembers = new Map<string, Set<string>>();
  private readonly collaborators = new Map<string, Set<string>>();
  /** `org/team` → login → `active` or `pending` (an invitation not yet accepted). */
  private readonly teamMembers = new Map<string, Map<string, 'active' | 'pending'>>();
  private readonly commentsById = new Map<number, CommentRecord>();
  private readonly statusesBySha = new Map<string, StatusRecord[]>();
  private readonly userIds = new Map<string, number>();
  private readonly labelIds = new Map<string, number>();
  private readonly installations = new Map<number, InstallationRecord>();
  private readonly installationTokens = new Map<string, InstallationTokenRecord>();
  private nextCommentId = 1;
  private nextStatusId = 1;
  app?: { id: number; key: KeyObject; owner: string };
  appSlug = DEFAULT_APP_SLUG;

  constructor(readonly botLogin: string) {
    // The bot gets id 1 so the primary rate-limit message ("for user ID 1.") names it.
    this.userIds.set(botLogin.toLowerCase(), 1);
  }

  /** Adds a pull request; adding the same number again replaces it, as a push would. */
  addPullRequest(pr: FakePullRequest): void {
    const key = pullKey(pr.org, pr.repo, pr.number);
    const previous = this.pulls.get(key);
    const baseRef = pr.baseRef ?? 'main';
    this.pulls.set(key, {
      org: pr.org,
      repo: pr.repo,
      number: pr.number,
      author: pr.author,
      headSha: pr.headSha,
      headRef: pr.headRef ?? `pr-${pr.number}`,
      baseRef,
      baseSha: pr.baseSha ?? fakeSha(`${pr.org}/${pr.repo}@${baseRef}`),
      title: pr.title ?? `Pull request ${pr.number}`,
      state: pr.merged ? 'closed' : (pr.state ?? 'open'),
      draft: pr.draft ?? false,
      mergeable: pr.mergeable ?? null,
      merged: pr.merged ?? false,
      files: [...(pr.files ?? [])],
      labels: [...(pr.labels ?? previous?.labels ?? [])],
      createdAt: previous?.createdAt ?? timestamp(),
    });
  }

  pull(org: string, repo: string, number: number): PullRecord | undefined {
    return this.pulls.get(pullKey(org, repo, number));
  }

  allPulls(): PullRecord[] {
    return [...this.pulls.values()];
  }

  /** Branch names resolve through the pull requests the fake knows; anything else is taken as a sha. */
  resolveRef(org: string, repo: string, ref: string): string {
    const repoKey = `${org}/${repo}`.toLowerCase();
    for (const pr of this.pulls.values()) {
      if (`${pr.org}/${pr.repo}`.toLowerCase() !== repoKey) continue;
      if (pr.headRef === ref) return pr.headSha;
      if (pr.baseRef === ref) return pr.baseSha;
    }
    return ref;
  }

  addOrgMember(org: string, login: string): void {
    addTo(this.orgMembers, org.toLowerCase(), login.toLowerCase());
  }

  isOrgMember(org: string, login: string): boolean {
    return this.orgMembers.get(org.toLowerCase())?.has(login.toLowerCase()) ?? false;
  }

  /** `orgRepo` is `org/repo`. */
  addCollaborator(orgRepo: string, login: string): void {
    addTo(this.collaborators, orgRepo.toLowerCase(), login.toLowerCase());
  }

  isCollaborator(org: string, repo: string, login: string): boolean {
    return this.collaborators.get(`${org}/${repo}`.toLowerCase())?.has(login.toLowerCase()) ?? false;
  }

  /** `orgTeam` is `org/team-slug`. */
  addTeamMember(orgTeam: string, login: string, state: 'active' | 'pending' = 'active'): void {
    const key = orgTeam.toLowerCase();
    const members = this.teamMembers.get(key) ?? new Map<string, 'active' | 'pending'>();
    members.set(login.toLowerCase(), state);
    this.teamMembers.set(key, members);
  }

  teamMembership(org: string, team: string, login: string): 'active' | 'pending' | undefined {
    return this.teamMembers.get(`${org}/${team}`.toLowerCase())?.get(login.toLowerCase());
  }

  storeComment(org: string, repo: string, number: number, login: string, body: string): CommentRecord {
    const now = timestamp();
    const record: CommentRecord = {
      id: this.nextCommentId++,
      repoKey: `${org}/${repo}`.toLowerCase(),
      org,
      repo,
      number,
      body,
      login,
      createdAt: now,
      updatedAt: now,
    };
    this.commentsById.set(record.id, record);
    return record;
  }

  commentRecords(org: string, repo: string, number: number): CommentRecord[] {
    const repoKey = `${org}/${repo}`.toLowerCase();
    return [...this.commentsById.values()]
      .filter((c) => c.repoKey === repoKey && c.number === number)
      .sort((a, b) => a.id - b.id);
  }

  findComment(org: string, repo: string, id: number): CommentRecord | undefined {
    const record = this.commentsById.get(id);
    return record?.repoKey === `${org}/${repo}`.toLowerCase() ? record : undefined;
  }

  deleteComment(id: number): void {
    this.commentsById.delete(id);
  }

  addStatus(org: string, repo: string, sha: string, status: Omit<StatusRecord, 'id' | 'createdAt'>): StatusRecord {
    const record: StatusRecord = { id: this.nextStatusId++, ...status, createdAt: timestamp() };
    const key = statusKey(org, repo, sha);
    const list = this.statusesBySha.get(key) ?? [];
    list.push(record);
    this.statusesBySha.set(key, list);
    return record;
  }

  /** Oldest first. */
  statusRecords(org: string, repo: string, sha: string): StatusRecord[] {
    return this.statusesBySha.get(statusKey(org, repo, sha)) ?? [];
  }

  userId(login: string): number {
    const key = login.toLowerCase();
    let id = this.userIds.get(key);
    if (id === undefined) {
      id = 1000 + this.userIds.size;
      this.userIds.set(key, id);
    }
    return id;
  }

  labelId(org: string, repo: string, name: string): number {
    const key = `${org}/${repo}:${name}`.toLowerCase();
    let id = this.labelIds.get(key);
    if (id === undefined) {
      id = this.labelIds.size + 1;
      this.labelIds.set(key, id);
    }
    return id;
  }

  /** Registers the App whose JWTs `/app/...` accepts; throws at once on a key that is not RSA. */
  setApp(app: FakeGitHubApp): void {
    const key = createPublicKey(app.publicKey);
    if (key.asymmetricKeyType !== 'rsa') {
      throw new Error(`a GitHub App key must be RSA, got ${String(key.asymmetricKeyType)}`);
    }
    this.app = { id: app.id, key, owner: app.owner ?? 'bowline' };
    this.appSlug = app.slug ?? DEFAULT_APP_SLUG;
  }

  /** The login the App writes as with an installation token: `<slug>[bot]`. */
  get appBotLogin(): string {
    return `${this.appSlug}[bot]`;
  }

  /** Installs the App on an account; installing it again under a new id replaces the old one. */
  addInstallation(installation: FakeInstallation): void {
    for (const [id, existing] of this.installations) {
      if (existing.account.toLowerCase() === installation.account.toLowerCase()) this.removeInstallation(id);
    }
    this.installations.set(installation.id, {
      id: installation.id,
      account: installation.account,
      accountType: installation.accountType ?? 'Organization',
      createdAt: timestamp(),
    });
  }

  /** Uninstalls the App: GitHub revokes the installation's tokens with it. */
  removeInstallation(id: number): void {
    this.installations.delete(id);
    for (const [token, record] of this.installationTokens) {
      if (record.installationId === id) this.installationTokens.delete(token);
    }
  }

  installation(id: number): InstallationRecord | undefined {
    return this.installations.get(id);
  }

  get installationCount(): number {
    return this.installations.size;
  }

  /** `kind` 'Organization' for `/orgs/{org}/installation`, which does not find a user's. */
  findInstallation(login: string, kind: 'Organization' | 'any'): InstallationRecord | undefined {
    return [...this.installations.values()].find(
      (i) => i.account.toLowerCase() === login.toLowerCase() && (kind === 'any' || i.accountType === kind),
    );
  }

  addInstallationToken(token: string, installationId: number, expiresAt: number): void {
    this.installationTokens.set(token, { installationId, expiresAt });
  }

  installationToken(token: string): InstallationTokenRecord | undefined {
    return this.installationTokens.get(token);
  }
}

// GitHub treats owner and repository names case-insensitively.
function pullKey(org: string, repo: string, number: number): string {
  return `${org}/${repo}#${number}`.toLowerCase();
}

function statusKey(org: string, repo: string, sha: string): string {
  return `${org}/${repo}@${sha}`.toLowerCase();
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key) ?? new Set<string>();
  set.add(value);
  map.set(key, set);
}

export function fakeSha(seed: string): string {
  return createHash('sha1').update(seed).digest('hex');
}

// GitHub's timestamps have whole seconds.
export function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}
