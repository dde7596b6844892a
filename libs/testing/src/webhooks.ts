import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

interface WebhookDefinition {
  name: string;
  actions: string[];
  examples: Array<Record<string, unknown>>;
}

// The package's main is a JSON file: require() loads it on every Node 20 release, where an ESM
// import needs the JSON import attribute (`with`, only from Node 20.10) and a parser that knows it.
const require = createRequire(import.meta.url);
const definitions = require('@octokit/webhooks-examples') as WebhookDefinition[];

/* eslint-disable @typescript-eslint/no-explicit-any -- payloads are GitHub's loose JSON, edited in place */

/**
 * A deep copy of the first example GitHub documents for `event` (and `action`, when given), so a
 * test can change it without touching the next test's copy.
 */
export function examplePayload(event: string, action?: string): Record<string, any> {
  const definition = definitions.find((d) => d.name === event);
  const example = definition?.examples.find((e) => action === undefined || e.action === action);
  if (!example) {
    throw new Error(`no example payload for webhook event "${event}"${action === undefined ? '' : ` action "${action}"`}`);
  }
  return structuredClone(example) as Record<string, any>;
}

export interface PullRequestCommentOptions {
  org: string;
  repo: string;
  number: number;
  commenter: string;
  body: string;
  /** Defaults to the commenter, the common case of an author asking for their own tests. */
  prAuthor?: string;
  state?: 'open' | 'closed';
  /** The pull request's labels as the event shows them. */
  labels?: string[];
}

/** An `issue_comment` `created` delivery for a comment on a pull request. */
export function pullRequestCommentPayload(options: PullRequestCommentOptions): Record<string, any> {
  const { org, repo, number, commenter, body } = options;
  const payload = examplePayload('issue_comment', 'created');
  setRepository(payload.repository, org, repo);
  const html = `https://github.com/${org}/${repo}/pull/${number}`;
  const issueApi = `https://api.github.com/repos/${org}/${repo}/issues/${number}`;
  Object.assign(payload.issue, {
    number,
    state: options.state ?? 'open',
    url: issueApi,
    html_url: html,
    comments_url: `${issueApi}/comments`,
    labels_url: `${issueApi}/labels{/name}`,
    // GitHub marks an issue that is a pull request by this field alone.
    pull_request: {
      url: `https://api.github.com/repos/${org}/${repo}/pulls/${number}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
    },
  });
  payload.issue.labels = (options.labels ?? []).map((name, i) => ({ id: i + 1, name, color: 'ededed', default: false, description: null }));
  setLogin(payload.issue.user, options.prAuthor ?? commenter);
  Object.assign(payload.comment, {
    body,
    issue_url: issueApi,
    html_url: `${html}#issuecomment-${payload.comment.id}`,
  });
  setLogin(payload.comment.user, commenter);
  setLogin(payload.sender, commenter);
  return payload;
}

export interface PullRequestPayloadOptions {
  action: string;
  org: string;
  repo: string;
  number: number;
  author: string;
  headSha: string;
  headRef?: string;
  baseRef?: string;
  baseSha?: string;
  title?: string;
  draft?: boolean;
  /** GitHub's `mergeable`, `null` by default: GitHub has rarely computed it when it sends the event. */
  mergeable?: boolean | null;
  /** The pull request's labels as the event shows them. */
  labels?: string[];
}

/**
 * A `pull_request` delivery. Built on GitHub's example for that action when there is one, else
 * on `opened`'s, with every field Bowline reads set to match the options.
 */
export function pullRequestPayload(options: PullRequestPayloadOptions): Record<string, any> {
  const { org, repo, number, author, headSha } = options;
  const headRef = options.headRef ?? `pr-${number}`;
  const baseRef = options.baseRef ?? 'main';
  const baseSha = options.baseSha ?? createHash('sha1').update(`${org}/${repo}@${baseRef}`).digest('hex');
  let payload: Record<string, any>;
  try {
    payload = examplePayload('pull_request', options.action);
  } catch {
    payload = examplePayload('pull_request', 'opened');
  }
  payload.action = options.action;
  payload.number = number;
  setRepository(payload.repository, org, repo);
  setLogin(payload.sender, author);

  const pr = payload.pull_request;
  const html = `https://github.com/${org}/${repo}/pull/${number}`;
  const api = `https://api.github.com/repos/${org}/${repo}`;
  Object.assign(pr, {
    number,
    url: `${api}/pulls/${number}`,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${number}`,
    statuses_url: `${api}/statuses/${headSha}`,
    title: options.title ?? `Pull request ${number}`,
    draft: options.draft ?? false,
    state: options.action === 'closed' ? 'closed' : 'open',
    merged: false,
    mergeable: options.mergeable ?? null,
    labels: (options.labels ?? []).map((name, i) => ({ id: i + 1, name, color: 'ededed', default: false, description: null })),
  });
  setLogin(pr.user, author);
  // The head is kept in the same repository: forks would add a second repository for no test's sake.
  Object.assign(pr.head, { ref: headRef, sha: headSha, label: `${author}:${headRef}` });
  setLogin(pr.head.user, author);
  if (pr.head.repo) setRepository(pr.head.repo, org, repo);
  Object.assign(pr.base, { ref: baseRef, sha: baseSha, label: `${org}:${baseRef}` });
  setLogin(pr.base.user, org);
  setRepository(pr.base.repo, org, repo);
  return payload;
}

function setRepository(repository: any, org: string, repo: string): void {
  Object.assign(repository, {
    name: repo,
    full_name: `${org}/${repo}`,
    html_url: `https://github.com/${org}/${repo}`,
    url: `https://api.github.com/repos/${org}/${repo}`,
  });
  setLogin(repository.owner, org);
}

function setLogin(user: any, login: string): void {
  if (!user) return;
  Object.assign(user, { login, html_url: `https://github.com/${login}`, url: `https://api.github.com/users/${login}` });
}

/* eslint-enable @typescript-eslint/no-explicit-any */

/** The `X-Hub-Signature-256` value GitHub sends for `body`. */
export function signBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface SignedWebhook {
  headers: Record<string, string>;
  body: string;
}

export interface SignWebhookOptions {
  event: string;
  /** An object is sent as JSON; a string is sent as it is (to test a body the hook must refuse). */
  payload: unknown;
  secret: string;
  deliveryId?: string;
}

/** A delivery as GitHub sends it: the exact body bytes and the headers that go with them. */
export function signWebhook(options: SignWebhookOptions): SignedWebhook {
  const body = typeof options.payload === 'string' ? options.payload : JSON.stringify(options.payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'X-GitHub-Event': options.event,
      'X-GitHub-Delivery': options.deliveryId ?? randomUUID(),
      'X-Hub-Signature-256': signBody(body, options.secret),
      'User-Agent': 'GitHub-Hookshot/fake',
    },
  };
}

export async function sendWebhook(url: string, webhook: SignedWebhook): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { method: 'POST', headers: webhook.headers, body: webhook.body });
  return { status: response.status, body: await response.text() };
}
