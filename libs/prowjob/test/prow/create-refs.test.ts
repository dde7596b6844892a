import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '@bowline/config';
import { newPresubmitJob, type GitHubPullRequest, type Refs } from '../../src/index.js';

/*
 * Prow's TestCreateRefs (pkg/pjutil/pjutil_test.go): the refs of a presubmit made from GitHub's
 * pull request. Here through the builder the planner calls, `newPresubmitJob` with the pull
 * request, so what is checked is the ProwJob that goes into the bucket.
 */
const [presubmit] = parseConfig('presubmits:\n  kubernetes/Hello-World:\n  - {name: unit, agent: jenkins}\n', 'config.yaml').presubmits['kubernetes/Hello-World']!;

describe('TestCreateRefs', () => {
  it('TestCreateRefs: the pull request’s refs, with the links to repository, base commit, pull request, author and head commit', () => {
    // The Go case's github.PullRequest, as GitHub's JSON has it.
    const pr: GitHubPullRequest = {
      number: 42,
      title: 'hello world',
      html_url: 'https://github.example.com/kubernetes/Hello-World/pull/42',
      head: { sha: '123456', ref: 'my-great-change' },
      base: {
        ref: 'master',
        sha: 'the-base-sha-github-sent',
        repo: { name: 'Hello-World', html_url: 'https://github.example.com/kubernetes/Hello-World', owner: { login: 'kubernetes' } },
      },
      user: { login: 'ibzib', html_url: 'https://github.example.com/ibzib' },
    };
    const expected: Refs = {
      org: 'kubernetes',
      repo: 'Hello-World',
      repo_link: 'https://github.example.com/kubernetes/Hello-World',
      base_ref: 'master',
      base_sha: 'abcdef',
      base_link: 'https://github.example.com/kubernetes/Hello-World/commit/abcdef',
      pulls: [
        {
          number: 42,
          author: 'ibzib',
          sha: '123456',
          head_ref: 'my-great-change',
          title: 'hello world',
          link: 'https://github.example.com/kubernetes/Hello-World/pull/42',
          author_link: 'https://github.example.com/ibzib',
          commit_link: 'https://github.example.com/kubernetes/Hello-World/pull/42/commits/123456',
        },
      ],
    };

    const job = newPresubmitJob(presubmit!, { name: 'pj-1', pullRequest: pr, baseSha: 'abcdef', now: new Date(), cause: { event: 'issue_comment', deliveryId: 'd-1' } });

    expect(job.spec.refs).toStrictEqual(expected);
    // Prow's `ref` (a fetchable ref such as Gerrit's) stays empty for GitHub; the branch is head_ref.
    expect(job.spec.refs.pulls![0]).not.toHaveProperty('ref');
  });
});
