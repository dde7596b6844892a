import type { PrimaryRefsSettings } from '@bowline/config';
import type { Pull, Refs } from './types.js';

/**
 * The parts of a GitHub pull request (a webhook's `pull_request`, or `GET /pulls/{n}`) that Prow's
 * `pjutil.createRefs` reads.
 */
export interface GitHubPullRequest {
  number: number;
  title: string;
  html_url?: string;
  user: { login: string; html_url?: string };
  head: { sha: string; ref: string };
  base: { ref: string; sha: string; repo: { name: string; html_url?: string; owner: { login: string } } };
}

/**
 * Prow's `pjutil.createRefs`: the refs of a presubmit on this pull request, tested against
 * `baseSha` (Prow passes the base branch's sha it just read; GitHub's `base.sha` by default).
 * The head branch is `head_ref`; `ref` stays empty, as Prow leaves it for GitHub.
 */
export function refsForPullRequest(pr: GitHubPullRequest, baseSha: string = pr.base.sha): Refs {
  const repoLink = pr.base.repo.html_url ?? '';
  return withoutEmpty({
    org: pr.base.repo.owner.login,
    repo: pr.base.repo.name,
    repo_link: repoLink,
    base_ref: pr.base.ref,
    base_sha: baseSha,
    base_link: `${repoLink}/commit/${baseSha}`,
    pulls: [
      withoutEmpty({
        number: pr.number,
        author: pr.user.login,
        sha: pr.head.sha,
        title: pr.title,
        head_ref: pr.head.ref,
        link: pr.html_url ?? '',
        commit_link: `${repoLink}/pull/${pr.number}/commits/${pr.head.sha}`,
        author_link: pr.user.html_url ?? '',
      }),
    ],
  });
}

/**
 * Prow's `pjutil.CompletePrimaryRefs`: the job's `path_alias`, `clone_uri`, `skip_submodules`,
 * `clone_depth` and `skip_fetch_head` copied into its refs, each only when set.
 */
export function completePrimaryRefs(refs: Refs, job: PrimaryRefsSettings): Refs {
  const completed = { ...refs };
  if (job.pathAlias) completed.path_alias = job.pathAlias;
  if (job.cloneUri) completed.clone_uri = job.cloneUri;
  if (job.skipSubmodules) completed.skip_submodules = true;
  if (job.cloneDepth && job.cloneDepth > 0) completed.clone_depth = job.cloneDepth;
  if (job.skipFetchHead) completed.skip_fetch_head = true;
  return completed;
}

/**
 * The refs as Prow has them: in Go's field order with `omitempty` applied, which is how Prow's
 * `JOB_SPEC` prints them. A ProwJob written before Bowline stored Prow's link fields (pulls with
 * `ref` but no `head_ref`, issue 13) still in the bucket after an upgrade has its head branch in
 * `ref` and only the pull request's `link`: its head branch moves to `head_ref`, and the links
 * Prow's createRefs would have stored follow from that link (`<repo>/pull/<n>`).
 */
export function prowRefsOf(refs: Refs): Refs {
  const pulls = refs.pulls ?? [];
  const legacy = refs.repo_link === undefined && pulls.some((p) => p.head_ref === undefined && p.ref !== undefined);
  const repoLink = legacy ? repoLinkOf(pulls[0]?.link) : refs.repo_link;
  const baseLink = legacy ? repoLink && refs.base_sha && `${repoLink}/commit/${refs.base_sha}` : refs.base_link;
  return withoutEmpty({
    org: refs.org ?? '',
    repo: refs.repo ?? '',
    repo_link: repoLink,
    base_ref: refs.base_ref,
    base_sha: refs.base_sha,
    base_link: baseLink,
    pulls: pulls.map((pull) => prowPullOf(pull, legacy ? repoLink ?? '' : undefined)),
    path_alias: refs.path_alias,
    clone_uri: refs.clone_uri,
    skip_submodules: refs.skip_submodules,
    clone_depth: refs.clone_depth,
    skip_fetch_head: refs.skip_fetch_head,
  });
}

/** One pull in Go's field order; `legacyRepoLink` is set for a pull of a pre-issue-13 ProwJob. */
function prowPullOf(pull: Pull, legacyRepoLink: string | undefined): Pull {
  if (legacyRepoLink === undefined || pull.head_ref !== undefined) {
    return withoutEmpty({
      number: pull.number ?? 0,
      author: pull.author ?? '',
      sha: pull.sha ?? '',
      title: pull.title,
      ref: pull.ref,
      head_ref: pull.head_ref,
      link: pull.link,
      commit_link: pull.commit_link,
      author_link: pull.author_link,
    });
  }
  const origin = originOf(legacyRepoLink);
  return withoutEmpty({
    number: pull.number ?? 0,
    author: pull.author ?? '',
    sha: pull.sha ?? '',
    title: pull.title,
    head_ref: pull.ref,
    link: pull.link,
    commit_link: legacyRepoLink && `${legacyRepoLink}/pull/${pull.number}/commits/${pull.sha}`,
    author_link: origin && pull.author && `${origin}/${pull.author}`,
  });
}

function repoLinkOf(pullLink: string | undefined): string {
  const repoLink = /^(https?:\/\/[^/]+\/.+)\/pull\/\d+\/?$/.exec(pullLink ?? '')?.[1] ?? '';
  return originOf(repoLink) ? repoLink : '';
}

function originOf(link: string): string {
  try {
    return new URL(link).origin;
  } catch {
    return '';
  }
}

/**
 * Go's `omitempty`: "", false, 0, undefined and empty lists are left out. Only the fields Prow marks
 * `omitempty` are passed here as possibly empty; `number`, `author`, `sha`, `org` and `repo` are
 * always given a value, so they stay as Go prints them.
 */
function withoutEmpty<T extends object>(fields: T): T {
  const always = new Set(['number', 'author', 'sha', 'org', 'repo']);
  return Object.fromEntries(
    Object.entries(fields).filter(([key, value]) => always.has(key) || !(value === undefined || value === '' || value === false || value === 0 || (Array.isArray(value) && value.length === 0))),
  ) as T;
}
