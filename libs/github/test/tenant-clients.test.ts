import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '@bowline/observability';
import { FakeGitHub } from '@bowline/testing';
import { connectGitHub, type GitHub } from '../src/client.js';
import { TenantCredentialsError, TenantGitHubClients, type TenantIdentity } from '../src/tenant-clients.js';

const APP_ID = 5151;
const logger = createLogger({ service: 'test', level: 'silent' });
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const sha = 'd'.repeat(40);

describe('TenantGitHubClients', () => {
  let gh: FakeGitHub;
  let own: GitHub;
  let clients: TenantGitHubClients;
  const dir = mkdtempSync(join(tmpdir(), 'bowline-tenant-clients-'));
  const file = (name: string, content: string): string => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };

  /** The Authorization header of each request the fake saw from `since` on, for `path`. */
  const authorizationsOf = (since: number, path: string): string[] =>
    gh.requests.slice(since).filter((r) => r.path === path).map((r) => String(r.headers.authorization));

  const pull = (client: GitHub) => client.octokit.rest.pulls.get({ owner: 'acme', repo: 'widgets', pull_number: 1 });

  beforeAll(async () => {
    gh = await FakeGitHub.start({
      tokens: ['own-token', 'payments-token', 'search-token', 'payments-token-2'],
      app: { id: APP_ID, publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string },
    });
    gh.addInstallation({ id: 31, account: 'acme' });
    gh.addPullRequest({ org: 'acme', repo: 'widgets', number: 1, author: 'alice', headSha: sha });
    const settings = { apiUrl: gh.url, writeIntervalMs: 0 };
    own = connectGitHub({ ...settings, token: 'own-token' }, { logger, service: 'test' });
    clients = new TenantGitHubClients({ own, settings, logger, service: 'test' });
  });

  afterAll(async () => {
    await gh.close();
  });

  it("sends each tenant's requests with its own token, and the service's for a tenant without github", async () => {
    const payments: TenantIdentity = { name: 'payments', github: { tokenFile: file('payments-token', 'payments-token\n') } };
    const search: TenantIdentity = { name: 'search', github: { tokenFile: file('search-token', 'search-token') } };
    const implicit: TenantIdentity = { name: 'default' };
    const since = gh.requests.length;

    await pull(clients.forTenant(payments));
    await pull(clients.forTenant(search));
    await pull(clients.forTenant(implicit));
    await pull(clients.forTenant(payments));

    expect(clients.forTenant(implicit)).toBe(own);
    expect(authorizationsOf(since, '/repos/acme/widgets/pulls/1')).toEqual([
      'token payments-token',
      'token search-token',
      'token own-token',
      // The second call reuses the first one's client: a conditional GET, with the same token.
      'token payments-token',
    ]);
  });

  it("authenticates a tenant's GitHub App as that App's installation", async () => {
    const keyFile = file('app.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const tenant: TenantIdentity = { name: 'apps', github: { appId: String(APP_ID), privateKeyFile: keyFile } };
    const since = gh.requests.length;

    await pull(clients.forTenant(tenant));

    const [authorization] = authorizationsOf(since, '/repos/acme/widgets/pulls/1');
    const token = /^token (\S+)$/.exec(authorization ?? '')?.[1];
    expect(token).toBeDefined();
    expect(gh.tokenInstallation(token!)).toBe(31);
    expect(await clients.forTenant(tenant).botLogin()).toBe('bowline-app[bot]');
  });

  it('reads the token file again for a reloaded config, and keeps the client when nothing changed', async () => {
    const tokenFile = file('rotating-token', 'payments-token');
    const before: TenantIdentity = { name: 'rotating', github: { tokenFile } };
    const first = clients.forTenant(before);
    // A reload makes new tenant objects; the same credentials keep the same client.
    expect(clients.forTenant({ name: 'rotating', github: { tokenFile } })).toBe(first);

    writeFileSync(tokenFile, 'payments-token-2');
    expect(clients.forTenant(before)).toBe(first); // the same config: not read again
    const since = gh.requests.length;
    await pull(clients.forTenant({ name: 'rotating', github: { tokenFile } }));
    expect(authorizationsOf(since, '/repos/acme/widgets/pulls/1')).toEqual(['token payments-token-2']);
  });

  it.each([
    ['a token file that does not exist', { tokenFile: join(dir, 'missing') }, /tenant "broken": .*missing cannot be read: it must hold a GitHub token/],
    ['an empty token file', { tokenFile: file('empty', '\n') }, /tenant "broken": .*empty is empty/],
    ['a private key file that does not exist', { appId: '1', privateKeyFile: join(dir, 'missing.pem') }, /private key/],
  ])('refuses %s with an error naming the tenant, sending nothing', (_case, github, message) => {
    const since = gh.requests.length;
    let thrown: unknown;
    try {
      clients.forTenant({ name: 'broken', github });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TenantCredentialsError);
    expect((thrown as Error).message).toMatch(message);
    expect(gh.requests.length).toBe(since);
  });
});
