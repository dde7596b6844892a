import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfigFile, parseConfig } from '../src/load.js';
import { runsAgainstBranch } from '../src/presubmit.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'config.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  return [];
}

describe('loading a Prow config.yaml', () => {
  it.each(readdirSync(fixtures).filter((f) => f.endsWith('.yaml')))('loads the real config %s whole', (file) => {
    const config = loadConfigFile(join(fixtures, file));
    const jenkinsJobs = Object.values(config.presubmits).flat().filter((p) => p.agent === 'jenkins');
    expect(jenkinsJobs.length).toBeGreaterThan(0);
  });

  it('reads the openshift jobs with their triggers, contexts and branches', () => {
    const config = loadConfigFile(join(fixtures, 'openshift-origin-release-3.9-presubmits.yaml'));
    const jobs = config.presubmits['openshift/origin']!;
    const gce = jobs.find((j) => j.name === 'test_pull_request_origin_extended_conformance_gce_39')!;
    expect(gce).toMatchObject({ agent: 'jenkins', context: 'ci/openshift-jenkins/gcp', rerunCommand: '/test gcp', alwaysRun: true });
    expect(gce.trigger.test('/test gcp')).toBe(true);
    expect(gce.trigger.test('/test all')).toBe(true);
    expect(gce.trigger.test('/test service-catalog')).toBe(false);
    expect(runsAgainstBranch(gce, 'release-3.9')).toBe(true);
    expect(runsAgainstBranch(gce, 'master')).toBe(false);
    const catalog = jobs.find((j) => j.name === 'test_pull_request_origin_service_catalog_39')!;
    expect(catalog.runIfChanged?.test('cmd/service-catalog/main.go')).toBe(true);
    expect(catalog.runIfChanged?.test('pkg/api/types.go')).toBe(false);
  });

  it("applies Prow's defaults to a job that sets only its name and agent", () => {
    const config = parseConfig('presubmits:\n  o/r:\n  - name: unit\n    agent: jenkins\n', 'config.yaml');
    const [job] = config.presubmits['o/r']!;
    expect(job).toMatchObject({ context: 'unit', rerunCommand: '/test unit', alwaysRun: false, optional: false, skipReport: false, maxConcurrency: 0 });
    expect(job!.trigger.test('/test unit')).toBe(true);
    expect(job!.trigger.test('/test lint unit')).toBe(true);
    expect(job!.trigger.test('/test units')).toBe(false);
    expect(config.sinker.maxProwJobAgeMs).toBe(7 * 24 * 3_600_000);
    expect(config.sinker.resyncPeriodMs).toBe(3_600_000);
  });

  it('accepts sections Bowline does not use, and jobs of other agents', () => {
    const config = parseConfig(
      'tide:\n  queries: []\ndeck:\n  spyglass: {}\npresubmits:\n  o/r:\n  - name: k\n    agent: kubernetes\n    spec: {containers: [{image: x}]}\n',
      'config.yaml',
    );
    expect(config.presubmits['o/r']![0]!.agent).toBe('kubernetes');
  });

  it.each([
    ['presubmits:\n  o/r:\n  - name: a\n    always_run: true\n    run_if_changed: x\n', 'config.yaml:4:17: presubmits.o/r[0].always_run: always_run and run_if_changed'],
    ['presubmits:\n  o/r:\n  - name: a\n    trigger: /go\n', 'config.yaml:3:5: presubmits.o/r[0].rerun_command: trigger and rerun_command must be set together'],
    ['presubmits:\n  o/r:\n  - name: a\n    trigger: ^/go$\n    rerun_command: /run\n', 'config.yaml:5:20: presubmits.o/r[0].rerun_command: "/run" does not match'],
    ['presubmits:\n  o/r:\n  - name: a\n  - name: a\n', 'config.yaml:4:11: presubmits.o/r[1].name: duplicate job name "a"'],
    ['presubmits:\n  o/r:\n  - name: a\n    max_concurrency: -1\n', 'config.yaml:4:22: presubmits.o/r[0].max_concurrency: must not be negative'],
    ['presubmits:\n  o/r:\n  - name: a\n    run_if_changed: "a(?i)b"\n', 'config.yaml:4:21: presubmits.o/r[0].run_if_changed: invalid regular expression'],
    ['presubmits:\n  o/r:\n  - name: a\n    always_run: yes please\n', 'config.yaml:4:17: presubmits.o/r[0].always_run: must be true or false'],
    ['sinker:\n  max_prowjob_age: a week\n', 'config.yaml:2:20: sinker.max_prowjob_age: "a week" is not a duration'],
    ['presubmits:\n  o/r: [\n', 'config.yaml:3:1: (yaml):'],
  ])('names file, line, column and field of a mistake: %j', (text, expected) => {
    expect(problemsOf(text)).toContainEqual(expect.stringContaining(expected));
  });

  it('reports a file it cannot read by its path', () => {
    expect(() => loadConfigFile('/nonexistent/config.yaml')).toThrow('/nonexistent/config.yaml:0:0: (file): cannot read');
  });
});
