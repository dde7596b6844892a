import { describe, expect, it } from '@jest/globals';
import { ownerOf, parseSecrets, secretsFor } from '../src/secrets.js';

describe('the webhook secret file', () => {
  it('takes every non-empty line as a secret, so a rotation has two at once', () => {
    const secrets = parseSecrets('new-secret\n\n  old-secret  \n', 'secret');
    expect(secrets).toEqual({ global: ['new-secret', 'old-secret'], byOwner: new Map(), scoped: false });
    expect(secretsFor(secrets, 'acme/widgets')).toEqual(['new-secret', 'old-secret']);
  });

  it("reads Prow's hmac file and picks repo, then org, then '*'", () => {
    const secrets = parseSecrets("'*':\n- value: g\nAcme:\n- value: o\nacme/Widgets:\n- value: r\n", 'hmac');
    expect(secrets.scoped).toBe(true);
    expect(secretsFor(secrets, 'acme/widgets')).toEqual(['r']);
    expect(secretsFor(secrets, 'ACME/gadgets')).toEqual(['o']);
    expect(secretsFor(secrets, 'acme')).toEqual(['o']);
    expect(secretsFor(secrets, 'other/x')).toEqual(['g']);
    expect(secretsFor(secrets, undefined)).toEqual(['g']);
  });

  it.each([
    ['an empty file', '\n\n', 'holds no webhook secret'],
    ['a Prow file entry without values', "'*':\n- created_at: 2026-01-01\n", 'must be a list of { value, created_at }'],
  ])('refuses %s, so the hook does not start without a secret', (_title, text, message) => {
    expect(() => parseSecrets(text, 'secret')).toThrow(message);
  });

  it('finds whose secret applies: the repository, else the organization of an org event', () => {
    expect(ownerOf({ repository: { full_name: 'acme/widgets' }, organization: { login: 'acme' } })).toBe('acme/widgets');
    expect(ownerOf({ organization: { login: 'acme' } })).toBe('acme');
    expect(ownerOf({ zen: 'hi' })).toBeUndefined();
  });
});
