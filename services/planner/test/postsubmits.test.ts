import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EventEnvelope } from '@bowline/bus';
import { parseConfig, staticConfigSource } from '@bowline/config';
import { createLogger } from '@bowline/observability';
import { prowJobName, type ProwJob } from '@bowline/prowjob';
import { examplePayload, startProwJobBucket, type ProwJobBucket } from '@bowline/testing';
import { handlePush, planPostsubmits, type PushPayload } from '../src/postsubmits.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const NOW = new Date('2024-05-06T07:08:09.000Z');
const ZERO = '0'.repeat(40);

const CONFIG = `
postsubmits:
  acme/widgets:
  - name: build
    agent: jenkins
    context: ci/jenkins/build
  - name: docs
    agent: jenkins
    run_if_changed: ^docs/
  - name: code
    agent: jenkins
    skip_if_only_changed: ^docs/|\\.md$
  - name: always
    agent: jenkins
    always_run: true
  - name: manual
    agent: jenkins
    always_run: false
  - name: main-only
    agent: jenkins
    branches: [^main$]
  - name: not-on-release
    agent: jenkins
    skip_branches: [^release-]
  - name: release-tags
    agent: jenkins
    branches: ['^v\\d+\\.\\d+\\.\\d+$']
  - name: lint
    agent: kubernetes
    spec:
      containers:
      - image: golang:1.22
`;
const config = parseConfig(CONFIG, 'config.yaml');
const postsubmits = config.postsubmits['acme/widgets']!;

interface PushOptions {
  ref: string;
  commits?: { added?: string[]; removed?: string[]; modified?: string[] }[];
  after?: string;
  deleted?: boolean;
  org?: string;
  repo?: string;
}

