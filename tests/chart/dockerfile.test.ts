import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ROOT, SERVICES } from './fixtures.js';

// The Dockerfile checked against the workspace layout, without docker: every service and the cli
// get a target whose image holds the workspaces they run, production dependencies only, a
// numeric non-root user and no shell.


interface Stage {
  name: string;
  from: string;
  copies: { from?: string; sources: string[]; dest: string }[];
  runs: string[];
  env: Record<string, string>;
  user?: string;
  cmd?: string;
  entrypoint?: string;
}

function parseDockerfile(text: string): Stage[] {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [instruction, ...words] = line.split(/\s+/);
    const rest = line.slice(instruction!.length).trim().replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
    const stage = stages.at(-1);
    switch (instruction!.toUpperCase()) {
      case 'ARG': {
        const [name, value] = rest.split('=');
        args[name!] = value ?? '';
        break;
      }
      case 'FROM': {
        const [, image, name] = /^(\S+)\s+AS\s+(\S+)$/i.exec(rest) ?? [];
        const parent = stages.find((s) => s.name === image);
        stages.push({ name: name ?? String(stages.length), from: image ?? rest, copies: [], runs: [], env: { ...parent?.env } });
        break;
      }
      case 'COPY': {
        const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
        stage!.copies.push({ from, sources: words.slice(0, -1), dest: words.at(-1)! });
        break;
      }
      case 'RUN':
        stage!.runs.push(rest);
        break;
      case 'ENV': {
        const [name, value] = rest.split('=');
        stage!.env[name!] = value!;
        break;
      }
      case 'USER':
        stage!.user = rest;
        break;
      case 'CMD':
        stage!.cmd = rest;
        break;
      case 'ENTRYPOINT':
        stage!.entrypoint = rest;
        break;
    }
  }
  return stages;
}

/** The stage and the stages it is built FROM, nearest first. */
function chainOf(stages: Stage[], name: string): Stage[] {
  const chain: Stage[] = [];
  for (let stage = stages.find((s) => s.name === name); stage; stage = stages.find((s) => s.name === stage!.from)) chain.push(stage);
  return chain;
}

/**
 * Paths a chain of stages puts under WORKDIR (/app), as `libs/bus/dist`, `node_modules`. A copy
 * of another stage's whole WORKDIR (`COPY --from=manifests /app ./`) brings what that stage put there.
 */
