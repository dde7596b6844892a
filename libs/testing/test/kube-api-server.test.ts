/* eslint-disable @typescript-eslint/no-explicit-any -- answers are the API server's loose JSON, read field by field */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { KubeApiServer, TEST_CA_FILE, waitFor } from '../src/index.js';

// The test API server answers as kube-apiserver answers for a custom resource; each case is one
// behaviour kube-bridge relies on, checked over real HTTP.
const TOKEN = 'kube-token';
const NS = 'prow';

function prowJob(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: { name, labels: { 'created-by-prow': 'true' } },
    spec: { type: 'periodic', agent: 'jenkins', job: 'nightly', report: false },
    status: { state: 'triggered', startTime: '2026-12-03T09:00:00Z' },
    ...extra,
  };
}

/** One HTTPS request trusting the test CA, as kubectl would send it; the response unread. */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    // Content-Length given, as client-node sends it: Node frames no DELETE body otherwise.
    const headers = { ...options.headers, ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }) };
    const req = request(url, { method: options.method ?? 'GET', headers, ca: readFileSync(TEST_CA_FILE), agent: false }, resolve);
    req.on('error', reject);
    req.end(options.body);
  });
}

async function text(response: IncomingMessage): Promise<string> {
  let out = '';
  for await (const chunk of response) out += String(chunk);
  return out;
}

