import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { parseConfig } from '@bowline/config';
import { newPeriodicJob, newPostsubmitJob, newPresubmitJob } from '@bowline/prowjob';
import { buildParameters } from '../services/jenkins-operator/src/build-parameters.js';

// examples/jenkins (docs/jenkins.md) held against Bowline itself: the parameters its pipelines
// and Job DSL declare are ones the jenkins-operator sends (found by running buildParameters on a
// presubmit, a postsubmit and a periodic, so a parameter added there is known here at once), they
// use none they do not declare, they push only on postsubmits, and checkout-refs.sh checks out the
// commits PULL_REFS names in a real git repository.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLES = join(ROOT, 'examples', 'jenkins');
const read = (file: string): string => readFileSync(join(EXAMPLES, file), 'utf8');
const JENKINSFILES = ['Jenkinsfile', 'Jenkinsfile.s2i'];

const config = parseConfig(read('config.yaml'), 'examples/jenkins/config.yaml');
const now = new Date('2026-03-02T10:00:00Z');
const sha = (c: string): string => c.repeat(40);

/** What Bowline sends a build, by job type, for the example's jobs. */
const sent = {
  presubmit: buildParameters(
    newPresubmitJob(config.presubmits['acme/widgets']![0]!, {
      name: '0a1b2c3d-0000-4000-8000-000000000001',
      now,
      refs: { org: 'acme', repo: 'widgets', base_ref: 'main', base_sha: sha('b'), pulls: [{ number: 7, author: 'alice', sha: sha('a'), ref: 'sprockets', title: 'Add sprockets' }] },
      cause: { event: 'issue_comment', deliveryId: 'd-1', user: 'alice' },
    }),
  ),
  postsubmit: buildParameters(
    newPostsubmitJob(config.postsubmits['acme/widgets']![0]!, {
      name: '0a1b2c3d-0000-4000-8000-000000000002',
      now,
      refs: { org: 'acme', repo: 'widgets', base_ref: 'main', base_sha: sha('c') },
      cause: { event: 'push', deliveryId: 'd-2', user: 'bob' },
    }),
  ),
  periodic: buildParameters(
    newPeriodicJob(parseConfig('periodics:\n- name: nightly\n  agent: jenkins\n  interval: 24h\n', 'periodic.yaml').periodics[0]!, {
      name: '0a1b2c3d-0000-4000-8000-000000000003',
      now,
      cause: { scheduledFor: now, schedule: '24h' },
    }),
  ),
};
const SENT = new Set(Object.values(sent).flatMap((parameters) => Object.keys(parameters)));