function copiedPaths(chain: Stage[], stages: Stage[] = []): Set<string> {
  const paths = new Set<string>();
  for (const stage of chain) {
    for (const copy of stage.copies) {
      if (copy.from && copy.sources.length === 1 && /^\/app\/?$/.test(copy.sources[0]!)) {
        for (const path of copiedPaths(chainOf(stages, copy.from), stages)) paths.add(path);
        continue;
      }
      for (const source of copy.sources) {
        const dest = copy.dest.endsWith('/') ? `${copy.dest}${basename(source)}` : copy.dest;
        paths.add(dest.replace(/^\.\//, '').replace(/\/$/, ''));
      }
    }
  }
  return paths;
}

interface PackageJson {
  name: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
}
const readPackage = (dir: string): PackageJson => JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as PackageJson;

/** Workspace directories, from the root package.json's list (globs such as services/* expanded). */
const workspaces = readPackage('.').workspaces!.flatMap((entry) =>
  entry.endsWith('/*')
    ? readdirSync(join(ROOT, entry.slice(0, -2)))
        .map((name) => `${entry.slice(0, -2)}/${name}`)
        .filter((dir) => existsSync(join(ROOT, dir, 'package.json')))
    : [entry],
);
const workspaceByName = new Map(workspaces.map((dir) => [readPackage(dir).name, dir]));

/** The workspaces a workspace needs at run time: itself and its @bowline dependencies, transitively. */
function runtimeWorkspaces(dir: string, seen = new Set<string>()): Set<string> {
  seen.add(dir);
  for (const name of Object.keys(readPackage(dir).dependencies ?? {})) {
    const dep = workspaceByName.get(name);
    if (dep && !seen.has(dep)) runtimeWorkspaces(dep, seen);
  }
  return seen;
}

describe('the Dockerfile', () => {
  const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const targets = [...SERVICES.map((s) => [s, `services/${s}`] as const), ['cli', 'cli'] as const];
  const installs = stages.filter((s) => s.runs.some((r) => /\bnpm ci\b/.test(r)));
  const prodDeps = installs.filter((s) => s.runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r)));

  it('has a build target for every service in services/, and for the cli', () => {
    expect(targets.map(([name]) => name).filter((name) => !stages.some((s) => s.name === name))).toEqual([]);
  });

  it('starts each service with node services/<name>/dist/main.js in exec form', () => {
    for (const service of SERVICES) {
      expect(stages.find((s) => s.name === service)?.cmd).toBe(JSON.stringify([`services/${service}/dist/main.js`]));
    }
  });

  it('gives npm ci the lock file and every workspace\'s package.json, and installs production dependencies apart', () => {
    expect(installs.length).toBeGreaterThanOrEqual(2);
    expect(prodDeps).toHaveLength(1);
    for (const stage of installs) {
      const copied = copiedPaths([stage], stages);
      const needed = ['package.json', 'package-lock.json', ...workspaces.map((dir) => `${dir}/package.json`)];
      expect(needed.filter((path) => !copied.has(path))).toEqual([]);
    }
  });

  it.each(targets)('copies into the %s image the package.json and dist of every workspace it runs, and production node_modules only', (name, dir) => {
    const chain = chainOf(stages, name);
    const copied = copiedPaths(chain, stages);
    const needed = [...runtimeWorkspaces(dir)].flatMap((ws) => [`${ws}/package.json`, `${ws}/dist`]);
    expect(needed.filter((path) => !copied.has(path))).toEqual([]);
    const nodeModules = chain.flatMap((s) => s.copies).filter((c) => c.dest === 'node_modules');
    expect(nodeModules.map((c) => c.from)).toEqual([prodDeps[0]!.name]);
  });

  it.each(targets)('runs the %s image as a numeric non-root user, with NODE_ENV=production and no shell', (name, _dir) => {
    const chain = chainOf(stages, name);
    const user = chain.find((s) => s.user !== undefined)?.user ?? '0';
    expect(user).toMatch(/^[1-9][0-9]*(:[0-9]+)?$/);
    expect(chain[0]!.env.NODE_ENV).toBe('production');
    expect(chain.at(-1)!.from).toMatch(/^gcr\.io\/distroless\/nodejs/);
    for (const form of [chain.find((s) => s.cmd)?.cmd, chain.find((s) => s.entrypoint)?.entrypoint].filter(Boolean)) {
      expect(() => JSON.parse(form!) as unknown).not.toThrow();
    }
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist']));
    const fromContext = stages.flatMap((s) => s.copies.filter((c) => !c.from).flatMap((c) => c.sources));
    expect(fromContext.filter((source) => !existsSync(join(ROOT, source)))).toEqual([]);
    const ignoredTopLevel = new Set(ignored.filter((l) => l && !l.startsWith('#') && !l.includes('/') && !l.includes('*')));
    expect(fromContext.filter((source) => ignoredTopLevel.has(source.split('/')[0]!))).toEqual([]);
    expect(fromContext.filter((source) => statSync(join(ROOT, source)).isDirectory() && source.split('/').includes('dist'))).toEqual([]);
  });

  it('is built by `make images` for every target', () => {
    const makefile = readFileSync(join(ROOT, 'Makefile'), 'utf8');
    const images = /^IMAGES\s*:?=\s*(.*)$/m.exec(makefile)?.[1]?.trim().split(/\s+/) ?? [];
    expect(images.sort()).toEqual(targets.map(([name]) => name).sort());
  });
});
