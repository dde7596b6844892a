import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { mostSpecific } from '../src/auth/permissions.js';
import { localPath } from '../src/auth/safe-redirect.js';
import { readAuthSettings } from '../src/auth/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'deck-auth-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const KEYS = file('keys', '# newest first\nthe-new-key-of-at-least-32-characters-long\n\nthe-old-key-of-at-least-32-characters-long\n');
const SECRET = file('secret', 'client-secret\n');

describe('readAuthSettings', () => {
  it('leaves the deck read-only without GITHUB_OAUTH_CLIENT_ID', () => {
    expect(readAuthSettings({}, 'https://github.com')).toBeUndefined();
  });

  it('reads the client, the secret from its file, and every session key, the first signing', () => {
    const settings = readAuthSettings({ GITHUB_OAUTH_CLIENT_ID: 'Iv1.x', GITHUB_OAUTH_CLIENT_SECRET_FILE: SECRET, DECK_SESSION_KEY_FILE: KEYS, DECK_URL: 'https://deck.example.com/' }, 'https://github.com');
    expect(settings).toEqual({
      clientId: 'Iv1.x',
      clientSecret: 'client-secret',
      sessionKeys: ['the-new-key-of-at-least-32-characters-long', 'the-old-key-of-at-least-32-characters-long'],
      githubUrl: 'https://github.com',
      apiUrl: 'https://api.github.com',
      deckUrl: 'https://deck.example.com',
    });
  });

  it.each([
    [{ GITHUB_OAUTH_CLIENT_ID: 'Iv1.x', DECK_SESSION_KEY_FILE: KEYS }, 'GITHUB_OAUTH_CLIENT_SECRET_FILE is not set'],
    [{ GITHUB_OAUTH_CLIENT_ID: 'Iv1.x', GITHUB_OAUTH_CLIENT_SECRET_FILE: SECRET }, 'DECK_SESSION_KEY_FILE is not set'],
    [{ GITHUB_OAUTH_CLIENT_ID: 'Iv1.x', GITHUB_OAUTH_CLIENT_SECRET_FILE: SECRET, DECK_SESSION_KEY_FILE: file('short', 'too-short\n') }, 'every key in it must be at least 32 characters'],
    [{ GITHUB_OAUTH_CLIENT_ID: 'Iv1.x', GITHUB_OAUTH_CLIENT_SECRET_FILE: SECRET, DECK_SESSION_KEY_FILE: KEYS, DECK_URL: 'https://deck.example.com/deck' }, 'DECK_URL must be the deck'],
    [{ DECK_SESSION_KEY_FILE: KEYS }, 'DECK_SESSION_KEY_FILE is set but GITHUB_OAUTH_CLIENT_ID is not'],
  ])('refuses %j naming what to fix', (env, message) => {
    expect(() => readAuthSettings(env, 'https://github.com')).toThrow(message);
  });
});

describe('localPath: where the deck may send a browser', () => {
  it.each([
    ['/?state=failure&job=pull-*', '/?state=failure&job=pull-*'],
    ['/prowjob/abc#top', '/prowjob/abc#top'],
    ['https://evil.example/', '/'],
    ['//evil.example/', '/'],
    ['/\\evil.example/', '/'],
    ['\\\\evil.example', '/'],
    ['/\t/evil.example', '/'],
    ['javascript:alert(1)', '/'],
    ['', '/'],
    [undefined, '/'],
    [['/a', '/b'], '/'],
  ])('%j → %s', (next, path) => {
    expect(localPath(next)).toBe(path);
  });
});

describe("mostSpecific: Prow's rerun_auth_configs keys", () => {
  const byKey = { '*': ['everywhere'], acme: ['in-acme'], 'acme/widgets': ['in-widgets'] };
  it.each([
    ['acme/widgets', ['in-widgets']],
    ['acme/gadgets', ['in-acme']],
    ['other/thing', ['everywhere']],
    ['', ['everywhere']],
  ])('%s reads %j', (orgRepo, expected) => {
    expect(mostSpecific(byKey, orgRepo)).toEqual(expected);
  });
});
