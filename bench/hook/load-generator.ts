import { Agent, request, type OutgoingHttpHeaders } from 'node:http';

export interface PreparedRequest {
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

export interface LoadOptions {
  port: number;
  path: string;
  /** Requests in flight at every moment: a closed loop, each worker sends its next on an answer. */
  concurrency: number;
  warmupMs: number;
  /** The measured phase ends after this long, or after `requests` requests when that is set. */
  durationMs: number;
  requests?: number;
  /** Abandons a request that has no answer after this long, and counts it as an error. */
  timeoutMs: number;
  /** The next request to send; must be cheap, since it runs inside the measured loop. */
  next: () => PreparedRequest;
}

export interface LoadResult {
  /** Requests sent in the measured phase. */
  requests: number;
  /** Answers with status 202. */
  accepted: number;
  /** Everything else, by status code or error code. */
  errors: Map<string, number>;
  errorCount: number;
  elapsedSeconds: number;
  acceptedPerSecond: number;
  /** Latency percentiles of accepted requests, in milliseconds; NaN when none was accepted. */
  p50: number;
  p90: number;
  p99: number;
}

type Answer = { status: number } | { error: string };

/** A warm-up phase (not measured), then the measured phase, on one keep-alive agent. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  // One socket per worker, reused: connection set-up is not what is being measured, and GitHub
  // itself keeps connections to a busy hook open.
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  try {
    await runPhase(agent, options, { until: Date.now() + options.warmupMs });
    return await runPhase(agent, options, {
      until: options.requests === undefined ? Date.now() + options.durationMs : Infinity,
      limit: options.requests,
    });
  } finally {
    agent.destroy();
  }
}

async function runPhase(agent: Agent, options: LoadOptions, end: { until: number; limit?: number }): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let sent = 0;
  let accepted = 0;
  const more = (): boolean => (end.limit === undefined ? Date.now() < end.until : sent < end.limit);

  const worker = async (): Promise<void> => {
    while (more()) {
      sent += 1;
      const { headers, body } = options.next();
      const started = process.hrtime.bigint();
      const answer = await send(agent, options, headers, body);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if ('status' in answer && answer.status === 202) {
        accepted += 1;
        latencies.push(ms);
      } else {
        const kind = 'status' in answer ? String(answer.status) : answer.error;
        errors.set(kind, (errors.get(kind) ?? 0) + 1);
      }
    }
  };

  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  // Requests in flight when the time is up are waited for and counted, so the divisor includes
  // their time too.
  const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: sent,
    accepted,
    errors,
    errorCount: sent - accepted,
    elapsedSeconds,
    acceptedPerSecond: accepted / elapsedSeconds,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
  };
}

/** Nearest-rank percentile of ascending values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

function send(agent: Agent, options: LoadOptions, headers: OutgoingHttpHeaders, body: Buffer): Promise<Answer> {
  return new Promise<Answer>((resolve) => {
    const req = request(
      { agent, host: '127.0.0.1', port: options.port, path: options.path, method: 'POST', headers },
      (res) => {
        // The answer is complete, and the socket free for the next request, only once the body is read.
        res.resume();
        res.once('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.once('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
      },
    );
    req.setTimeout(options.timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.once('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end(body);
  });
}
