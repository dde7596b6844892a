import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig, type Tenant } from '@bowline/config';
import { TENANT_LABEL, type ProwJob } from '@bowline/prowjob';
import { ViewTokens } from '@bowline/service';
import { waitFor } from '@bowline/testing';
import { tenantAllows, type MembershipChecks } from '../src/auth/permissions.js';
import { signInAs, startAuthDeck, type AuthDeck } from './auth-deck.js';
import { moveTo, makeJob } from './jobs.js';

// Issues 17, 18 and 20: with BOWLINE_VIEW_TOKENS_FILE the deck shows each caller only the tenants
// it may view (decideView, as the operator's logs endpoint), on every read surface.
const dir = mkdtempSync(join(tmpdir(), 'deck-visibility-'));
writeFileSync(join(dir, 'hmac'), 'secret');
const CONFIG = `
presubmits:
  acme/widgets:
  - { name: pull-widgets-unit, agent: jenkins }
  other/gadgets:
  - { name: pull-gadgets-unit, agent: jenkins }
bowline:
  tenants:
  - name: alpha
    repos: [acme]
    webhook_secret_file: ${join(dir, 'hmac')}
    jenkins: [{ name: alpha-ci, url: "http://127.0.0.1:1" }]
    access: { view: ["user:alice"] }
  - name: beta
    repos: [other]
    webhook_secret_file: ${join(dir, 'hmac')}
    jenkins: [{ name: beta-ci, url: "http://127.0.0.1:2" }]
    access: { view: ["team:other/ops"] }
`;
const TOKEN_A = 'token-of-alpha-readers';
writeFileSync(join(dir, 'tokens.yaml'), `tokens:\n- { sha256: ${createHash('sha256').update(TOKEN_A).digest('hex')}, tenants: [alpha] }\n`);

/** As the planner labels a tenant's job (bowline.dev/tenant). */
function ofTenant(tenant: string, job: ProwJob): ProwJob {
  return { ...job, metadata: { ...job.metadata, labels: { ...job.metadata.labels, [TENANT_LABEL]: tenant } } };
}

const alphaJob = ofTenant('alpha', makeJob({ minute: 1, job: 'pull-widgets-unit', org: 'acme', repo: 'widgets', pr: 1, author: 'bob', state: 'pending' }));
const betaJob = ofTenant('beta', makeJob({ minute: 2, job: 'pull-gadgets-unit', org: 'other', repo: 'gadgets', pr: 9, author: 'bob', state: 'pending' }));
const asA = { authorization: `Bearer ${TOKEN_A}` };

let deck: AuthDeck;

beforeAll(async () => {
  deck = await startAuthDeck([alphaJob, betaJob], { configText: CONFIG, viewTokens: ViewTokens.load(join(dir, 'tokens.yaml')) });
}, 30_000);

afterAll(async () => {
  await deck?.stop();
});

async function text(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const response = await fetch(`${deck.url}${path}`, { headers });
  return { status: response.status, body: await response.text() };
}

describe('the deck with a view tokens file', () => {
  it("lists only tenant alpha's jobs to alpha's token, on the page and in /prowjobs.js", async () => {
    const page = await text('/', asA);
    expect(page.status).toBe(200);
    expect(page.body).toContain(alphaJob.metadata.name);
    expect(page.body).not.toContain(betaJob.metadata.name);
    const data = await text('/prowjobs.js', asA);
    expect(data.body).toContain(alphaJob.metadata.name);
    expect(data.body).not.toContain(betaJob.metadata.name);
  });

  it("answers 404 for another tenant's job, as for one that does not exist", async () => {
    for (const path of [`/prowjob/${betaJob.metadata.name}`, `/prowjob?prowjob=${betaJob.metadata.name}`, `/log/${betaJob.metadata.name}`]) {
      expect({ path, status: (await text(path, asA)).status }).toEqual({ path, status: 404 });
    }
    expect((await text(`/prowjob/${alphaJob.metadata.name}`, asA)).status).toBe(200);
  });

  it('answers 401 without a token or a session, as decideView does, on every read surface', async () => {
    for (const path of ['/', '/prowjobs.js', `/prowjob/${alphaJob.metadata.name}`, '/job-history/pull-widgets-unit', '/pr/acme/widgets/1', '/badge.svg?jobs=*', '/events']) {
      expect({ path, status: (await text(path)).status }).toEqual({ path, status: 401 });
    }
    expect((await text('/prowjobs.js', { authorization: 'Bearer not-a-known-token' })).status).toBe(401);
  });

  it("sends alpha's token no row of tenant beta over /events", async () => {
    const controller = new AbortController();
    const response = await fetch(`${deck.url}/events?since=${deck.deck.index.revision}`, { headers: asA, signal: controller.signal });
    expect(response.status).toBe(200);
    const received: string[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) received.push(decoder.decode(chunk));
    })().catch(() => undefined);
    await deck.bucket.store.update(betaJob.metadata.name, (job) => moveTo(job, 'success'));
    await deck.bucket.store.update(alphaJob.metadata.name, (job) => moveTo(job, 'success'));
    await waitFor('the alpha change on the stream', () => received.join('').includes(alphaJob.metadata.name));
    controller.abort();
    await reading;
    expect(received.join('')).not.toContain(betaJob.metadata.name);
  });

  it("shows a signed-in user the tenants whose access.view names them, and no other's", async () => {
    const alice = await signInAs(deck.url, 'alice');
    const page = await text('/', { cookie: alice.header });
    expect(page.status).toBe(200);
    expect(page.body).toContain(alphaJob.metadata.name);
    expect(page.body).not.toContain(betaJob.metadata.name);
    expect((await text(`/prowjob/${betaJob.metadata.name}`, { cookie: alice.header })).status).toBe(404);
  });

  it('shows a member of a team: entry that tenant', async () => {
    deck.github.addTeamMember('other/ops', 'oscar');
    deck.github.addOAuthUser({ login: 'oscar', note: 'in other/ops' });
    const oscar = await signInAs(deck.url, 'oscar');
    const page = await text('/', { cookie: oscar.header });
    expect(page.body).toContain(betaJob.metadata.name);
    expect(page.body).not.toContain(alphaJob.metadata.name);
  });
});

describe('tenantAllows: a rerun or abort follows the tenant’s access.test', () => {
  const tenant = (test?: string): Tenant => parseConfig(CONFIG.replace('access: { view: ["user:alice"] }', test ? `access: { test: [${test}] }` : 'access: {}'), 'config.yaml').bowline.tenants[0]!;
  const checks: MembershipChecks = {
    inTeam: async (org, slug, user) => `${org}/${slug}` === 'acme/release' && user === 'rita',
    isOrgMember: async (org, user) => org === 'acme' && user === 'olga',
    isCollaborator: async (org, repo, user) => `${org}/${repo}` === 'acme/widgets' && user === 'colin',
  };
  it.each([
    ['no access.test: the trust check decided alone', undefined, 'mallory', true],
    ['user: by login, in any case', '"user:Alice"', 'alice', true],
    ['user: someone else', '"user:alice"', 'mallory', false],
    ['team: an active member', '"team:acme/release"', 'rita', true],
    ['team: not a member', '"team:acme/release"', 'alice', false],
    ['org-members of the repository’s org', 'org-members', 'olga', true],
    ['collaborators of the repository', 'collaborators', 'colin', true],
    ['collaborators: not one', 'collaborators', 'olga', false],
  ])('%s', async (_case, test, user, allowed) => {
    expect((await tenantAllows(user, 'acme/widgets', tenant(test), checks)).allowed).toBe(allowed);
  });
});
