import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { createLogger, SettingsError } from '@bowline/observability';
import { bindAddressFromEnv } from '../src/env.js';
import { startOpsServer, type HttpLimits, type OpsServer } from '../src/ops-server.js';

const logger = createLogger({ service: 'test', level: 'silent' });

/** A raw TCP client: what it received, and when the server closed the connection. */
interface RawClient {
  socket: Socket;
  received(): string;
  closed: Promise<number>;
}

async function rawClient(port: number): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => data, closed };
}

describe('the HTTP port every service opens', () => {
  let server: OpsServer | undefined;
  const clients: RawClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.destroy();
    await server?.close();
    server = undefined;
  });

  async function start(limits: Partial<HttpLimits> = {}, host?: string): Promise<OpsServer> {
    server = await startOpsServer({ port: 0, host, limits, logger, registry: new Registry(), isReady: () => true });
    return server;
  }

  async function client(): Promise<RawClient> {
    const c = await rawClient(server!.port);
    clients.push(c);
    return c;
  }

  it('closes an idle keep-alive connection after keepAliveTimeoutMs', async () => {
    await start({ keepAliveTimeoutMs: 300 });
    const c = await client();
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const answeredAt = await waitUntil(() => c.received().includes('\r\n\r\nok') && Date.now());

    const closedAt = await c.closed;

    expect(c.received()).toMatch(/^HTTP\/1\.1 200/);
    expect(closedAt - answeredAt).toBeGreaterThanOrEqual(250);
    expect(closedAt - answeredAt).toBeLessThan(2000);
  });

  it('answers 408 and closes a connection whose headers do not arrive within headersTimeoutMs', async () => {
    await start({ headersTimeoutMs: 500 });
    const c = await client();
    const openedAt = Date.now();
    // A slowloris: a request line and then one header byte now and then, never the blank line.
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => c.socket.writable && c.socket.write('X'), 100);

    const closedAt = await c.closed;
    clearInterval(trickle);

    expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAt - openedAt).toBeLessThan(2500);
  });

  it('closes a connection that never sends anything once headersTimeoutMs has passed', async () => {
    await start({ headersTimeoutMs: 500 });
    const c = await client();
    const openedAt = Date.now();

    const closedAt = await c.closed;

    expect(closedAt - openedAt).toBeGreaterThanOrEqual(400);
    expect(closedAt - openedAt).toBeLessThan(2500);
  });

  it('closes connections beyond maxConnections as they arrive, and serves the others', async () => {
    await start({ maxConnections: 2 });
    const [first, second] = [await client(), await client()];

    const third = await client();
    await third.closed;

    expect(third.received()).toBe('');
    for (const c of [first, second]) c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitUntil(() => [first, second].every((c) => c.received().startsWith('HTTP/1.1 200')));
  });

  it('listens only on BIND_ADDRESS when it is set', async () => {
    const host = bindAddressFromEnv({ BIND_ADDRESS: '127.0.0.1' });

    const started = await start({}, host);

    expect(host).toBe('127.0.0.1');
    expect((await fetch(`http://127.0.0.1:${started.port}/healthz`)).status).toBe(200);
    // The same port on another loopback address of this host has nobody listening.
    await expect(fetch(`http://127.0.0.2:${started.port}/healthz`)).rejects.toThrow();
  });

  it.each([
    ['unset', {}, undefined],
    ['empty', { BIND_ADDRESS: ' ' }, undefined],
    ['an IPv4 address', { BIND_ADDRESS: '10.0.0.7' }, '10.0.0.7'],
    ['every IPv6 interface', { BIND_ADDRESS: '::' }, '::'],
    ['localhost', { BIND_ADDRESS: 'localhost' }, 'localhost'],
  ])('reads BIND_ADDRESS %s', (_title, env, expected) => {
    expect(bindAddressFromEnv(env)).toBe(expected);
  });

  it('refuses a BIND_ADDRESS that is not an address, naming the variable', () => {
    expect(() => bindAddressFromEnv({ BIND_ADDRESS: 'eth0' })).toThrow(SettingsError);
    expect(() => bindAddressFromEnv({ BIND_ADDRESS: 'eth0' })).toThrow(/BIND_ADDRESS is "eth0"/);
  });

  it('fails to start, naming BIND_ADDRESS, on an address this host does not have', async () => {
    await expect(start({}, '192.0.2.1')).rejects.toThrow(/cannot listen on 192\.0\.2\.1:0 \(BIND_ADDRESS, PORT\)/);
  });
});

async function waitUntil<T>(probe: () => T | false | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== false && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