const declaredIn = (jenkinsfile: string): string[] => [...read(jenkinsfile).matchAll(/^\s*string\(name: '([A-Za-z_]+)'/gm)].map((m) => m[1]!);
const declaredInJobDsl = (): string[] => {
  const block = /def bowlineParameters = \[([\s\S]*?)\n\]/.exec(read('jobs.groovy'))![1]!;
  return [...block.matchAll(/^\s*([A-Za-z_]+):/gm)].map((m) => m[1]!);
};
/** The pipeline's stages, each with its text. */
const stagesOf = (jenkinsfile: string): [string, string][] =>
  read(jenkinsfile)
    .split(/^\s*stage\('/m)
    .slice(1)
    .map((chunk) => [chunk.slice(0, chunk.indexOf("'")), chunk]);

describe('the Jenkins example', () => {
  it.each([...JENKINSFILES, 'jobs.groovy'])('declares in %s only parameters Bowline sends, BUILD_ID, PROW_JOB_ID and every PULL_* among them', (file) => {
    const declared = file === 'jobs.groovy' ? declaredInJobDsl() : declaredIn(file);
    expect(declared.filter((name) => !SENT.has(name))).toEqual([]);
    // Prow's PULL_* parameters, which checkout and tagging need.
    const pulls = ['PULL_BASE_REF', 'PULL_BASE_SHA', 'PULL_REFS', 'PULL_NUMBER', 'PULL_PULL_SHA', 'PULL_HEAD_REF', 'PULL_TITLE'];
    expect(declared).toEqual(expect.arrayContaining(['BUILD_ID', 'PROW_JOB_ID', ...pulls]));
  });

  it('declares on each Job DSL job the parameters its Jenkinsfile declares, so no first run has to prime it', () => {
    for (const file of JENKINSFILES) expect(declaredInJobDsl()).toEqual(declaredIn(file));
  });

  it.each(JENKINSFILES)('reads in %s only parameters it declares, checkout-refs.sh\'s included', (file) => {
    const text = read(file);
    const declared = new Set(declaredIn(file));
    const params = [...text.matchAll(/params\.([A-Za-z_]+)/g)].map((m) => m[1]!);
    // Shell variables named as Bowline's parameters: Jenkins sets them only when declared.
    const shell = [...text.matchAll(/\$\{?([A-Z_]+)/g), ...read('checkout-refs.sh').matchAll(/\$\{?([A-Z_]+)/g)].map((m) => m[1]!).filter((name) => SENT.has(name));
    expect(shell).toEqual(expect.arrayContaining(['REPO_OWNER', 'REPO_NAME', 'PULL_REFS', 'PULL_BASE_SHA']));
    expect([...params, ...shell].filter((name) => !declared.has(name))).toEqual([]);
  });

  it.each(JENKINSFILES)('pushes from %s only on postsubmits', (file) => {
    const publishing = stagesOf(file).filter(([, text]) => /\bpush "|npm publish/.test(text));
    expect(publishing.length).toBeGreaterThan(0);
    for (const [name, text] of publishing) expect({ name, onlyOnPostsubmits: text.includes("when { expression { params.JOB_TYPE == 'postsubmit' } }") }).toEqual({ name, onlyOnPostsubmits: true });
  });

  it('builds an image from a Dockerfile with buildah or docker, and with s2i, and publishes an npm package', () => {
    expect(read('Jenkinsfile')).toMatch(/"\$IMAGE_TOOL" build --file Dockerfile/);
    expect(read('Jenkinsfile')).toContain("IMAGE_TOOL = 'buildah'");
    expect(read('Jenkinsfile')).toContain('npm publish');
    expect(read('Jenkinsfile.s2i')).toMatch(/s2i build src "\$BUILDER_IMAGE" .* --as-dockerfile s2i\/Dockerfile/);
  });

  it('creates in jobs.groovy the Jenkins jobs config.yaml names, each from a Jenkinsfile here', () => {
    const jobs = [...read('jobs.groovy').matchAll(/^bowlineJob\('([^']+)', '([^']+)'/gm)].map((m) => [m[1]!, m[2]!]);
    const jenkinsJobs = [...config.presubmits['acme/widgets']!, ...config.postsubmits['acme/widgets']!].map((job) => job.name);
    expect(jobs.map(([name]) => name).sort()).toEqual([...new Set(jenkinsJobs)].sort());
    for (const [, file] of jobs) expect(existsSync(join(EXAMPLES, file!))).toBe(true);
  });

  it('configures in jenkins.yaml the Job DSL, the credentials the pipelines use, and what the bowline user may do', () => {
    const casc = parse(read('jenkins.yaml')) as {
      jenkins: { authorizationStrategy: { globalMatrix: { entries: { user?: { name: string; permissions: string[] } }[] } } };
      credentials: { system: { domainCredentials: { credentials: Record<string, { id: string }>[] }[] } };
      jobs: { file: string }[];
    };
    expect(casc.jobs.map((j) => j.file.split('/').at(-1))).toEqual(['jobs.groovy']);
    const bowline = casc.jenkins.authorizationStrategy.globalMatrix.entries.find((e) => e.user?.name === 'bowline');
    expect(bowline?.user?.permissions.sort()).toEqual(['Job/Build', 'Job/Cancel', 'Job/Read', 'Overall/Read']);
    const defined = casc.credentials.system.domainCredentials.flatMap((d) => d.credentials.map((c) => Object.values(c)[0]!.id));
    const used = [...[...JENKINSFILES, 'jobs.groovy'].map(read).join('\n').matchAll(/credentials(?:Id: |\()'([^']+)'/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((id) => !defined.includes(id))).toEqual([]);
  });
});

describe('checkout-refs.sh', () => {
  let dir: string;
  const git = (cwd: string, ...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' }).trim();
  const commit = (work: string, file: string, text: string): string => {
    writeFileSync(join(work, file), text);
    git(work, 'add', file);
    git(work, 'commit', '-q', '-m', `change ${file}`);
    return git(work, 'rev-parse', 'HEAD');
  };
  const shas: Record<string, string> = {};
  const checkout = (env: Record<string, string>, dest: string) =>
    spawnSync('sh', [join(EXAMPLES, 'checkout-refs.sh'), join(dir, dest)], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', CLONE_URL: `file://${join(dir, 'origin.git')}`, ...env },
    });

  // A GitHub stand-in: main with two commits, and pull request 7's head under refs/pull/7/head.
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'checkout-refs-'));
    const work = join(dir, 'work');
    git(dir, 'init', '-q', work);
    shas.base = commit(work, 'README', 'widgets\n');
    git(work, 'checkout', '-q', '-b', 'sprockets');
    shas.pull = commit(work, 'sprockets.txt', 'sprockets\n');
    git(work, 'checkout', '-q', 'main');
    shas.later = commit(work, 'CHANGES', 'later\n');
    git(dir, 'init', '-q', '--bare', join(dir, 'origin.git'));
    git(work, 'push', '-q', join(dir, 'origin.git'), 'main', 'sprockets:refs/pull/7/head');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const repo = { REPO_OWNER: 'acme', REPO_NAME: 'widgets' };

  it("merges a presubmit's pull request into the base commit PULL_REFS names, as Prow's clonerefs does", () => {
    const run = checkout({ ...repo, PULL_REFS: `main:${shas.base},7:${shas.pull}` }, 'presubmit');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const src = join(dir, 'presubmit');
    expect(git(src, 'rev-parse', 'HEAD^1', 'HEAD^2').split('\n')).toEqual([shas.base, shas.pull]);
    expect(existsSync(join(src, 'sprockets.txt'))).toBe(true);
    // The base as PULL_REFS names it, not main's newer head.
    expect(existsSync(join(src, 'CHANGES'))).toBe(false);
  });

  it("checks out a postsubmit's PULL_BASE_SHA even when the branch has moved on", () => {
    const run = checkout({ ...repo, PULL_REFS: `main:${shas.base}` }, 'postsubmit');
    expect(run.status).toBe(0);
    expect(git(join(dir, 'postsubmit'), 'rev-parse', 'HEAD')).toBe(shas.base);
  });

  it("checks out a branch's head when a periodic names one, having no PULL_REFS", () => {
    const run = checkout({ ...repo, PULL_BASE_REF: 'main' }, 'periodic');
    expect(run.status).toBe(0);
    expect(git(join(dir, 'periodic'), 'rev-parse', 'HEAD')).toBe(shas.later);
  });

  it('fails naming the parameter the Jenkins job forgot to declare', () => {
    const run = checkout({ REPO_NAME: 'widgets', PULL_REFS: `main:${shas.base}` }, 'undeclared');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('REPO_OWNER is not set: declare it as a parameter of the Jenkins job');
  });
});