describe('the test Kubernetes API server', () => {
  let server: KubeApiServer;
  const base = () => `${server.url}/apis/prow.k8s.io/v1/namespaces/${NS}/prowjobs`;
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json', token = TOKEN) => {
    const response = await send(`${base()}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.statusCode!, body: JSON.parse(await text(response)) as Record<string, any> };
  };

  beforeAll(async () => {
    server = await KubeApiServer.start({ tokens: [TOKEN], bookmarkEveryMs: 50 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses a request without the bearer token with a 401 Status', async () => {
    const answer = await call('GET', '', undefined, 'application/json', 'wrong');
    expect(answer).toMatchObject({ status: 401, body: { kind: 'Status', reason: 'Unauthorized', code: 401 } });
  });

  it('creates a ProwJob once, answers 409 AlreadyExists for the same name, and serves it by name', async () => {
    const created = await call('POST', '', prowJob('create-once'));
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({ name: 'create-once', namespace: NS, generation: 1 });
    expect(Number(created.body.metadata.resourceVersion)).toBeGreaterThan(0);
    expect((await call('POST', '', prowJob('create-once'))).body).toMatchObject({ reason: 'AlreadyExists', code: 409 });
    expect((await call('GET', '/create-once')).body.metadata.uid).toBe(created.body.metadata.uid);
    expect((await call('GET', '/missing')).body).toMatchObject({ reason: 'NotFound', code: 404 });
  });

  it.each([
    ['an unknown state', { status: { state: 'running', startTime: '2026-12-03T09:00:00Z' } }, 'status.state'],
    ['a final state without completionTime', { status: { state: 'success', startTime: '2026-12-03T09:00:00Z' } }, 'status'],
    ['no job name', { spec: { type: 'periodic', agent: 'jenkins' } }, 'spec'],
    ['a label value Kubernetes refuses', { metadata: { name: 'bad-label', labels: { 'prow.k8s.io/job': 'has spaces' } } }, 'metadata.labels'],
  ])('refuses a ProwJob with %s as 422 Invalid, against Prow’s CRD schema', async (_case, override, field) => {
    const answer = await call('POST', '', { ...prowJob('invalid-one'), ...override });
    expect(answer.status).toBe(422);
    expect(answer.body.reason).toBe('Invalid');
    expect(answer.body.details.causes.map((c: { field: string }) => c.field)).toContain(field);
  });

  it('drops the fields Prow’s schema does not know, as the API server prunes them', async () => {
    const answer = await call('POST', '', prowJob('pruned', { spec: { type: 'periodic', job: 'nightly', colour: 'red' } }));
    expect(answer.body.spec).toEqual({ type: 'periodic', job: 'nightly' });
  });

  it('merge-patches, refuses a stale resourceVersion with 409 Conflict, and writes nothing for a patch that changes nothing', async () => {
    const created = (await call('POST', '', prowJob('patched'))).body;
    const rv = created.metadata.resourceVersion as string;
    const patched = await call('PATCH', '/patched', { metadata: { resourceVersion: rv }, status: { state: 'pending', pendingTime: '2026-12-03T09:01:00Z' } }, 'application/merge-patch+json');
    expect(patched.status).toBe(200);
    expect(patched.body.status).toMatchObject({ state: 'pending', startTime: '2026-12-03T09:00:00Z' });
    const stale = await call('PATCH', '/patched', { metadata: { resourceVersion: rv }, status: { state: 'failure' } }, 'application/merge-patch+json');
    expect(stale.body).toMatchObject({ reason: 'Conflict', code: 409 });
    const again = await call('PATCH', '/patched', { status: { state: 'pending' } }, 'application/merge-patch+json');
    expect(again.body.metadata.resourceVersion).toBe(patched.body.metadata.resourceVersion);
    expect((await call('PATCH', '/patched', { status: {} }, 'application/strategic-merge-patch+json')).status).toBe(415);
  });

  it('applies for a field manager: creates, merges, and removes a field the manager stopped sending', async () => {
    const apply = (body: unknown) => call('PATCH', '/applied?fieldManager=bowline', JSON.stringify(body), 'application/apply-patch+yaml');
    const first = await apply(prowJob('applied', { metadata: { name: 'applied', annotations: { a: '1', b: '2' } } }));
    expect(first.status).toBe(201);
    const second = await apply(prowJob('applied', { metadata: { name: 'applied', annotations: { a: '1' } } }));
    expect(second.body.metadata.annotations).toEqual({ a: '1' });
    const stale = await apply(prowJob('applied', { metadata: { name: 'applied', resourceVersion: first.body.metadata.resourceVersion } }));
    expect(stale.body).toMatchObject({ reason: 'Conflict', code: 409 });
    expect((await call('PATCH', '/applied', '{}', 'application/apply-patch+yaml')).status).toBe(422);
  });

  it('updates only at the resourceVersion read, and deletes with preconditions', async () => {
    const created = (await call('POST', '', prowJob('updated'))).body;
    expect((await call('PUT', '/updated', { ...created, metadata: { ...created.metadata, resourceVersion: undefined } })).status).toBe(422);
    const updated = await call('PUT', '/updated', { ...created, spec: { ...created.spec, job: 'weekly' } });
    expect(updated.body.metadata.generation).toBe(2);
    expect((await call('PUT', '/updated', created)).body.reason).toBe('Conflict');
    expect((await call('DELETE', '/updated', { preconditions: { resourceVersion: created.metadata.resourceVersion } })).status).toBe(409);
    expect((await call('DELETE', '/updated')).status).toBe(200);
    expect((await call('GET', '/updated')).status).toBe(404);
  });

  it('lists page by page at one resourceVersion, and answers 410 for a continue token older than the history', async () => {
    const first = await call('GET', '?limit=2');
    expect(first.body.items).toHaveLength(2);
    const token = first.body.metadata.continue as string;
    await call('POST', '', prowJob('zz-after-first-page'));
    const second = await call('GET', `?limit=100&continue=${token}`);
    expect(second.body.metadata.resourceVersion).toBe(first.body.metadata.resourceVersion);
    expect(second.body.items.map((o: { metadata: { name: string } }) => o.metadata.name)).not.toContain('zz-after-first-page');
    server.compact();
    expect((await call('GET', `?limit=100&continue=${token}`)).body).toMatchObject({ reason: 'Expired', code: 410 });
  });

  it('watches from a resourceVersion: the later changes in order, bookmarks, and an end when told', async () => {
    const rv = (await call('GET', '')).body.metadata.resourceVersion as string;
    const events: { type: string; object: { metadata: { name?: string } } }[] = [];
    const response = await send(`${base()}?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const ended = (async () => {
      let partial = '';
      for await (const chunk of response) {
        const lines = (partial + String(chunk)).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line) events.push(JSON.parse(line));
      }
    })();
    await call('POST', '', prowJob('watched'));
    await call('PATCH', '/watched', { status: { state: 'pending' } }, 'application/merge-patch+json');
    await call('DELETE', '/watched');
    await waitFor('a bookmark after the delete', () => events.some((e, i) => e.type === 'BOOKMARK' && events.slice(0, i).some((d) => d.type === 'DELETED')));
    expect(events.filter((e) => e.type !== 'BOOKMARK').map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'watched'],
      ['MODIFIED', 'watched'],
      ['DELETED', 'watched'],
    ]);
    server.endWatches();
    await ended;
  });

  it('ends a watch from a compacted resourceVersion with an ERROR event carrying 410 Expired', async () => {
    const old = (await call('GET', '')).body.metadata.resourceVersion as string;
    await call('POST', '', prowJob('after-compaction'));
    server.compact();
    const response = await send(`${base()}?watch=true&resourceVersion=${old}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.statusCode).toBe(200);
    const [event] = (await text(response)).trim().split('\n').map((l) => JSON.parse(l));
    expect(event).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  });

  it('refuses connections while down and answers 503 while unavailable, then serves the same objects again', async () => {
    await server.goDown('refuse');
    await expect(call('GET', '')).rejects.toThrow();
    await server.comeBack();
    await server.goDown('unavailable');
    expect((await call('GET', '')).body).toMatchObject({ reason: 'ServiceUnavailable', code: 503 });
    await server.comeBack();
    expect((await call('GET', '/create-once')).status).toBe(200);
    expect(server.requestsTo({ method: 'GET', path: `/apis/prow.k8s.io/v1/namespaces/${NS}/prowjobs/create-once` }).length).toBeGreaterThan(1);
  });
});
