import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { configJsonSchema } from '@bowline/config';
import { runCli } from '../src/cli.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(root, 'libs/config/test/fixtures');

async function run(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runCli(argv, (line) => lines.push(line));
  return { code, out: lines.join('\n') };
}

describe('bowline checkconfig', () => {
  it.each(readdirSync(fixtures).filter((f) => f.endsWith('.yaml')))('passes on the real Prow config %s and lists its Jenkins jobs', async (file) => {
    const { code, out } = await run('checkconfig', '--config', join(fixtures, file));
    expect(code).toBe(0);
    expect(out).toMatch(/Jenkins jobs: [1-9]\d* presubmits/);
    expect(out).toMatch(/^valid/m);
  });

  it('summarises the openshift config: repositories, Jenkins jobs, ignored jobs', async () => {
    const { out } = await run('checkconfig', '--config', join(fixtures, 'openshift-origin-release-3.9-presubmits.yaml'));
    expect(out).toContain('repositories: 1 (openshift/origin)');
    expect(out).toContain('Jenkins jobs: 3 presubmits, 0 postsubmits, 0 periodics');
    expect(out).toContain('    test_pull_request_origin_extended_conformance_gce_39 (presubmit)');
    expect(out).toContain('ignored jobs of other agents: 0');
  });

  it('prints every error as file:line:col and exits 1', async () => {
    const { code, out } = await run('checkconfig', '--config', join(root, 'cli/test/fixtures/broken.yaml'));
    expect(code).toBe(1);
    expect(out.split('\n')).toEqual([
      expect.stringMatching(/broken\.yaml:5:17: presubmits\.acme\/widgets\[0\]\.always_run: must be true or false/),
      expect.stringMatching(/broken\.yaml:10:22: presubmits\.acme\/widgets\[1\]\.max_concurrency: must not be negative/),
      '2 errors: the config is not valid',
    ]);
  });

  it('fails on warnings only with --strict', async () => {
    const config = join(fixtures, 'metal3-jenkins.yaml');
    expect((await run('checkconfig', '--config', config)).code).toBe(0);
    const strict = await run('checkconfig', '--config', config, '--strict');
    expect(strict.code).toBe(1);
    expect(strict.out).toContain('(warning)');
    expect(strict.out).toContain('failing because of --strict');
  });

  it("lists the tenants of the README's two-tenant example", async () => {
    const { code, out } = await run('checkconfig', '--config', join(root, 'examples/tenants/config.yaml'), '--strict');
    expect(code).toBe(0);
    expect(out).toContain('tenants: 2');
    expect(out).toContain('  payments: acme-pay, acme/billing (Jenkins: payments-ci)');
    expect(out).toContain('  search: acme (Jenkins: search-ci)');
    // The README's "Tenants" section shows this file, and the NATS accounts the accounts test runs, whole.
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain(readFileSync(join(root, 'examples/tenants/config.yaml'), 'utf8'));
    expect(readme).toContain(readFileSync(join(root, 'examples/tenants/nats-accounts.conf'), 'utf8'));
  });

  it('reads the split job config directory', async () => {
    const { code, out } = await run('checkconfig', '--config', join(root, 'config/config.yaml'), '--job-config', join(root, 'cli/test/fixtures/jobs'));
    expect(code).toBe(0);
    expect(out).toContain('acme/gadgets');
  });

  it.each([[[]], [['checkconfig']], [['frobnicate']], [['checkconfig', '--bogus']]])('answers %j with usage and exit 2', async (argv) => {
    const { code, out } = await run(...argv);
    expect(code).toBe(2);
    expect(out).toContain('usage:');
  });
});

describe('the committed JSON Schema', () => {
  it('is the one generated from the loader’s definitions (run `npm run schema` after changing them)', () => {
    const committed = JSON.parse(readFileSync(join(root, 'config/config.schema.json'), 'utf8')) as unknown;
    expect(committed).toEqual(configJsonSchema());
  });
});

describe('the JSON Schema as an editor uses it', () => {
  const validate = new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).compile(configJsonSchema());
  const yamlFiles = [join(root, 'config/config.yaml'), ...readdirSync(fixtures).filter((f) => f.endsWith('.yaml')).map((f) => join(fixtures, f))];

  it.each(yamlFiles)('accepts %s', (file) => {
    const valid = validate(parse(readFileSync(file, 'utf8')));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('flags a wrong type, an unknown bowline field and a bad duration', () => {
    expect(validate(parse('presubmits:\n  o/r:\n  - name: a\n    always_run: maybe\n'))).toBe(false);
    expect(validate(parse('bowline:\n  jenkins_operater: {}\n'))).toBe(false);
    expect(validate(parse('sinker:\n  max_prowjob_age: a week\n'))).toBe(false);
  });
});
