import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeGitHub } from './github-server.js';
import { FakeJenkins } from './jenkins-server.js';
import { startNats, type NatsServer } from './nats-server.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';
import { sendWebhook, signWebhook } from './webhooks.js';

/** The repository root, from libs/testing/src or libs/testing/dist alike. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export const SERVICES = ['hook', 'planner', 'jenkins-operator', 'reporter', 'sinker'] as const;
export type ServiceName = (typeof SERVICES)[number];
/** The services a pipeline may run: the five, and kube-bridge when given a cluster. */
export type PipelineService = ServiceName | 'kube-bridge';

export interface RunningService {
  name: PipelineService;
  port: number;
  process: ChildProcess;
  /** Everything the service wrote, one pino JSON line per entry. */
  logs: string[];
}

export interface PipelineOptions {
  /** config.yaml text. */
  config: string;
  webhookSecret?: string;
  /** More tokens the GitHub stand-in takes besides the services' own (`test-token`): tenants' own identities. */
  githubTokens?: string[];
  /** Called with each log line of every service (the demo prints a few of them). */
  onLog?: (service: PipelineService, line: string) => void;
  logLevel?: string;
  /** A kubeconfig file (the test API server's): kube-bridge runs too, with `KUBECONFIG` naming it. */
  kubeconfig?: string;
  /** Node options for every service, before its script (the benchmarks' `--cpu-prof`). */
  nodeArgs?: string[];
}

export interface Pipeline {
  nats: NatsServer;
  github: FakeGitHub;
  jenkins: FakeJenkins;
  services: Record<ServiceName, RunningService> & { 'kube-bridge'?: RunningService };
  hookUrl: string;
  webhookSecret: string;
  workDir: string;
  /** Signs and sends a webhook to the hook; returns its answer. */
  deliver(event: string, payload: unknown, deliveryId?: string): Promise<{ status: number; body: string }>;
  /** Starts one service again after `kill` (a crash and restart). */
  restart(name: PipelineService): Promise<void>;
  kill(name: PipelineService): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the whole pipeline as in production: a real nats-server, the five services as child
 * processes from their built `dist/main.js`, and the local GitHub and Jenkins stand-ins.
 */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const workDir = mkdtempSync(join(tmpdir(), 'bowline-pipeline-'));
  const webhookSecret = options.webhookSecret ?? 'demo-webhook-secret';
  const files = {
    config: join(workDir, 'config.yaml'),
    webhookSecret: join(workDir, 'webhook-secret'),
    githubToken: join(workDir, 'github-token'),
    jenkinsToken: join(workDir, 'jenkins-token'),
  };
  writeFileSync(files.config, options.config);
  writeFileSync(files.webhookSecret, `${webhookSecret}\n`);
  writeFileSync(files.githubToken, 'test-token\n');
  writeFileSync(files.jenkinsToken, 'jenkins-token\n');

  const nats = await startNats();
  const github = await FakeGitHub.start({ tokens: ['test-token', ...(options.githubTokens ?? [])] });
  const jenkins = await FakeJenkins.start({ user: 'bowline', apiToken: 'jenkins-token' });

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    NATS_URL: nats.url,
    BOWLINE_CONFIG: files.config,
    LOG_LEVEL: options.logLevel ?? 'info',
    GITHUB_WEBHOOK_SECRET_FILE: files.webhookSecret,
    GITHUB_API_URL: github.url,
    GITHUB_TOKEN_FILE: files.githubToken,
    // GitHub asks for a second between writes; the local stand-in does not.
    GITHUB_WRITE_INTERVAL: '0s',
    JENKINS_URL: jenkins.url,
    JENKINS_USER: 'bowline',
    JENKINS_TOKEN_FILE: files.jenkinsToken,
    ...(options.kubeconfig ? { KUBECONFIG: options.kubeconfig } : {}),
  };
  const launched: PipelineService[] = [...SERVICES, ...(options.kubeconfig ? (['kube-bridge'] as const) : [])];

  const services = {} as Pipeline['services'];
  const launch = async (name: PipelineService, port: number): Promise<void> => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), join(REPO_ROOT, 'services', name, 'dist', 'main.js')], {
      env: { ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const known = services[name];
    const service: RunningService = known ? { ...known, process: child } : { name, port, process: child, logs: [] };
    services[name] = service;
    let partial = '';
    const collect = (chunk: Buffer): void => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        service.logs.push(line);
        options.onLog?.(name, line);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    await waitFor(`${name} to be ready on port ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${service.logs.join('\n')}`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
      } catch {
        return false;
      }
    });
  };
  const kill = async (name: PipelineService): Promise<void> => {
    const child = services[name]?.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  };

  const stop = async (): Promise<void> => {
    await Promise.all(
      launched.map(async (name) => {
        const child = services[name]?.process;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await Promise.all([github.close(), jenkins.close(), nats.stop()]);
    rmSync(workDir, { recursive: true, force: true });
  };

  try {
    const ports = await Promise.all(launched.map(() => freePort()));
    await Promise.all(launched.map((name, i) => launch(name, ports[i]!)));
  } catch (error) {
    await stop();
    throw error;
  }
  const hookUrl = `http://127.0.0.1:${services.hook.port}/hook`;
  return {
    nats,
    github,
    jenkins,
    services,
    hookUrl,
    webhookSecret,
    workDir,
    deliver: (event, payload, deliveryId) => sendWebhook(hookUrl, signWebhook({ event, payload, secret: webhookSecret, deliveryId })),
    restart: (name) => launch(name, services[name]!.port),
    kill,
    stop,
  };
}