/** GitHub's documented push payload, moved to acme/widgets and the given ref, commits and shas. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- GitHub's loose JSON, edited in place
function pushPayload(options: PushOptions): Record<string, any> {
  const payload = examplePayload('push');
  const org = options.org ?? 'acme';
  const repo = options.repo ?? 'widgets';
  const after = options.after ?? 'a'.repeat(40);
  Object.assign(payload, { ref: options.ref, before: 'b'.repeat(40), after, deleted: options.deleted ?? false, created: false });
  payload.commits = (options.commits ?? []).map((files, i) => ({
    ...payload.head_commit,
    id: `${i}`.padEnd(40, 'c'),
    added: files.added ?? [],
    removed: files.removed ?? [],
    modified: files.modified ?? [],
  }));
  Object.assign(payload.repository, { name: repo, full_name: `${org}/${repo}` });
  Object.assign(payload.repository.owner, { login: org, name: org });
  payload.sender.login = 'alice';
  payload.pusher.name = 'alice';
  return payload;
}

const CODE = [{ added: ['src/new.go'], modified: ['src/main.go'] }];
const DOCS_ONLY = [{ modified: ['docs/guide.md'] }, { added: ['README.md'] }];

describe('planPostsubmits', () => {
  const cases: { what: string; push: PushOptions; runs: string[] }[] = [
    {
      what: 'a push to main changing code runs every unfiltered job, the code job and main-only, not docs',
      push: { ref: 'refs/heads/main', commits: CODE },
      runs: ['always', 'build', 'code', 'main-only', 'not-on-release'],
    },
    {
      what: 'a push to main changing only docs runs docs and skips the job that ignores docs-only changes',
      push: { ref: 'refs/heads/main', commits: DOCS_ONLY },
      runs: ['always', 'build', 'docs', 'main-only', 'not-on-release'],
    },
    {
      what: 'files of every commit count: docs in one commit and code in another run both file-filtered jobs',
      push: { ref: 'refs/heads/main', commits: [{ removed: ['docs/old.md'] }, { modified: ['src/main.go'] }] },
      runs: ['always', 'build', 'code', 'docs', 'main-only', 'not-on-release'],
    },
    {
      what: 'a push to a release branch skips main-only and the job that skips release branches',
      push: { ref: 'refs/heads/release-1.0', commits: CODE },
      runs: ['always', 'build', 'code'],
    },
    {
      what: 'a branch name with a slash is matched whole',
      push: { ref: 'refs/heads/feature/main', commits: CODE },
      runs: ['always', 'build', 'code', 'not-on-release'],
    },
    {
      what: 'a branch deletion runs nothing',
      push: { ref: 'refs/heads/main', deleted: true, after: ZERO },
      runs: [],
    },
    {
      what: 'a push whose after is all zeros runs nothing even when not marked deleted',
      push: { ref: 'refs/heads/main', commits: CODE, after: ZERO },
      runs: [],
    },
    {
      what: 'a tag push runs the job whose branches match the tag, and jobs without branches (as Prow does)',
      push: { ref: 'refs/tags/v1.2.3' },
      runs: ['always', 'build', 'not-on-release', 'release-tags'],
    },
    {
      what: 'a tag push matching no branches filter runs only jobs without branches and without file filters',
      push: { ref: 'refs/tags/nightly-2024-05-06' },
      runs: ['always', 'build', 'not-on-release'],
    },
    {
      what: 'a tag deletion runs nothing',
      push: { ref: 'refs/tags/v1.2.3', deleted: true, after: ZERO },
      runs: [],
    },
  ];

  it.each(cases)('$what', ({ push, runs }) => {
    const selected = planPostsubmits(pushPayload(push) as unknown as PushPayload, postsubmits);
    expect(selected.map((p) => p.name).sort()).toEqual(runs);
  });

  it('never runs a job of another agent, nor one that sets always_run: false without file filters', () => {
    const everything = [{ added: ['docs/a.md', 'src/a.go'] }];
    for (const ref of ['refs/heads/main', 'refs/heads/release-1.0', 'refs/tags/v1.2.3']) {
      const names = planPostsubmits(pushPayload({ ref, commits: everything }) as unknown as PushPayload, postsubmits).map((p) => p.name);
      expect(names).not.toContain('lint');
      expect(names).not.toContain('manual');
    }
  });
});

describe('handlePush', () => {
  let bucket: ProwJobBucket;
  const counted: string[] = [];
  const deps = () => ({
    store: bucket.store,
    config: staticConfigSource(config),
    logger,
    now: () => NOW,
    created: { inc: ({ event }: { event: string }) => void counted.push(event) },
  });
  let lastDelivery = 0;
  const envelope = (payload: Record<string, unknown>): EventEnvelope => ({
    id: `push-delivery-${(lastDelivery += 1)}`,
    event: 'push',
    receivedAt: NOW.toISOString(),
    payload,
  });
  const jobsOf = async (deliveryId: string): Promise<ProwJob[]> =>
    (await bucket.store.list()).map((s) => s.job).filter((j) => j.metadata.annotations['bowline.dev/delivery-id'] === deliveryId);

  beforeAll(async () => {
    bucket = await startProwJobBucket();
  });

  afterAll(async () => {
    await bucket?.stop();
  });

  it('creates one ProwJob per selected postsubmit, shaped as Prow shapes a postsubmit', async () => {
    const event = envelope(pushPayload({ ref: 'refs/heads/main', commits: CODE, after: 'e'.repeat(40) }));
    expect(await handlePush(deps(), event)).toEqual({ kind: 'ack' });

    const jobs = await jobsOf(event.id);
    expect(jobs.map((j) => j.spec.job).sort()).toEqual(['always', 'build', 'code', 'main-only', 'not-on-release']);
    const build = jobs.find((j) => j.spec.job === 'build')!;
    expect(build.metadata.name).toBe(prowJobName(event.id, 'build'));
    expect(build.metadata.labels).toMatchObject({
      'created-by-prow': 'true',
      'prow.k8s.io/type': 'postsubmit',
      'prow.k8s.io/job': 'build',
      'prow.k8s.io/refs.org': 'acme',
      'prow.k8s.io/refs.repo': 'widgets',
      'prow.k8s.io/refs.base_ref': 'main',
    });
    expect(build.metadata.labels['prow.k8s.io/refs.pull']).toBeUndefined();
    expect(build.metadata.annotations).toMatchObject({ 'bowline.dev/event': 'push', 'bowline.dev/delivery-id': event.id, 'bowline.dev/triggered-by': 'alice' });
    expect(build.spec).toMatchObject({ type: 'postsubmit', agent: 'jenkins', context: 'ci/jenkins/build', report: true });
    // As Prow's trigger makes a postsubmit's refs: the repository and the push's comparison as links.
    const { repository, compare } = event.payload as { repository: { html_url: string }; compare: string };
    expect(build.spec.refs).toEqual({ org: 'acme', repo: 'widgets', repo_link: repository.html_url, base_ref: 'main', base_sha: 'e'.repeat(40), base_link: compare });
    expect(build.status).toMatchObject({ state: 'triggered', description: 'Job triggered.', startTime: NOW.toISOString() });
  });

  it('gives a tag push the tag name as base_ref', async () => {
    const event = envelope(pushPayload({ ref: 'refs/tags/v1.2.3', after: 'f'.repeat(40) }));
    await handlePush(deps(), event);
    const release = (await jobsOf(event.id)).find((j) => j.spec.job === 'release-tags');
    const { repository, compare } = event.payload as { repository: { html_url: string }; compare: string };
    expect(release?.spec.refs).toEqual({ org: 'acme', repo: 'widgets', repo_link: repository.html_url, base_ref: 'v1.2.3', base_sha: 'f'.repeat(40), base_link: compare });
  });

  it('creates nothing new when the same delivery comes again', async () => {
    const event = envelope(pushPayload({ ref: 'refs/heads/main', commits: DOCS_ONLY }));
    counted.length = 0;
    await handlePush(deps(), event);
    const first = (await jobsOf(event.id)).map((j) => `${j.metadata.name} ${j.metadata.creationTimestamp}`).sort();
    expect(counted).toHaveLength(5);

    expect(await handlePush({ ...deps(), now: () => new Date(NOW.getTime() + 60_000) }, event)).toEqual({ kind: 'ack' });
    expect((await jobsOf(event.id)).map((j) => `${j.metadata.name} ${j.metadata.creationTimestamp}`).sort()).toEqual(first);
    expect(counted).toHaveLength(5);
  });

  it('creates nothing for a branch deletion, nor for a repository without postsubmits', async () => {
    const deletion = envelope(pushPayload({ ref: 'refs/heads/main', deleted: true, after: ZERO }));
    const elsewhere = envelope(pushPayload({ ref: 'refs/heads/main', commits: CODE, repo: 'gadgets' }));
    expect(await handlePush(deps(), deletion)).toEqual({ kind: 'ack' });
    expect(await handlePush(deps(), elsewhere)).toEqual({ kind: 'ack' });
    expect(await jobsOf(deletion.id)).toEqual([]);
    expect(await jobsOf(elsewhere.id)).toEqual([]);
  });

  it('finds the org by owner.name when owner.login is missing', async () => {
    const payload = pushPayload({ ref: 'refs/heads/main', commits: CODE });
    delete payload.repository.owner.login;
    const event = envelope(payload);
    await handlePush(deps(), event);
    expect((await jobsOf(event.id)).map((j) => j.spec.refs.org)).toContain('acme');
  });

  it('drops a push event without a repository, which no retry can mend', async () => {
    const payload = pushPayload({ ref: 'refs/heads/main' });
    delete payload.repository;
    expect(await handlePush(deps(), envelope(payload))).toMatchObject({ kind: 'drop' });
  });
});
