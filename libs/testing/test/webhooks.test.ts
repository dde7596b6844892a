import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import {
  examplePayload,
  pullRequestCommentPayload,
  pullRequestPayload,
  sendWebhook,
  signBody,
  signWebhook,
} from '../src/webhooks.js';

const sha = 'c'.repeat(40);

function verifies(body: string, secret: string, signature: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

describe('examplePayload', () => {
  it('returns GitHub’s example for an event and action', () => {
    const payload = examplePayload('pull_request', 'synchronize');
    expect(payload.action).toBe('synchronize');
    expect(payload.pull_request).toBeDefined();
  });

  it('returns a copy, so changing it leaves the next one untouched', () => {
    examplePayload('issue_comment', 'created').comment.body = 'changed';
    expect(examplePayload('issue_comment', 'created').comment.body).not.toBe('changed');
  });

  it('throws when GitHub documents no such event or action', () => {
    expect(() => examplePayload('no_such_event')).toThrow('no_such_event');
    expect(() => examplePayload('issue_comment', 'exploded')).toThrow('exploded');
  });
});

describe('pullRequestCommentPayload', () => {
  it('describes a comment on a pull request with every field set as asked', () => {
    const payload = pullRequestCommentPayload({
      org: 'acme',
      repo: 'widgets',
      number: 42,
      commenter: 'bob',
      body: '/test all',
      prAuthor: 'alice',
      state: 'closed',
    });
    expect(payload).toMatchObject({
      action: 'created',
      repository: { name: 'widgets', full_name: 'acme/widgets', owner: { login: 'acme' } },
      issue: {
        number: 42,
        state: 'closed',
        user: { login: 'alice' },
        pull_request: {
          url: 'https://api.github.com/repos/acme/widgets/pulls/42',
          html_url: 'https://github.com/acme/widgets/pull/42',
          diff_url: 'https://github.com/acme/widgets/pull/42.diff',
          patch_url: 'https://github.com/acme/widgets/pull/42.patch',
        },
      },
      comment: { body: '/test all', user: { login: 'bob' } },
      sender: { login: 'bob' },
    });
  });

  it('makes the commenter the author and the pull request open unless told otherwise', () => {
    const payload = pullRequestCommentPayload({ org: 'acme', repo: 'widgets', number: 1, commenter: 'carol', body: '/retest' });
    expect(payload.issue.user.login).toBe('carol');
    expect(payload.issue.state).toBe('open');
  });
});

describe('pullRequestPayload', () => {
  it.each(['opened', 'synchronize', 'closed', 'reopened'])('builds a consistent "%s" delivery', (action) => {
    const payload = pullRequestPayload({
      action,
      org: 'acme',
      repo: 'widgets',
      number: 9,
      author: 'alice',
      headSha: sha,
      headRef: 'feature',
      baseRef: 'release-1.0',
      baseSha: 'd'.repeat(40),
      title: 'Fix things',
      draft: true,
    });
    expect(payload).toMatchObject({
      action,
      number: 9,
      repository: { name: 'widgets', full_name: 'acme/widgets', owner: { login: 'acme' } },
      sender: { login: 'alice' },
      pull_request: {
        number: 9,
        state: action === 'closed' ? 'closed' : 'open',
        title: 'Fix things',
        draft: true,
        user: { login: 'alice' },
        html_url: 'https://github.com/acme/widgets/pull/9',
        head: { sha, ref: 'feature', repo: { full_name: 'acme/widgets' } },
        base: { sha: 'd'.repeat(40), ref: 'release-1.0', repo: { name: 'widgets', full_name: 'acme/widgets', owner: { login: 'acme' } } },
      },
    });
  });

  it('falls back to the "opened" example for an action GitHub gives no example of', () => {
    const payload = pullRequestPayload({ action: 'merged', org: 'acme', repo: 'widgets', number: 3, author: 'alice', headSha: sha });
    expect(payload.action).toBe('merged');
    expect(payload.pull_request).toMatchObject({ number: 3, head: { sha }, base: { ref: 'main' } });
    expect(payload.pull_request.base.sha).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('signWebhook', () => {
  it('signs the exact body it returns, so an HMAC check over the raw bytes passes', () => {
    const webhook = signWebhook({ event: 'issue_comment', payload: { hello: 'world' }, secret: 's3cret', deliveryId: 'delivery-1' });
    expect(webhook.body).toBe('{"hello":"world"}');
    expect(webhook.headers).toEqual({
      'content-type': 'application/json',
      'X-GitHub-Event': 'issue_comment',
      'X-GitHub-Delivery': 'delivery-1',
      'X-Hub-Signature-256': signBody(webhook.body, 's3cret'),
      'User-Agent': 'GitHub-Hookshot/fake',
    });
    expect(verifies(webhook.body, 's3cret', webhook.headers['X-Hub-Signature-256']!)).toBe(true);
    expect(verifies(webhook.body, 'other', webhook.headers['X-Hub-Signature-256']!)).toBe(false);
  });

  it('gives each delivery a fresh id when none is given', () => {
    const first = signWebhook({ event: 'ping', payload: {}, secret: 's' });
    const second = signWebhook({ event: 'ping', payload: {}, secret: 's' });
    expect(first.headers['X-GitHub-Delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.headers['X-GitHub-Delivery']).not.toBe(second.headers['X-GitHub-Delivery']);
  });

  it('sends a string payload as it is, so a test can deliver a body that is not JSON', () => {
    const webhook = signWebhook({ event: 'ping', payload: 'not json', secret: 's' });
    expect(webhook.body).toBe('not json');
    expect(verifies('not json', 's', webhook.headers['X-Hub-Signature-256']!)).toBe(true);
  });

  it('matches the signature of GitHub’s documented example', () => {
    // From GitHub's "Validating webhook deliveries" page: secret "It's a Secret to Everybody".
    expect(signBody('Hello, World!', "It's a Secret to Everybody")).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });
});

describe('sendWebhook', () => {
  it('posts the signed delivery and returns the answer', async () => {
    let seen: { method?: string; headers?: IncomingHttpHeaders; body?: string } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen = { method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        res.writeHead(202).end('accepted');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const payload = pullRequestCommentPayload({ org: 'acme', repo: 'widgets', number: 5, commenter: 'bob', body: '/test unit' });
      const webhook = signWebhook({ event: 'issue_comment', payload, secret: 'hush', deliveryId: 'd-5' });

      const answer = await sendWebhook(`http://127.0.0.1:${port}/hook`, webhook);

      expect(answer).toEqual({ status: 202, body: 'accepted' });
      expect(seen.method).toBe('POST');
      expect(seen.headers).toMatchObject({ 'x-github-event': 'issue_comment', 'x-github-delivery': 'd-5', 'user-agent': 'GitHub-Hookshot/fake' });
      expect(seen.body).toBe(webhook.body);
      expect(verifies(seen.body!, 'hush', seen.headers!['x-hub-signature-256'] as string)).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
