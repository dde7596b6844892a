import { createRequire } from 'node:module';
import { describe, expect, it } from '@jest/globals';
import { examplePayload, malformedPayloadCases, pullRequestCommentPayload, pullRequestPayload } from '@bowline/testing';
import { deriveReadSchemas, PAYLOAD_READS, type ReadSchema } from '../src/payload-schema.js';
import { MAX_PAYLOAD_DEPTH, nestsDeeperThan, payloadChecker } from '../src/payloads.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- payloads are GitHub's loose JSON, spoilt in place */

const checker = payloadChecker();

/** Valid payloads of each stored event, with one item in every array Bowline reads into. */
export const VALID: Record<string, () => Record<string, unknown>> = {
  issue_comment: () => {
    const payload = pullRequestCommentPayload({ org: 'acme', repo: 'widgets', number: 7, commenter: 'alice', body: '/test all' });
    payload.issue.labels = [{ name: 'lgtm' }];
    return payload;
  },
  pull_request: () => {
    const payload = pullRequestPayload({ action: 'edited', org: 'acme', repo: 'widgets', number: 8, author: 'alice', headSha: 'c'.repeat(40) });
    payload.pull_request.labels = [{ name: 'ok-to-test' }];
    payload.label = { name: 'ok-to-test' };
    payload.changes = { base: { ref: { from: 'release-1.0' } } };
    return payload;
  },
  push: () => {
    const payload = examplePayload('push');
    payload.commits = [{ ...payload.commits[0], added: ['a.go'], removed: ['b.go'], modified: ['c.go'] }];
    return payload;
  },
};

/** The type the schema gives a path such as `commits[].added[]`. */
function typeAt(schema: ReadSchema, path: string): ReadSchema['type'] {
  let node: ReadSchema | undefined = schema;
  for (const part of path.split('.')) {
    const name = part.replace(/(\[\])+$/, '');
    node = node?.properties?.[name];
    for (let i = 0; i < (part.length - name.length) / 2; i += 1) node = node?.items;
  }
  return node?.type;
}

describe('the payload schemas, derived from GitHub’s published webhook schemas', () => {
  it('checks exactly the events the hook stores', () => {
    expect([...checker.events].sort()).toEqual(['issue_comment', 'pull_request', 'push']);
  });

  it.each([
    ['issue_comment', 'issue.number', 'integer'],
    ['issue_comment', 'issue.state', 'string'],
    ['issue_comment', 'issue.pull_request', 'object'],
    ['issue_comment', 'comment.body', 'string'],
    ['issue_comment', 'repository.owner', 'object'],
    ['pull_request', 'pull_request.number', 'integer'],
    ['pull_request', 'pull_request.draft', 'boolean'],
    ['pull_request', 'pull_request.labels[].name', 'string'],
    ['pull_request', 'changes.base.ref.from', 'string'],
    ['push', 'deleted', 'boolean'],
    ['push', 'commits[].added[]', 'string'],
  ])('types %s %s as %s, as GitHub does', (event, path, type) => {
    expect(typeAt(checker.schemas[event]!, path)).toBe(type);
  });

  it.each([
    ['issue_comment', ['action', 'issue', 'comment', 'repository']],
    ['pull_request', ['action', 'pull_request', 'repository']],
    ['push', ['ref', 'after', 'repository']],
  ])('requires of %s at the top only what Bowline cannot do without: %j', (event, required) => {
    expect(checker.schemas[event]!.required).toEqual(required);
  });

  it('requires nothing GitHub leaves out of some action (label is sent only when labelling)', () => {
    expect(checker.schemas.pull_request!.required).not.toContain('label');
    expect(checker.schemas.pull_request!.properties!.label).toEqual({ type: 'object', properties: { name: { type: 'string' } } });
  });

  it('fails loudly when a path Bowline reads is not in GitHub’s schemas', () => {
    const document = createRequire(import.meta.url)('@octokit/webhooks-schemas') as Parameters<typeof deriveReadSchemas>[0];
    expect(() => deriveReadSchemas(document, { ...PAYLOAD_READS, push: ['ref', 'not_a_field'] })).toThrow('GitHub\'s webhook schemas of "push" have no field "not_a_field"');
  });

  it.each(['issue_comment', 'pull_request', 'push'])('accepts every %s example GitHub documents, whatever the action', (event) => {
    const examples = (createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: unknown[] }[]).find((d) => d.name === event)!.examples;
    expect(examples.length).toBeGreaterThan(0);
    expect(examples.map((example) => checker.check(event, example))).toEqual(examples.map(() => undefined));
  });

  it.each(Object.keys(VALID))('accepts the %s payloads the test kit builds', (event) => {
    expect(checker.check(event, VALID[event]!())).toBeUndefined();
  });

  it('passes events it does not store unchecked', () => {
    expect(checker.check('star', { anything: null })).toBeUndefined();
  });

  describe.each(Object.keys(VALID))('a %s payload with one field wrong', (event) => {
    const cases = malformedPayloadCases(checker.schemas[event]!, VALID[event]!());

    it('has a case for every field Bowline reads', () => {
      expect(cases.length).toBeGreaterThanOrEqual(PAYLOAD_READS[event]!.length);
    });

    it.each(cases.map((c) => [c.title, c] as const))('is refused when it %s', (_title, c) => {
      expect(checker.check(event, c.payload)).toBe(c.problem);
    });
  });

  it.each([
    ['comment.body: null', 'issue_comment', (p: Record<string, any>) => (p.comment.body = null), 'comment.body: expected string, got null'],
    ['repository.owner: null', 'issue_comment', (p: Record<string, any>) => (p.repository.owner = null), 'repository.owner: expected object, got null'],
    ['issue.number as a string', 'issue_comment', (p: Record<string, any>) => (p.issue.number = '7'), 'issue.number: expected integer, got string'],
    ['a fractional pull request number', 'pull_request', (p: Record<string, any>) => (p.pull_request.number = 8.5), 'pull_request.number: expected integer, got number'],
  ])('names the field of the payloads in issue 14: %s', (_title, event, spoil, problem) => {
    const payload = VALID[event]!();
    spoil(payload);
    expect(checker.check(event, payload)).toBe(problem);
  });
});

