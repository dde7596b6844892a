import { spawn } from 'node:child_process';

export interface ChildServer {
  name: string;
  /** The process id, to read its memory. */
  pid: number | undefined;
  /** Set once the process has exited; a server that exits during a run invalidates it. */
  exitCode(): number | string | null;
  /** The last lines it wrote, to show when it failed. */
  output(): string;
  /** SIGTERM, then SIGKILL when it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Keeps only the tail of a child's output: a crash report needs the end, not megabytes. */
const OUTPUT_LIMIT = 16 * 1024;

/**
 * Starts `node script` with exactly `env` (nothing inherited beyond PATH and HOME, so the run does
 * not depend on the caller's NODE_OPTIONS or LOG_LEVEL) and resolves once `ready` resolves;
 * rejects, with what the process wrote, when it exits first.
 */
export async function startChildServer(
  name: string,
  script: string,
  env: Record<string, string>,
  ready: (running: () => boolean) => Promise<unknown>,
): Promise<ChildServer> {
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exit: number | string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = code ?? signal ?? 'unknown';
      resolve();
    });
    child.once('error', (error) => {
      exit = error.message;
      resolve();
    });
  });

  const server: ChildServer = {
    name,
    pid: child.pid,
    exitCode: () => exit,
    output: () => output,
    stop: async (graceMs = 5000) => {
      if (exit !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await Promise.race([
      // `running` lets the readiness probe give up at once, instead of polling a dead process.
      ready(() => exit === null),
      exited.then(() => {
        throw new Error(`${name} exited (${String(exit)}) before it was ready:\n${output}`);
      }),
    ]);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}
