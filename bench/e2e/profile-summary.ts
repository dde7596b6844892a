import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

// Reads the services' `--cpu-prof` profiles of an e2e run (`--profile DIR`) and says where their
// time went: self time by function, and the longest stretches in which the event loop never went
// idle (what holds a webhook back), with the functions that filled them.

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

const IDLE = new Set(['(idle)', '(program)']);

function frameName(node: Node): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|services|libs)\//, '$1/');
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
}

export interface ProfileSummary {
  file: string;
  seconds: number;
  busyShare: number;
  gcShare: number;
  top: Array<[string, number]>;
  stretches: Array<{ atSeconds: number; ms: number; top: Array<[string, number]> }>;
}

/** `stretchMs`: the shortest busy stretch reported. */
export function summarise(file: string, stretchMs = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  let busy = 0;
  let gc = 0;
  const stretches: ProfileSummary['stretches'] = [];
  let current: { start: number; ms: number; frames: Map<string, number> } | undefined;
  let clock = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    clock += dt;
    total += dt;
    const node = byId.get(id)!;
    const name = node.callFrame.functionName;
    const idle = IDLE.has(name);
    if (!idle) {
      busy += dt;
      if (name === '(garbage collector)') gc += dt;
      const frame = frameName(node);
      self.set(frame, (self.get(frame) ?? 0) + dt);
      current ??= { start: clock, ms: 0, frames: new Map() };
      current.ms += dt;
      current.frames.set(frame, (current.frames.get(frame) ?? 0) + dt);
    } else if (current) {
      if (current.ms >= stretchMs) stretches.push({ atSeconds: current.start / 1000, ms: current.ms, top: [...current.frames].sort((a, b) => b[1] - a[1]).slice(0, 4) });
      current = undefined;
    }
  });
  return {
    file: basename(file),
    seconds: total / 1000,
    busyShare: busy / total,
    gcShare: gc / Math.max(busy, 1),
    top: [...self].sort((a, b) => b[1] - a[1]).slice(0, 12),
    stretches: stretches.sort((a, b) => b.ms - a.ms).slice(0, 8),
  };
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node bench/dist/e2e/profile-summary.js DIR   (a directory of .cpuprofile files from npm run bench:e2e -- --profile DIR)');
    process.exit(2);
  }
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const s = summarise(join(dir, name));
    console.log(`\n${s.file}: ${s.seconds.toFixed(1)} s profiled, busy ${(s.busyShare * 100).toFixed(1)} %, of which GC ${(s.gcShare * 100).toFixed(1)} %`);
    console.log('  self time:');
    for (const [frame, ms] of s.top) console.log(`    ${ms.toFixed(0).padStart(7)} ms  ${frame}`);
    console.log('  longest stretches without an idle moment:');
    for (const stretch of s.stretches) {
      console.log(`    ${stretch.ms.toFixed(0).padStart(5)} ms at ${stretch.atSeconds.toFixed(1)} s: ${stretch.top.map(([f, t]) => `${f} (${t.toFixed(0)} ms)`).join(', ')}`);
    }
  }
}
