import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** Stops the server but keeps its JetStream store, so `restart()` brings the same data back. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server and removes its store. */
  stop(): Promise<void>;
}

/**
 * Starts a real `nats-server` with JetStream on a free port and its own temporary store, and
 * resolves once it accepts connections.
 */
export async function startNats(options: { binary?: string; config?: string } = {}): Promise<NatsServer> {
  const binary = options.binary ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'bowline-nats-'));
  // A server configuration (accounts, users …) given as text: the command line's flags still set
  // the port, the address and the store, which win over the file's.
  const configFile = options.config === undefined ? undefined : join(storeDir, 'server.conf');
  if (configFile) writeFileSync(configFile, options.config!);
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async (): Promise<void> => {
    output = '';
    const proc = spawn(binary, [...(configFile ? ['-c', configFile] : []), '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<never>((_, reject) => {
      proc.once('error', (error) => reject(new Error(`cannot run ${binary}: ${error.message} (install it: apt-get install -y nats-server)`)));
      proc.once('exit', (code) => reject(new Error(`${binary} exited with ${code} before accepting connections:\n${output}`)));
    });
    await Promise.race([waitForPort(port), exited]);
    // JetStream is ready a moment after the port opens; the log line says so.
    const deadline = Date.now() + 10_000;
    while (!/Server is ready/.test(output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    kill,
    restart: launch,
    stop: async () => {
      await kill();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
