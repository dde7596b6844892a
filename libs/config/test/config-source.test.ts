import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { createLogger } from '@bowline/observability';
import { waitFor } from '@bowline/testing';
import { watchConfigFile, type WatchedConfig } from '../src/config-source.js';
import { ConfigError } from '../src/problems.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const jobs = (...names: string[]) => `presubmits:\n  o/r:\n${names.map((n) => `  - name: ${n}\n    agent: jenkins\n`).join('')}`;

async function metric(registry: Registry, name: string): Promise<number | undefined> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return found?.values[0]?.value;
}

describe('live reload of config.yaml', () => {
  let watched: WatchedConfig | undefined;
  afterEach(() => watched?.stop());

  it('takes a changed file into effect without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bowline-reload-'));
    writeFileSync(join(dir, 'config.yaml'), jobs('unit'));
    watched = watchConfigFile({ path: join(dir, 'config.yaml'), logger, pollMs: 60_000 });
    expect(watched.get().presubmits['o/r']!.map((j) => j.name)).toEqual(['unit']);
    writeFileSync(join(dir, 'config.yaml'), jobs('unit', 'lint'));
    // Found by the directory watcher, not by the (one minute) poll.
    await waitFor('the new config', () => watched!.get().presubmits['o/r']!.length === 2);
  });

  it("follows a Kubernetes ConfigMap's symlink swap", async () => {
    // How kubelet updates a ConfigMap volume: files live in a timestamped directory, `..data`
    // links to it, `config.yaml` links to `..data/config.yaml`; an update swaps `..data` atomically.
    const dir = mkdtempSync(join(tmpdir(), 'bowline-configmap-'));
    mkdirSync(join(dir, '..2026_01_01_v1'));
    writeFileSync(join(dir, '..2026_01_01_v1', 'config.yaml'), jobs('unit'));
    symlinkSync('..2026_01_01_v1', join(dir, '..data'));
    symlinkSync('..data/config.yaml', join(dir, 'config.yaml'));
    watched = watchConfigFile({ path: join(dir, 'config.yaml'), logger, pollMs: 60_000 });

    mkdirSync(join(dir, '..2026_01_02_v2'));
    writeFileSync(join(dir, '..2026_01_02_v2', 'config.yaml'), jobs('unit', 'e2e'));
    symlinkSync('..2026_01_02_v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    await waitFor('the swapped config', () => watched!.get().presubmits['o/r']!.length === 2);
  });

  it('keeps the last good config when the new file is invalid, and says so in /metrics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bowline-reload-'));
    const registry = new Registry();
    writeFileSync(join(dir, 'config.yaml'), jobs('unit'));
    watched = watchConfigFile({ path: join(dir, 'config.yaml'), logger, registry, pollMs: 60_000 });
    expect(await metric(registry, 'bowline_config_last_reload_successful')).toBe(1);

    writeFileSync(join(dir, 'config.yaml'), `${jobs('unit')}    always_run: perhaps\n`);
    await waitFor('the rejection', async () => (await metric(registry, 'bowline_config_last_reload_successful')) === 0);
    expect(watched.get().presubmits['o/r']!.map((j) => j.name)).toEqual(['unit']);
    expect((await registry.getMetricsAsJSON()).find((m) => m.name === 'bowline_config_reloads_total')?.values).toEqual([
      expect.objectContaining({ labels: { result: 'failure' }, value: 1 }),
    ]);

    writeFileSync(join(dir, 'config.yaml'), jobs('unit', 'lint'));
    await waitFor('the fixed config', () => watched!.get().presubmits['o/r']!.length === 2);
    expect(await metric(registry, 'bowline_config_last_reload_successful')).toBe(1);
  });

  it('reloads job files of the job config directory too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bowline-reload-'));
    mkdirSync(join(dir, 'jobs'));
    writeFileSync(join(dir, 'config.yaml'), 'sinker: {}\n');
    writeFileSync(join(dir, 'jobs', 'r.yaml'), jobs('unit'));
    watched = watchConfigFile({ path: join(dir, 'config.yaml'), jobConfigDir: join(dir, 'jobs'), logger, pollMs: 60_000 });
    writeFileSync(join(dir, 'jobs', 'r.yaml'), jobs('unit', 'lint'));
    expect(watched.check()).toBe(true);
    expect(watched.get().presubmits['o/r']!.length).toBe(2);
    expect(watched.check()).toBe(false);
  });

  it('refuses to start on an invalid file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bowline-reload-'));
    writeFileSync(join(dir, 'config.yaml'), 'presubmits: [\n');
    expect(() => watchConfigFile({ path: join(dir, 'config.yaml'), logger })).toThrow(ConfigError);
  });
});
