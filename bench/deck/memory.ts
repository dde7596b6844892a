import { readFile } from 'node:fs/promises';

/**
 * The deck's memory at one moment, in MiB: what the kernel counts (VmRSS now, VmHWM the peak since
 * the process started) beside what V8 says its heap holds, from the deck's own /metrics
 * (prom-client's default process metrics), so a figure can be told apart into heap and the rest.
 */
export interface MemorySample {
  rss: number;
  /** The most VmRSS ever was, startup included: a sample taken later cannot miss a spike. */
  peak: number;
  /** V8's heap as reserved from the system, and what of it holds objects (garbage included until collected). */
  heapTotal: number;
  heapUsed: number;
  /** Buffers and other memory outside V8's heap that V8 knows of. */
  external: number;
}

const MIB = 1024 * 1024;

export async function memorySample(pid: number | undefined, baseUrl: string): Promise<MemorySample> {
  const status = pid === undefined ? '' : await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kernel = (field: string): number => {
    const kib = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1];
    return kib === undefined ? Number.NaN : Number(kib) / 1024;
  };
  const metrics = await fetch(`${baseUrl}/metrics`).then((r) => r.text(), () => '');
  const metric = (name: string): number => {
    const value = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1];
    return value === undefined ? Number.NaN : Number(value) / MIB;
  };
  return {
    rss: kernel('VmRSS'),
    peak: kernel('VmHWM'),
    heapTotal: metric('nodejs_heap_size_total_bytes'),
    heapUsed: metric('nodejs_heap_size_used_bytes'),
    external: metric('nodejs_external_memory_bytes'),
  };
}

/** 200 MB as the issue writes it, in the MiB the kernel's figures are printed in. */
export const MB_IN_MIB = 1e6 / MIB;