describe('nestsDeeperThan', () => {
  const deep = (depth: number, open = '{"a":', close = '}') => `${open.repeat(depth)}1${close.repeat(depth)}`;
  const bytes = (text: string) => Buffer.from(text);

  it.each<[string, string, number, boolean]>([
    ['a flat object', '{"a":1}', 1, false],
    ['objects exactly at the limit', deep(MAX_PAYLOAD_DEPTH), MAX_PAYLOAD_DEPTH, false],
    ['objects one past the limit', deep(MAX_PAYLOAD_DEPTH + 1), MAX_PAYLOAD_DEPTH, true],
    ['arrays one past the limit', deep(MAX_PAYLOAD_DEPTH + 1, '[', ']'), MAX_PAYLOAD_DEPTH, true],
    ['brackets inside a string', JSON.stringify({ body: '[[[[[[[[{{{{{{{{' }), 3, false],
    ['an escaped quote before brackets in a string', JSON.stringify({ body: 'say \\"[[[[[[' }), 3, false],
    ['an escaped backslash ending a string', `{"a":"x\\\\","b":[[[[1]]]]}`, 3, true],
    ['siblings that each stay shallow', `[${Array(1000).fill('[[1]]').join(',')}]`, 3, false],
    ['an unterminated string', '{"a":"[[[[[[', 2, false],
  ])('%s', (_title, text, max, expected) => {
    expect(nestsDeeperThan(bytes(text), max)).toBe(expected);
  });

  it('finds a 100,000-deep object too deep without recursion, where a recursive walk overflows the stack', () => {
    const text = deep(100_000);
    expect(() => JSON.stringify(JSON.parse(text))).toThrow(RangeError);
    expect(nestsDeeperThan(bytes(text), MAX_PAYLOAD_DEPTH)).toBe(true);
  });

  it('finds GitHub’s documented payloads within the limit', () => {
    for (const event of ['issue_comment', 'pull_request', 'push', 'check_suite', 'workflow_run']) {
      expect(nestsDeeperThan(bytes(JSON.stringify(examplePayload(event))), MAX_PAYLOAD_DEPTH)).toBe(false);
    }
  });
});
