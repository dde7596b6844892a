import type { CommentRecord, GitHubState, PullRecord, StatusRecord } from './state.js';
import type { GitHubComment, GitHubStatus, GitHubUser } from './types.js';

/** The JSON GitHub's REST API shows for what the state holds, with URLs on the fake's address. */
export class GitHubViews {
  constructor(
    private readonly state: GitHubState,
    private readonly baseUrl: () => string,
  ) {}

  private get url(): string {
    return this.baseUrl();
  }

  user(login: string): GitHubUser {
    const id = this.state.userId(login);
    return {
      login,
      id,
      node_id: `U_fake${id}`,
      // Every GitHub App account is a `name[bot]` of type Bot.
      type: login === this.state.botLogin || login.endsWith('[bot]') ? 'Bot' : 'User',
      site_admin: false,
      url: `${this.url}/users/${encodeURIComponent(login)}`,
      // An App's bot has no profile of its own; GitHub links it to the App's page.
      html_url: login === this.state.appBotLogin ? `https://github.com/apps/${this.state.appSlug}` : `https://github.com/${login}`,
    };
  }

  account(login: string, type: 'Organization' | 'User'): Omit<GitHubUser, 'type'> & { type: 'Organization' | 'User' } {
    return { ...this.user(login), type };
  }

  repo(org: string, repo: string): Record<string, unknown> {
    return {
      name: repo,
      full_name: `${org}/${repo}`,
      owner: { login: org, type: 'Organization', url: `${this.url}/users/${org}` },
      private: false,
      html_url: `https://github.com/${org}/${repo}`,
      url: `${this.url}/repos/${org}/${repo}`,
    };
  }

  label(pr: PullRecord, name: string): Record<string, unknown> {
    const id = this.state.labelId(pr.org, pr.repo, name);
    return {
      id,
      node_id: `LA_fake${id}`,
      url: `${this.url}/repos/${pr.org}/${pr.repo}/labels/${encodeURIComponent(name)}`,
      name,
      color: 'ededed',
      default: false,
      description: null,
    };
  }

  pull(pr: PullRecord): Record<string, unknown> {
    const repo = this.repo(pr.org, pr.repo);
    const api = `${this.url}/repos/${pr.org}/${pr.repo}`;
    const html = `https://github.com/${pr.org}/${pr.repo}/pull/${pr.number}`;
    return {
      url: `${api}/pulls/${pr.number}`,
      id: 100000 + pr.number,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${api}/issues/${pr.number}`,
      statuses_url: `${api}/statuses/${pr.headSha}`,
      number: pr.number,
      state: pr.state,
      locked: false,
      draft: pr.draft,
      title: pr.title,
      body: null,
      user: this.user(pr.author),
      labels: pr.labels.map((name) => this.label(pr, name)),
      created_at: pr.createdAt,
      updated_at: pr.createdAt,
      closed_at: pr.state === 'closed' ? pr.createdAt : null,
      merged_at: pr.merged ? pr.createdAt : null,
      merged: pr.merged,
      mergeable: pr.mergeable,
      head: { label: `${pr.author}:${pr.headRef}`, ref: pr.headRef, sha: pr.headSha, user: this.user(pr.author), repo },
      base: { label: `${pr.org}:${pr.baseRef}`, ref: pr.baseRef, sha: pr.baseSha, repo },
      changed_files: pr.files.length,
    };
  }

  comment(record: CommentRecord): GitHubComment {
    const api = `${this.url}/repos/${record.org}/${record.repo}`;
    return {
      id: record.id,
      node_id: `IC_fake${record.id}`,
      url: `${api}/issues/comments/${record.id}`,
      html_url: `https://github.com/${record.org}/${record.repo}/pull/${record.number}#issuecomment-${record.id}`,
      issue_url: `${api}/issues/${record.number}`,
      body: record.body,
      user: this.user(record.login),
      created_at: record.createdAt,
      updated_at: record.updatedAt,
      author_association: 'NONE',
    };
  }

  /** Comments of an issue or pull request, oldest first. */
  comments(org: string, repo: string, number: number): GitHubComment[] {
    return this.state.commentRecords(org, repo, number).map((record) => this.comment(record));
  }

  status(org: string, repo: string, sha: string, record: StatusRecord): GitHubStatus {
    return {
      id: record.id,
      node_id: `SC_fake${record.id}`,
      url: `${this.url}/repos/${org}/${repo}/statuses/${sha}`,
      state: record.state,
      context: record.context,
      description: record.description,
      target_url: record.targetUrl,
      creator: this.user(record.creator),
      created_at: record.createdAt,
      updated_at: record.createdAt,
    };
  }

  /** Statuses of a commit, oldest first (the GitHub API lists them newest first). */
  statuses(org: string, repo: string, sha: string): GitHubStatus[] {
    return this.state.statusRecords(org, repo, sha).map((record) => this.status(org, repo, sha, record));
  }
}
