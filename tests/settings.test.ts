import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '@bowline/testing';

// Each service must refuse to start, at once and before touching NATS, when a setting it needs is
// missing, and say which variable to set.
const dir = mkdtempSync(join(tmpdir(), 'bowline-settings-'));
const secret = join(dir, 'secret');
writeFileSync(secret, 'x\n');
const config = join(dir, 'config.yaml');
writeFileSync(config, 'presubmits: {}\n');
const badConfig = join(dir, 'bad.yaml');
writeFileSync(badConfig, 'presubmits:\n  o/r:\n  - name: a\n    always_run: maybe\n');

// NATS_URL points where nothing listens: a service that got past its settings would hang there.
const base = { PATH: process.env.PATH ?? '', NATS_URL: 'nats://127.0.0.1:9', BOWLINE_CONFIG: config };

describe('a service started without a required setting', () => {
  it.each([
    ['hook', {}, 'GITHUB_WEBHOOK_SECRET_FILE is not set'],
    ['hook', { GITHUB_WEBHOOK_SECRET_FILE: join(dir, 'missing') }, 'GITHUB_WEBHOOK_SECRET_FILE names'],
    ['planner', {}, 'GITHUB_TOKEN_FILE is not set'],
    ['planner', { GITHUB_TOKEN_FILE: secret, BOWLINE_CONFIG: badConfig }, 'bad.yaml:4:17: presubmits.o/r[0].always_run: must be true or false'],
    ['reporter', {}, 'GITHUB_TOKEN_FILE is not set'],
    ['reporter', { GITHUB_APP_ID: '42' }, 'GITHUB_APP_PRIVATE_KEY_FILE is not set'],
    ['planner', { GITHUB_TOKEN_FILE: secret, GITHUB_WRITE_INTERVAL: 'soon' }, 'GITHUB_WRITE_INTERVAL is "soon"'],
    ['jenkins-operator', {}, 'JENKINS_URL is not set'],
    ['jenkins-operator', { JENKINS_URL: 'http://jenkins' }, 'JENKINS_USER is not set'],
    ['jenkins-operator', { JENKINS_URL: 'http://jenkins', JENKINS_USER: 'u' }, 'JENKINS_TOKEN_FILE is not set'],
    ['sinker', { BOWLINE_CONFIG: join(dir, 'nowhere.yaml') }, 'nowhere.yaml:0:0: (file): cannot read'],
    ['hook', { GITHUB_WEBHOOK_SECRET_FILE: secret, PORT: 'eighty' }, 'PORT is "eighty"'],
    ['hook', { GITHUB_WEBHOOK_SECRET_FILE: secret, BIND_ADDRESS: 'eth0' }, 'BIND_ADDRESS is "eth0": set it to an IP address of this host'],
    ['hook', { GITHUB_WEBHOOK_SECRET_FILE: secret, HOOK_MAX_CONNECTIONS: 'lots' }, 'HOOK_MAX_CONNECTIONS must be a positive whole number'],
    ['planner', { GITHUB_TOKEN_FILE: secret, BOWLINE_TENANTS: 'payments,Search' }, 'BOWLINE_TENANTS names "Search"'],
    ['hook', { GITHUB_WEBHOOK_SECRET_FILE: secret, NATS_USER: 'hook' }, 'NATS_USER and NATS_PASSWORD_FILE go together'],
    ['hook', { GITHUB_WEBHOOK_SECRET_FILE: secret, NATS_USER: 'hook', NATS_PASSWORD_FILE: join(dir, 'missing') }, 'NATS_PASSWORD_FILE names'],
    ['hook', { GITHUB_WEBHOOK_SECRET_FILE: secret, BOWLINE_EVENTS_STREAM: 'elsewhere' }, 'BOWLINE_EVENTS_STREAM is "elsewhere"'],
    ['sinker', { BOWLINE_EXIT_ON_LEASE_LOSS: 'maybe' }, 'BOWLINE_EXIT_ON_LEASE_LOSS is "maybe": set it to true or false'],
    ['jenkins-operator', { JENKINS_URL: 'http://jenkins', JENKINS_USER: 'u', JENKINS_TOKEN_FILE: secret, BOWLINE_EXIT_ON_LEASE_LOSS: 'yes' }, 'BOWLINE_EXIT_ON_LEASE_LOSS is "yes"'],
  ])('%s with %j exits at once naming what to fix', (service, env, message) => {
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'services', service, 'dist', 'main.js')], {
      env: { ...base, ...env },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.signal).toBeNull();
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${service}: cannot start: `);
    expect(result.stderr).toContain(message);
  });
});
