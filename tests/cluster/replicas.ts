import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort, REPO_ROOT, SERVICES, type ServiceName } from '@bowline/testing';

/** One service process of the cluster test, started from its built `dist/main.js`. */
export interface ReplicaProcess {
  service: ServiceName;
  /** `HOSTNAME`, which a lease holder's id starts with: `jenkins-operator-1`. */
  id: string;
  port: number;
  process: ChildProcess;
  logs: string[];
  /** The exit code or signal, once it ended. */
  exited(): string | undefined;
  ready(): Promise<boolean>;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `count` replicas of every service, all launched at the same moment, as ten pods of a fresh
 * release start together (issue 15: replicas then exited with "cannot start: timeout"). Each has
 * its own port and `HOSTNAME`, and the same environment otherwise.
 */
export async function launchReplicas(env: Record<string, string>, count: number): Promise<ReplicaProcess[]> {
  const plan = SERVICES.flatMap((service) => Array.from({ length: count }, (_, i) => ({ service, id: `${service}-${i}` })));
  const ports = await Promise.all(plan.map(() => freePort()));
  return plan.map(({ service, id }, i) => launch(service, id, ports[i]!, env));
}

function launch(service: ServiceName, id: string, port: number, env: Record<string, string>): ReplicaProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'services', service, 'dist', 'main.js')], {
    env: { ...env, PORT: String(port), HOSTNAME: id },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer): void => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    logs.push(...lines);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const exited = (): string | undefined => (child.exitCode !== null ? `exit ${child.exitCode}` : (child.signalCode ?? undefined));
  return {
    service,
    id,
    port,
    process: child,
    logs,
    exited,
    ready: async () => {
      if (exited()) return false;
      try {
        return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
      } catch {
        return false;
      }
    },
    kill: async () => {
      if (exited()) return;
      child.kill('SIGKILL');
      await ended;
    },
    stop: async () => {
      if (exited()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await ended;
      clearTimeout(timer);
    },
  };
}
