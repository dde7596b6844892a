import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';

export interface ClusterMember {
  name: string;
  url: string;
  port: number;
  /** SIGKILL: the member vanishes mid-flight, its store kept for `restart()`. */
  kill(): Promise<void>;
  /**
   * Stops the member as Kubernetes stops its pod: the NATS chart's preStop hook puts the server in
   * lame-duck mode (`nats-server --signal ldm`, SIGUSR2), in which it hands its Raft leaderships to
   * the other members, then closes its clients over the next two minutes (nats-server's minimum is
   * 30 s): `kill()` ends it sooner, as Kubernetes does when the pod's grace period is over.
   */
  lameDuck(): void;
  restart(): Promise<void>;
  running(): boolean;
}

export interface NatsCluster {
  members: ClusterMember[];
  /** Every member's client URL, comma-separated, as `NATS_URL` takes them. */
  url: string;
  /** Kills every member and removes their stores. */
  stop(): Promise<void>;
}

/**
 * A real JetStream cluster of `size` nats-servers on loopback, each with its own ports and store,
 * as the chart's production values run (3 servers, replicated streams). Resolves once every member
 * accepts clients and JetStream reports ready; a stream with replicas then still needs its own
 * leader election, which the client's first request to it waits for.
 */
export async function startNatsCluster(options: { size?: number; binary?: string; name?: string } = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const binary = options.binary ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  const clusterName = options.name ?? 'bowline-test';
  const root = mkdtempSync(join(tmpdir(), 'bowline-nats-cluster-'));
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  for (let i = 0; i < size; i += 1) {
    clientPorts.push(await freePort());
    routePorts.push(await freePort());
  }
  const routes = routePorts.map((port) => `nats-route://127.0.0.1:${port}`);

  const members = clientPorts.map((port, i): ClusterMember & { launch(): Promise<void>; waitForMetaLeader(timeoutMs: number): Promise<void> } => {
    const name = `n${i + 1}`;
    const configFile = join(root, `${name}.conf`);
    const storeDir = join(root, name);
    // A config file rather than flags: nats-server 2.9 takes the JetStream store and server name
    // per member only this way when several share one machine.
    writeFileSync(
      configFile,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${port}`,
        `jetstream { store_dir: "${storeDir}" }`,
        `cluster {`,
        `  name: ${clusterName}`,
        `  listen: 127.0.0.1:${routePorts[i]}`,
        `  routes: [${routes.filter((_, j) => j !== i).join(', ')}]`,
        `}`,
        '',
      ].join('\n'),
    );
    let child: ChildProcess | undefined;
    let output = '';
    const launch = async (): Promise<void> => {
      output = '';
      const proc = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      proc.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<never>((_, reject) => {
        proc.once('error', (error) => reject(new Error(`cannot run ${binary}: ${error.message} (install it: apt-get install -y nats-server)`)));
        proc.once('exit', (code) => reject(new Error(`${binary} ${name} exited with ${code} before accepting connections:\n${output}`)));
      });
      exited.catch(() => undefined);
      await Promise.race([waitForPort(port), exited]);
    };
    // Each member logs the JetStream meta leader once the cluster has elected one; until then
    // every JetStream request is answered "jetstream is not enabled" or times out.
    const waitForMetaLeader = async (timeoutMs: number): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      while (!/metadata leader/.test(output)) {
        if (Date.now() > deadline) throw new Error(`nats-server ${name}: no JetStream meta leader after ${timeoutMs} ms:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const kill = async (): Promise<void> => {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGKILL');
      await gone;
    };
    return {
      name,
      port,
      url: `nats://127.0.0.1:${port}`,
      launch,
      waitForMetaLeader,
      kill,
      lameDuck: () => void child?.kill('SIGUSR2'),
      restart: launch,
      running: () => child !== undefined && child.exitCode === null,
    };
  });

  try {
    await Promise.all(members.map((member) => member.launch()));
    await Promise.all(members.map((member) => member.waitForMetaLeader(30_000)));
  } catch (error) {
    await Promise.all(members.map((member) => member.kill()));
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    members,
    url: members.map((member) => member.url).join(','),
    stop: async () => {
      await Promise.all(members.map((member) => member.kill()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
