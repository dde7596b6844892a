import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { loadConfigFile, parseConfig } from '../src/load.js';
import { ConfigError, formatProblem } from '../src/problems.js';
import { runsAgainstBranch } from '../src/presubmit.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

function outcome(text: string): { errors: string[]; warnings: string[] } {
  try {
    return { errors: [], warnings: parseConfig(text, 'config.yaml').warnings.map(formatProblem) };
  } catch (error) {
    if (error instanceof ConfigError) return { errors: error.problems.map(formatProblem), warnings: [] };
    throw error;
  }
}

const job = (fields: string) => `presubmits:\n  o/r:\n  - name: a\n    agent: jenkins\n${fields}`;

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
    expect(gce).toMatchObject({ agent: 'jenkins', context: 'ci/openshift-jenkins/gcp', rerunCommand: '/test gcp', alwaysRun: true, labels: { master: 'ci.openshift.redhat.com' } });
    expect(gce.trigger.test('/test gcp')).toBe(true);
    expect(gce.trigger.test('/test all')).toBe(true);
    expect(gce.trigger.test('/test service-catalog')).toBe(false);
    expect(runsAgainstBranch(gce, 'release-3.9')).toBe(true);
    expect(runsAgainstBranch(gce, 'master')).toBe(false);
    const catalog = jobs.find((j) => j.name === 'test_pull_request_origin_service_catalog_39')!;
    expect(catalog.runIfChanged?.test('cmd/service-catalog/main.go')).toBe(true);
    expect(catalog.runIfChanged?.test('pkg/api/types.go')).toBe(false);
  });

  it("reads metal3's jenkins_operators with its selector and job URL template", () => {
    const config = loadConfigFile(join(fixtures, 'metal3-jenkins.yaml'));
    const [operator] = config.jenkinsOperators;
    expect(operator!.maxConcurrency).toBe(150);
    expect(operator!.labelSelector.matches({})).toBe(true);
    expect(operator!.labelSelector.matches({ jenkins_operator: 'oci' })).toBe(false);
    expect(operator!.jobUrlTemplate?.source).toContain('{{.Status.JenkinsBuildID}}');
    expect(config.warnings.map(formatProblem)).toEqual([expect.stringContaining("label_selector on the only jenkins_operators entry")]);
  });

  it("applies Prow's defaults to a job that sets only its name and agent", () => {
    const config = parseConfig('presubmits:\n  o/r:\n  - name: unit\n    agent: jenkins\n', 'config.yaml');
    const [presubmit] = config.presubmits['o/r']!;
    expect(presubmit).toMatchObject({ context: 'unit', rerunCommand: '/test unit', alwaysRun: false, optional: false, skipReport: false, maxConcurrency: 0 });
    expect(presubmit!.trigger.test('/test unit')).toBe(true);
    expect(presubmit!.trigger.test('/test lint unit')).toBe(true);
    expect(presubmit!.trigger.test('/test units')).toBe(false);
    expect(config.sinker).toEqual({ maxProwJobAgeMs: 7 * 24 * 3_600_000, resyncPeriodMs: 3_600_000, maxUnfinishedAgeMs: 48 * 3_600_000 });
    expect(config.history).toEqual({ maxAgeMs: 90 * 24 * 3_600_000 });
    expect(config.jenkinsOperator.resyncPeriodMs).toBe(10_000);
    expect(config.bowline.trust).toEqual({ okToTest: 'per_pull_request', onlyOrgMembers: false, trustedApps: [], trustedOrgs: [] });
  });

  it('reads postsubmits, periodics and the bowline section', () => {
    const config = parseConfig(
      [
        'postsubmits:',
        '  o/r:',
        '  - name: publish',
        '    agent: jenkins',
        '    branches: [main]',
        'periodics:',
        '- name: nightly',
        '  agent: jenkins',
        '  cron: "0 3 * * *"',
        '- name: hourly',
        '  agent: jenkins',
        '  interval: 1h',
        'bowline:',
        '  jenkins:',
        '  - name: ci',
        '    url: https://ci.example.com/',
        '    user: bowline',
        '    token_file: /etc/jenkins/token',
        '  trust:',
        '    ok_to_test: per_commit',
        '    trusted_apps: [dependabot]',
        '  sinker:',
        '    max_unfinished_age: 12h',
        '  history:',
        '    max_age: 720h',
      ].join('\n'),
      'config.yaml',
    );
    expect(config.postsubmits['o/r']![0]).toMatchObject({ name: 'publish', context: 'publish', alwaysRun: undefined, branchPatterns: ['main'] });
    expect(config.periodics.map((p) => [p.name, p.intervalMs, Boolean(p.cron)])).toEqual([
      ['nightly', undefined, true],
      ['hourly', 3_600_000, false],
    ]);
    expect(config.bowline.jenkins[0]).toMatchObject({ name: 'ci', url: 'https://ci.example.com/', user: 'bowline', tokenFile: '/etc/jenkins/token', maxPendingMs: 24 * 3_600_000 });
    expect(config.bowline.trust).toMatchObject({ okToTest: 'per_commit', trustedApps: ['dependabot'] });
    expect(config.sinker.maxUnfinishedAgeMs).toBe(12 * 3_600_000);
    expect(config.history.maxAgeMs).toBe(720 * 3_600_000);
  });

  it('accepts sections Bowline does not use, and jobs of other agents with their own fields', () => {
    const { errors, warnings } = outcome(
      'tide:\n  queries: []\ndeck:\n  spyglass: {}\nbranch-protection: {}\nplank: {}\npresubmits:\n  o/r:\n  - name: k\n    decorate: true\n    spec: {containers: [{image: x}]}\n',
    );
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });

  // Each rule: a config that breaks it (with the start of the expected error) and one that keeps it.
  it.each([
    ['a job name Prow refuses', 'presubmits:\n  o/r:\n  - name: "bad name"\n    agent: jenkins\n', 'presubmits.o/r[0].name: job name "bad name" must match', job('')],
    ['a folder path in a kubernetes job name', 'presubmits:\n  o/r:\n  - name: team/unit\n', 'presubmits.o/r[0].name: job name "team/unit"', job('').replace('name: a', 'name: team/unit')],
    ['a duplicate job on overlapping branches', `${job('    branches: [main]\n')}  - name: a\n    agent: jenkins\n    branches: [main, dev]\n    context: other\n`, 'presubmits.o/r[1].name: duplicate job "a" in o/r on overlapping branches (also at config.yaml:3)', `${job('    branches: [main]\n')}  - name: a\n    agent: jenkins\n    branches: [release]\n    context: other\n`],
    ['always_run with run_if_changed', job('    always_run: true\n    run_if_changed: ^docs/\n'), 'presubmits.o/r[0].always_run: job "a": always_run and run_if_changed', job('    always_run: true\n')],
    ['run_if_changed with skip_if_only_changed', job('    run_if_changed: ^src/\n    skip_if_only_changed: ^docs/\n'), 'presubmits.o/r[0].run_if_changed: job "a": run_if_changed and skip_if_only_changed', job('    skip_if_only_changed: ^docs/\n')],
    ['a trigger without a rerun_command', job('    trigger: (?m)^/go\n'), 'presubmits.o/r[0].rerun_command: job "a": trigger and rerun_command must be set together', job('    trigger: (?m)^/go\n    rerun_command: /go\n')],
    ['a rerun_command the trigger does not match', job('    trigger: ^/go$\n    rerun_command: /run\n'), 'presubmits.o/r[0].rerun_command: job "a": "/run" does not match', job('    trigger: ^/run$\n    rerun_command: /run\n')],
    ['a negative max_concurrency', job('    max_concurrency: -1\n'), 'presubmits.o/r[0].max_concurrency: must not be negative', job('    max_concurrency: 0\n')],
    ['two jobs with one context on overlapping branches', `${job('    context: ci/unit\n')}  - name: b\n    agent: jenkins\n    context: ci/unit\n`, 'presubmits.o/r[1].context: jobs "a" and "b" report to the same context "ci/unit"', `${job('    context: ci/unit\n    branches: [main]\n')}  - name: b\n    agent: jenkins\n    context: ci/unit\n    branches: [release]\n`],
    ['an untranslatable regex, naming job, field and construct', job('    run_if_changed: (?U)a+\n'), 'presubmits.o/r[0].run_if_changed: job "a": invalid regular expression: the U (ungreedy) flag', job('    run_if_changed: (?s)a.+\n')],
    // `yes` is true in YAML 1.1, which Prow's Go YAML library reads; `yes please` is a string.
    ['a value of the wrong type', job('    always_run: yes please\n'), 'presubmits.o/r[0].always_run: must be true or false', job('    always_run: yes\n')],
    ['a repository key that is not org/repo', 'presubmits:\n  widgets:\n  - name: a\n', 'presubmits.widgets: key "widgets" must look like org/repo', job('')],
    ['an empty label_selector among several jenkins_operators', 'jenkins_operators:\n- label_selector: master=a\n- max_concurrency: 3\n', 'jenkins_operators[1].label_selector: selector overlap', 'jenkins_operators:\n- label_selector: master=a\n- label_selector: master=b\n'],
    ['an invalid label_selector', 'jenkins_operators:\n- label_selector: "a b"\n- label_selector: master=b\n', 'jenkins_operators[0].label_selector: invalid label selector "a b"', 'jenkins_operators:\n- label_selector: "!a"\n- label_selector: a\n'],
    ['a periodic with neither interval nor cron', 'periodics:\n- name: p\n', 'periodics[0].interval: job "p": set exactly one of interval and cron', 'periodics:\n- name: p\n  interval: 2h\n'],
    ['a periodic with both interval and cron', 'periodics:\n- name: p\n  interval: 2h\n  cron: "@daily"\n', 'periodics[0].cron: job "p": set exactly one of interval and cron', 'periodics:\n- name: p\n  cron: "@daily"\n'],
    ['a periodic with an invalid cron', 'periodics:\n- name: p\n  cron: "61 * * * *"\n', 'periodics[0].cron: job "p": invalid cron "61 * * * *"', 'periodics:\n- name: p\n  cron: "59 * * * *"\n'],
    ['a duplicate periodic', 'periodics:\n- name: p\n  interval: 1h\n- name: p\n  interval: 2h\n', 'periodics[1].name: duplicate periodic "p"', 'periodics:\n- name: p\n  interval: 1h\n- name: q\n  interval: 2h\n'],
    ['a template that does not parse', 'jenkins_operators:\n- job_url_template: "https://ci/{{.Spec.Job}"\n', 'jenkins_operators[0].job_url_template: invalid template', 'jenkins_operators:\n- job_url_template: "https://ci/{{.Spec.Job}}"\n'],
    ['a template naming a field a ProwJob lacks', 'jenkins_operators:\n- job_url_template: "https://ci/{{.Spec.Jbo}}"\n', 'jenkins_operators[0].job_url_template: invalid template', 'jenkins_operators:\n- job_url_template: "https://ci/{{.Spec.Job}}/{{.Status.JenkinsBuildID}}"\n'],
    ['a template function outside the subset', 'jenkins_operators:\n- report_template: "{{html .Spec.Job}}"\n', 'jenkins_operators[0].report_template: invalid template', 'jenkins_operators:\n- report_template: "{{printf \\"%s\\" .Spec.Job}}"\n'],
    ["a broken deck url_template", 'deck:\n  external_agent_logs:\n  - agent: jenkins\n    url_template: "{{if}}"\n', 'deck.external_agent_logs[0].url_template: invalid template', 'deck:\n  external_agent_logs:\n  - agent: jenkins\n    url_template: "http://x/{{.Spec.Job}}"\n'],
    ['an invalid duration', 'sinker:\n  max_prowjob_age: a week\n', 'sinker.max_prowjob_age: "a week" is not a duration', 'sinker:\n  max_prowjob_age: 168h\n'],
    ['an unknown field in the bowline section', 'bowline:\n  jenkins_operater: {}\n', 'bowline.jenkins_operater: unknown field "jenkins_operater"', 'bowline:\n  jenkins_operator: {}\n'],
    ['a Jenkins master without its url', 'bowline:\n  jenkins:\n  - name: ci\n', 'bowline.jenkins[0].url: is required', 'bowline:\n  jenkins:\n  - name: ci\n    url: https://ci\n'],
    ['a Jenkins master with a user but no token file', 'bowline:\n  jenkins:\n  - name: ci\n    url: https://ci\n    user: bot\n', 'bowline.jenkins[0].token_file: Jenkins master "ci": user and token_file go together', 'bowline:\n  jenkins:\n  - name: ci\n    url: https://ci\n    bearer_token_file: /t\n'],
    ['two Jenkins masters without selectors', 'bowline:\n  jenkins:\n  - name: a\n    url: https://a\n  - name: b\n    url: https://b\n', 'bowline.jenkins[0].label_selector: Jenkins master "a": with several masters', 'bowline:\n  jenkins:\n  - name: a\n    url: https://a\n    label_selector: master=a\n  - name: b\n    url: https://b\n    label_selector: master=b\n'],
    ['a Jenkins master URL that is not http', 'bowline:\n  jenkins:\n  - name: a\n    url: jenkins.local\n', 'bowline.jenkins[0].url: Jenkins master "a": "jenkins.local" is not an http(s) URL', 'bowline:\n  jenkins:\n  - name: a\n    url: http://jenkins.local:8080\n'],
    ['a max_unfinished_age that is no duration', 'bowline:\n  sinker:\n    max_unfinished_age: 2d\n', 'bowline.sinker.max_unfinished_age: "2d" is not a duration', 'bowline:\n  sinker:\n    max_unfinished_age: 48h\n'],
    ['an ok_to_test mode that does not exist', 'bowline:\n  trust:\n    ok_to_test: always\n', 'bowline.trust.ok_to_test: must be one of per_pull_request, per_commit', 'bowline:\n  trust:\n    ok_to_test: per_commit\n'],
    ['a job type GitHub cannot be told about', 'github_reporter:\n  job_types_to_report: [presubmit, periodic]\n', 'github_reporter.job_types_to_report[1]: must be one of presubmit, postsubmit', 'github_reporter:\n  job_types_to_report: [presubmit]\n'],
    ['broken YAML', 'presubmits:\n  o/r: [\n', '(yaml):', job('')],
  ])('refuses %s, and accepts the corrected config', (_rule, bad, expected, good) => {
    const refused = outcome(bad);
    expect(refused.errors).toContainEqual(expect.stringContaining(expected));
    expect(refused.errors.every((e) => /^config\.yaml:\d+:\d+: /.test(e))).toBe(true);
    expect(outcome(good).errors).toEqual([]);
  });

  it('points at the line and column of the offending value', () => {
    expect(outcome(job('    always_run: maybe\n')).errors).toEqual(['config.yaml:5:17: presubmits.o/r[0].always_run: must be true or false, not "maybe"']);
  });

  it.each([
    ['an unknown field in a Jenkins job (a typo)', job('    alway_run: true\n'), 'presubmits.o/r[0].alway_run: job "a": unknown field "alway_run" is ignored', job('    always_run: true\n')],
    ['a Jenkins job no master will run', `bowline:\n  jenkins:\n  - name: ci\n    url: https://ci\n    label_selector: master=ci\n${job('    labels: {master: other}\n')}`, 'presubmits.o/r[0].labels: job "a": no Jenkins master\'s label_selector matches', `bowline:\n  jenkins:\n  - name: ci\n    url: https://ci\n    label_selector: master=ci\n${job('    labels: {master: ci}\n')}`],
    ['a job whose skip_branches excludes all its branches', job('    branches: [main]\n    skip_branches: [ma.*]\n'), 'presubmits.o/r[0].skip_branches: job "a": skip_branches excludes every branch', job('    branches: [main]\n    skip_branches: [release-.*]\n')],
    ['a rerun command that also starts another job', `${job('    trigger: (?m)^/test( all| a)\n    rerun_command: /test a\n')}  - name: b\n    agent: jenkins\n    trigger: (?m)^/test\n    rerun_command: /test b\n`, 'job "a": its rerun command "/test a" also starts "b"', `${job('')}  - name: b\n    agent: jenkins\n`],
    ['a job no comment can trigger', job('    trigger: "> /run"\n    rerun_command: "> /run"\n'), 'job "a": no comment can trigger it', job('    trigger: /run\n    rerun_command: /run\n')],
  ])('warns about %s, and not about the corrected config', (_rule, bad, expected, good) => {
    const { errors, warnings } = outcome(bad);
    expect(errors).toEqual([]);
    expect(warnings).toContainEqual(expect.stringContaining(expected));
    expect(outcome(good)).toEqual({ errors: [], warnings: [] });
  });

  it("merges Prow's split job config files and names the other file of a duplicate", () => {
    const dir = mkdtempSync(join(tmpdir(), 'bowline-jobs-'));
    mkdirSync(join(dir, 'o'));
    writeFileSync(join(dir, 'config.yaml'), 'sinker:\n  resync_period: 1m\n');
    writeFileSync(join(dir, 'o', 'r-presubmits.yaml'), 'presubmits:\n  o/r:\n  - name: unit\n    agent: jenkins\n');
    writeFileSync(join(dir, 'o', 'r-more.yml'), 'presubmits:\n  o/r:\n  - name: lint\n    agent: jenkins\n');
    writeFileSync(join(dir, 'o', 'notes.txt'), 'not yaml');
    const config = loadConfigFile(join(dir, 'config.yaml'), { jobConfigDir: join(dir, 'o') });
    expect(config.presubmits['o/r']!.map((j) => j.name).sort()).toEqual(['lint', 'unit']);
    expect(config.files).toHaveLength(3);

    writeFileSync(join(dir, 'o', 'r-more.yml'), 'presubmits:\n  o/r:\n  - name: unit\n    agent: jenkins\n');
    expect(() => loadConfigFile(join(dir, 'config.yaml'), { jobConfigDir: join(dir, 'o') })).toThrow(/r-presubmits\.yaml:3:11: presubmits\.o\/r\[0\]\.name: duplicate job "unit" in o\/r on overlapping branches \(also at .*r-more\.yml:3\)/);
  });

  it('reports a file it cannot read by its path', () => {
    expect(() => loadConfigFile('/nonexistent/config.yaml')).toThrow('/nonexistent/config.yaml:0:0: (file): cannot read');
  });
});
