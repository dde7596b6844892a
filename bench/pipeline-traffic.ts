import { Agent, request } from 'node:http';
import { pullRequestCommentPayload, signWebhook, startPipeline, type Pipeline, type ServiceName } from '@bowline/testing';

// What the pipeline benchmarks (e2e, burst, economy) share: the pipeline as the tests run it, pull
// requests to comment on, signed comments, and a keep-alive sender.

export const ORG = 'acme';
export const COMMENTER = 'alice';

/** A distinct 40-hex head commit for pull request `n` of repository `repoIndex`. */
export function headSha(n: number, repoIndex = 0): string {
  return `${repoIndex.toString(16).padStart(8, '0')}${n.toString(16).padStart(32, '0')}`;
}

/** Config with `jobs` Jenkins presubmits (`job-0` …) that always run, on each of `repos`. */
export function presubmitConfig(repos: readonly string[], jobs: number, extra = ''): string {
  const list = Array.from({ length: jobs }, (_, i) => `  - name: job-${i}\n    agent: jenkins\n    always_run: true\n    context: ci/jenkins/job-${i}\n`).join('');
  return `presubmits:\n${repos.map((repo) => `  ${ORG}/${repo}:\n${list}`).join('')}${extra}`;
}

export interface BenchPipelineOptions {
  config: string;
  /** A directory for each service's `--cpu-prof` profile, written when it stops. */
  profileDir?: string;
  logLevel?: string;
}

/**
 * The five services as processes from dist/, on a real nats-server, with the test GitHub and
 * Jenkins, exactly as tests/pipeline.test.ts starts them (`startPipeline`); GitHub's write pacer is
 * the tests' 0 s, as the test GitHub asks for no pause between writes.
 */
export async function startBenchPipeline(options: BenchPipelineOptions): Promise<Pipeline> {
  const nodeArgs = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  const pipeline = await startPipeline({ config: options.config, logLevel: options.logLevel ?? 'info', nodeArgs });
  pipeline.github.addOrgMember(ORG, COMMENTER);
  return pipeline;
}

/** Stops one service with SIGTERM, as Kubernetes does, so a `--cpu-prof` profile is written. */
export async function stopService(pipeline: Pipeline, name: ServiceName): Promise<void> {
  const child = pipeline.services[name].process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export interface SignedDelivery {
  headers: Record<string, string>;
  body: Buffer;
}

/** A `/test` comment by an org member on a pull request, signed before anything is timed. */
export function signedComment(pipeline: Pipeline, repo: string, number: number, body: string, deliveryId: string): SignedDelivery {
  const payload = pullRequestCommentPayload({ org: ORG, repo, number, commenter: COMMENTER, body, prAuthor: COMMENTER });
  const signed = signWebhook({ event: 'issue_comment', payload, secret: pipeline.webhookSecret, deliveryId });
  const bytes = Buffer.from(signed.body);
  return { headers: { ...signed.headers, 'content-length': String(bytes.length) }, body: bytes };
}

/** Sends webhooks over kept-alive connections, as GitHub does to a busy hook. */
export class WebhookSender {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly url: URL;

  constructor(hookUrl: string) {
    this.url = new URL(hookUrl);
  }

  /** Resolves with the hook's status, or 0 and the error's code when there was no answer. */
  send(delivery: SignedDelivery): Promise<{ status: number; error?: string }> {
    return new Promise((resolve) => {
      const req = request(
        { agent: this.agent, host: this.url.hostname, port: this.url.port, path: this.url.pathname, method: 'POST', headers: delivery.headers },
        (res) => {
          res.resume();
          res.once('end', () => resolve({ status: res.statusCode ?? 0 }));
          res.once('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, error: error.code ?? error.message }));
        },
      );
      req.setTimeout(10_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.once('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, error: error.code ?? error.message }));
      req.end(delivery.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A status POST recorded by the test GitHub: `/repos/<org>/<repo>/statuses/<sha>`. */
export function statusWrite(method: string, path: string, body: string): { repo: string; sha: string; state: string; context: string } | undefined {
  if (method !== 'POST') return undefined;
  const match = /^\/repos\/[^/]+\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(path);
  if (!match) return undefined;
  const { state, context } = JSON.parse(body) as { state: string; context: string };
  return { repo: match[1]!, sha: match[2]!, state, context };
}
