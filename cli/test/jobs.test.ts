import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ensureHistoryStream, HISTORY_SUBJECT_PREFIX, openProwJobBucket } from '@bowline/bus';
import { parseConfig } from '@bowline/config';
import {
  historyMessageId,
  historySubject,
  newPeriodicJob,
  newPostsubmitJob,
  newPresubmitJob,
  prowJobName,
  ProwJobStore,
  TENANT_LABEL,
  toHistoryRecord,
  transition,
  type ProwJob,
  type ProwJobState,
} from '@bowline/prowjob';
import { freePort, startNats, type NatsServer } from '@bowline/testing';
import { runCli } from '../src/cli.js';

const CONFIG = parseConfig(
  `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    context: ci/jenkins/unit
  - name: lint
    agent: jenkins
postsubmits:
  acme/gadgets:
  - name: publish
    agent: jenkins
periodics:
- name: nightly
  agent: jenkins
  cron: "0 3 * * *"
`,
  'config.yaml',
);

const NOW = new Date('2024-06-01T12:00:00Z');
const at = (iso: string) => new Date(iso);

/** The story of one job: when it started and the states it went through, and whether the sinker deleted it. */
interface Story {
  id: string;
  make: (name: string, started: Date) => ProwJob;
  started: string;
  states: [ProwJobState, string][];
  deleted?: boolean;
  /** How the planner recorded the job's tenant: its label, or Prow's `spec.prowjob_defaults.tenant_id`; unset: none (`default`). */
  tenant?: { label: string } | { tenantId: string };
}

/** The job as the planner records a tenant on it. */
function withTenant(job: ProwJob, tenant: Story['tenant']): ProwJob {
  if (!tenant) return job;
  if ('label' in tenant) return { ...job, metadata: { ...job.metadata, labels: { ...job.metadata.labels, [TENANT_LABEL]: tenant.label } } };
  // Prow's tenant_id alone (a job Prow created): without the label the planner writes beside it.
  const { [TENANT_LABEL]: _label, ...labels } = job.metadata.labels;
  return { ...job, metadata: { ...job.metadata, labels }, spec: { ...job.spec, prowjob_defaults: { tenant_id: tenant.tenantId } } as ProwJob['spec'] };
}

const presubmit = (job: 'unit' | 'lint', pr: number, sha: string, comment: string) => (name: string, started: Date) =>
  newPresubmitJob(CONFIG.presubmits['acme/widgets']!.find((p) => p.name === job)!, {
    name,
    now: started,
    refs: { org: 'acme', repo: 'widgets', base_ref: 'main', base_sha: 'b'.repeat(40), pulls: [{ number: pr, author: 'alice', sha: sha.repeat(40) }] },
    cause: { event: 'issue_comment', action: 'created', deliveryId: `d-${name}`, user: 'bob', comment },
  });

const STORIES: Story[] = [
  {
    id: 'unit-pr7',
    make: presubmit('unit', 7, 'a', '/test all'),
    started: '2024-06-01T11:55:00Z',
    states: [['pending', '2024-06-01T11:56:10Z']],
  },
  {
    id: 'lint-pr7',
    make: presubmit('lint', 7, 'a', '/test all'),
    started: '2024-06-01T11:55:00Z',
    states: [
      ['pending', '2024-06-01T11:55:40Z'],
      ['success', '2024-06-01T11:57:12Z'],
    ],
  },
  {
    id: 'publish-push',
    make: (name, started) =>
      newPostsubmitJob(CONFIG.postsubmits['acme/gadgets']![0]!, {
        name,
        now: started,
        refs: { org: 'acme', repo: 'gadgets', base_ref: 'main', base_sha: 'c'.repeat(40) },
        cause: { event: 'push', deliveryId: `d-${name}`, user: 'carol' },
      }),
    started: '2024-06-01T10:00:00Z',
    states: [
      ['pending', '2024-06-01T10:00:30Z'],
      ['failure', '2024-06-01T10:14:05Z'],
    ],
    tenant: { label: 'payments' },
  },
  {
    id: 'nightly',
    make: (name, started) => newPeriodicJob(CONFIG.periodics[0]!, { name, now: started, cause: { scheduledFor: started, schedule: '0 3 * * *' } }),
    started: '2024-06-01T03:00:00Z',
    states: [
      ['pending', '2024-06-01T03:00:20Z'],
      ['success', '2024-06-01T03:41:00Z'],
    ],
  },
  {
    id: 'unit-pr7-older',
    make: presubmit('unit', 7, 'e', '/retest'),
    started: '2024-05-31T16:20:00Z',
    states: [
      ['pending', '2024-05-31T16:21:00Z'],
      ['aborted', '2024-05-31T16:30:00Z'],
    ],
    deleted: true,
  },
  {
    id: 'unit-pr5',
    make: presubmit('unit', 5, 'f', 'Flaky?\n/test unit'),
    started: '2024-05-24T09:00:00Z',
    states: [
      ['pending', '2024-05-24T09:01:00Z'],
      ['failure', '2024-05-24T09:09:30Z'],
    ],
    deleted: true,
    tenant: { tenantId: 'payments' },
  },
];

const nameOf = (id: string) => prowJobName('bowline-jobs-cli-sample', id);

describe('bowline jobs', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let operator: Server;
  let operatorUrl: string;
  const served: string[] = [];

  /** What the planner, the jenkins-operator and the sinker do to each job: create, move, record, delete. */
  async function play(store: ProwJobStore, story: Story): Promise<void> {
    const js = jetstream(nc);
    const name = nameOf(story.id);
    let job = withTenant(story.make(name, at(story.started)), story.tenant);
    const record = async () => {
      const { job: stored, revision } = (await store.get(name))!;
      const entry = toHistoryRecord(stored, revision);
      await js.publish(historySubject(HISTORY_SUBJECT_PREFIX, entry), JSON.stringify(entry), { msgID: historyMessageId(entry) });
    };
    await store.create(job);
    await record();
    for (const [state, when] of story.states) {
      const build = String(story.id.length + 40);
      const fields = state === 'pending' ? { url: `https://jenkins.example.com/job/${job.spec.job}/${build}/`, jenkins_build_id: build, description: 'Jenkins job running.' } : { description: `Jenkins job ended: ${state}.` };
      job = transition(job, state, at(when), fields)!;
      await store.update(name, () => job);
      await record();
    }
    if (story.deleted) await store.delete(name);
  }

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    await ensureHistoryStream(nc, { replicas: 1, maxAgeMs: 90 * 24 * 3_600_000 });
    const store = new ProwJobStore(await openProwJobBucket(nc, { replicas: 1 }));
    for (const story of STORIES) await play(store, story);

    // The jenkins-operator's GET /logs/{prowjob}: the log in chunks, or its 404.
    operator = createServer((req, res) => {
      served.push(req.url ?? '');
      if (req.url === `/logs/${nameOf('unit-pr7')}`) {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.write('Started by remote host\n');
        setTimeout(() => res.end('+ make test\nok  acme/widgets 1.2s\n'), 20);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`No Jenkins ProwJob named ${decodeURIComponent((req.url ?? '').slice('/logs/'.length))}.\n`);
    });
    await new Promise<void>((resolve) => operator.listen(0, '127.0.0.1', resolve));
    operatorUrl = `http://127.0.0.1:${(operator.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => operator?.close(resolve));
    await nc?.close();
    await nats?.stop();
  });

  async function bowline(...argv: string[]): Promise<{ code: number; out: string; lines: string[] }> {
    return bowlineWith({ NATS_URL: nats.url }, ...argv);
  }

  async function bowlineWith(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; out: string; lines: string[] }> {
    let out = '';
    const code = await runCli(argv, (line) => (out += `${line}\n`), { env, now: () => NOW, write: (chunk) => (out += chunk) });
    return { code, out, lines: out.trimEnd().split('\n') };
  }

  /** The NAME column of a table, mapped back to the stories' ids. */
  function idsIn(lines: string[]): string[] {
    const ids = new Map(STORIES.map((s) => [nameOf(s.id), s.id]));
    return lines.map((line) => ids.get(line.split(' ')[0]!)).filter((id): id is string => id !== undefined);
  }

  describe('list', () => {
    it('shows live and deleted jobs in one aligned table, newest first, the deleted ones marked', async () => {
      const { code, lines } = await bowline('jobs', 'list');

      expect(code).toBe(0);
      expect(lines[0]).toMatch(/^NAME {34}JOB +TYPE +REPO +PR +STATE +STARTED +DURATION +BUILD$/);
      expect(idsIn(lines)).toEqual(['lint-pr7', 'unit-pr7', 'publish-push', 'nightly', 'unit-pr7-older', 'unit-pr5']);
      const row = (id: string) => lines.find((l) => l.startsWith(nameOf(id)))!.split(/\s{2,}/);
      expect(row('unit-pr7')).toEqual([nameOf('unit-pr7'), 'unit', 'presubmit', 'acme/widgets', '7', 'pending', '2024-06-01 11:55:00Z', '5m+', '#48']);
      expect(row('publish-push')).toEqual([nameOf('publish-push'), 'publish', 'postsubmit', 'acme/gadgets', '-', 'failure', '2024-06-01 10:00:00Z', '14m5s', '#52']);
      expect(row('nightly')).toEqual([nameOf('nightly'), 'nightly', 'periodic', '-', '-', 'success', '2024-06-01 03:00:00Z', '41m', '#47']);
      expect(row('unit-pr5')).toEqual([nameOf('unit-pr5'), 'unit', 'presubmit', 'acme/widgets', '5', 'failure*', '2024-05-24 09:00:00Z', '9m30s', '#48']);
      // Columns line up: every row's STATE starts where the header's does.
      const stateColumn = lines[0]!.indexOf('STATE');
      expect(lines.slice(1, 7).map((l) => l.slice(stateColumn).split(' ')[0])).toEqual(['success', 'pending', 'failure', 'success', 'aborted*', 'failure*']);
      expect(lines.at(-1)).toBe('* deleted from the bucket by the sinker: from the history');
    });

    it.each([
      ['--repo acme/widgets', ['--repo', 'acme/widgets'], ['lint-pr7', 'unit-pr7', 'unit-pr7-older', 'unit-pr5']],
      ['--repo acme/gadgets', ['--repo', 'acme/gadgets'], ['publish-push']],
      ['--pr 7', ['--pr', '7'], ['lint-pr7', 'unit-pr7', 'unit-pr7-older']],
      ['--job unit', ['--job', 'unit'], ['unit-pr7', 'unit-pr7-older', 'unit-pr5']],
      ['--state failure', ['--state', 'failure'], ['publish-push', 'unit-pr5']],
      ['--state aborted, which only the history knows', ['--state', 'aborted'], ['unit-pr7-older']],
      ['--since 7d', ['--since', '7d'], ['lint-pr7', 'unit-pr7', 'publish-push', 'nightly', 'unit-pr7-older']],
      ['--since 2h', ['--since', '2h'], ['lint-pr7', 'unit-pr7', 'publish-push']],
      ['--since a date', ['--since', '2024-06-01'], ['lint-pr7', 'unit-pr7', 'publish-push', 'nightly']],
      ['--repo and --pr and --job together', ['--repo', 'acme/widgets', '--pr', '7', '--job', 'unit'], ['unit-pr7', 'unit-pr7-older']],
      // One job labelled, one (deleted: only the history knows it) with Prow's tenant_id.
      ['--tenant payments, read from the label or tenant_id', ['--tenant', 'payments'], ['publish-push', 'unit-pr5']],
      ['--tenant default: the jobs naming no tenant', ['--tenant', 'default'], ['lint-pr7', 'unit-pr7', 'nightly', 'unit-pr7-older']],
      ['--tenant and --repo together', ['--tenant', 'payments', '--repo', 'acme/widgets'], ['unit-pr5']],
    ])('filters by %s', async (_, flags, expected) => {
      const { code, lines } = await bowline('jobs', 'list', ...flags);

      expect(code).toBe(0);
      expect(idsIn(lines)).toEqual(expected);
    });

    it('says so when nothing matches', async () => {
      expect((await bowline('jobs', 'list', '--repo', 'acme/nothing')).lines).toEqual(['no jobs']);
    });

    it('shows the newest jobs up to --limit and says how many there are', async () => {
      const { lines } = await bowline('jobs', 'list', '--limit', '2');

      expect(idsIn(lines)).toEqual(['lint-pr7', 'unit-pr7']);
      expect(lines.at(-1)).toBe('2 of 6 jobs, newest first (--limit 0 for all)');
    });

    it('prints JSON for scripts: one record per job with its latest state and whether the bucket still has it', async () => {
      const { code, out } = await bowline('jobs', 'list', '--pr', '7', '--json');

      expect(code).toBe(0);
      const rows = JSON.parse(out) as Record<string, unknown>[];
      expect(rows.map((r) => [r.prowjob, r.state, r.live])).toEqual([
        [nameOf('lint-pr7'), 'success', true],
        [nameOf('unit-pr7'), 'pending', true],
        [nameOf('unit-pr7-older'), 'aborted', false],
      ]);
      expect(rows[2]).toMatchObject({
        job: 'unit',
        type: 'presubmit',
        repo: 'acme/widgets',
        pr: 7,
        sha: 'e'.repeat(40),
        triggeredBy: 'bob',
        trigger: '/retest',
        build: '54',
        url: 'https://jenkins.example.com/job/unit/54/',
        startedAt: '2024-05-31T16:20:00.000Z',
        completedAt: '2024-05-31T16:30:00.000Z',
      });
    });
  });

  describe('show', () => {
    it('shows a live job with its timeline from the history', async () => {
      const { code, lines } = await bowline('jobs', 'show', nameOf('publish-push'));

      expect(code).toBe(0);
      expect(lines).toEqual([
        `prowjob        ${nameOf('publish-push')}`,
        'job            publish (postsubmit)',
        'tenant         payments',
        'repo           acme/gadgets, branch main',
        `commit         ${'c'.repeat(40)}`,
        'context        publish',
        'triggered by   push (carol)',
        'state          failure: Jenkins job ended: failure.',
        'build          #52',
        'url            https://jenkins.example.com/job/publish/52/',
        'started        2024-06-01 10:00:00Z',
        'duration       14m5s',
        expect.stringMatching(/^in the bucket {2}yes \(revision \d+\)$/),
        '',
        'history:',
        '  TIME                  STATE      DESCRIPTION',
        '  2024-06-01 10:00:00Z  triggered  Job triggered.',
        '  2024-06-01 10:00:30Z  pending    Jenkins job running.',
        '  2024-06-01 10:14:05Z  failure    Jenkins job ended: failure.',
      ]);
    });

    it('shows a job the sinker deleted, from the history alone', async () => {
      const { code, lines } = await bowline('jobs', 'show', nameOf('unit-pr5'));

      expect(code).toBe(0);
      expect(lines).toContain('pull request   #5 by alice');
      expect(lines).toContain('triggered by   /test unit (bob)');
      expect(lines).toContain('state          failure: Jenkins job ended: failure.');
      expect(lines).toContain('in the bucket  no: deleted by the sinker, shown from the history');
      expect(lines.slice(-3).map((l) => l.trim().split(/\s{2,}/)[1])).toEqual(['triggered', 'pending', 'failure']);
    });

    it('prints the live ProwJob and the history as JSON', async () => {
      const { out } = await bowline('jobs', 'show', nameOf('lint-pr7'), '--json');

      const shown = JSON.parse(out) as { prowjob: ProwJob; history: { state: string }[] };
      expect(shown.prowjob.metadata.name).toBe(nameOf('lint-pr7'));
      expect(shown.prowjob.status.state).toBe('success');
      expect(shown.history.map((r) => r.state)).toEqual(['triggered', 'pending', 'success']);
    });

    it('exits 1 naming a job neither the bucket nor the history knows', async () => {
      const { code, out } = await bowline('jobs', 'show', 'no-such-job');

      expect(code).toBe(1);
      expect(out).toBe('bowline: no ProwJob named no-such-job in the bucket or the history\n');
    });
  });

  describe('logs', () => {
    it('streams the build log through the jenkins-operator', async () => {
      const { code, out } = await bowline('jobs', 'logs', nameOf('unit-pr7'), '--operator-url', operatorUrl);

      expect(code).toBe(0);
      expect(out).toBe('Started by remote host\n+ make test\nok  acme/widgets 1.2s\n');
      expect(served.at(-1)).toBe(`/logs/${nameOf('unit-pr7')}`);
    });

    it('finds the operator through BOWLINE_OPERATOR_URL', async () => {
      const { code, out } = await bowlineWith({ BOWLINE_OPERATOR_URL: `${operatorUrl}/` }, 'jobs', 'logs', nameOf('unit-pr7'));

      expect(code).toBe(0);
      expect(out).toContain('ok  acme/widgets');
    });

    it('exits 1 with the operator’s answer when it has no log', async () => {
      const { code, out } = await bowline('jobs', 'logs', nameOf('unit-pr5'), '--operator-url', operatorUrl);

      expect(code).toBe(1);
      expect(out).toBe(`bowline: no log for ${nameOf('unit-pr5')}: 404 No Jenkins ProwJob named ${nameOf('unit-pr5')}.\n`);
    });

    it('says where it looked when the operator cannot be reached', async () => {
      const port = await freePort();

      const { code, out } = await bowline('jobs', 'logs', nameOf('unit-pr7'), '--operator-url', `http://127.0.0.1:${port}`);

      expect(code).toBe(1);
      expect(out).toMatch(new RegExp(`^bowline: cannot reach the jenkins-operator at http://127.0.0.1:${port}: .*ECONNREFUSED.* \\(set --operator-url or BOWLINE_OPERATOR_URL\\)\n$`));
    });
  });

  describe('reaching NATS', () => {
    it('exits 1 saying which server it could not reach and how to name another', async () => {
      const port = await freePort();

      const { code, out } = await bowlineWith({}, 'jobs', 'list', '--nats', `nats://127.0.0.1:${port}`);

      expect(code).toBe(1);
      expect(out).toMatch(new RegExp(`^bowline: cannot connect to NATS at nats://127.0.0.1:${port}: .* \\(set --nats or NATS_URL\\)\n$`));
    });

    it('reads a server that has no bucket and no history yet as having no jobs', async () => {
      const empty = await startNats();
      try {
        expect((await bowlineWith({ NATS_URL: empty.url }, 'jobs', 'list')).lines).toEqual(['no jobs']);
        expect((await bowlineWith({ NATS_URL: empty.url }, 'jobs', 'show', nameOf('unit-pr7'))).code).toBe(1);
      } finally {
        await empty.stop();
      }
    });
  });

  it.each([
    [['jobs'], 'jobs needs a command'],
    [['jobs', 'frobnicate'], 'unknown jobs command "frobnicate"'],
    [['jobs', 'list', '--state', 'done'], '--state must be one of triggered, pending, success, failure, aborted, error'],
    [['jobs', 'list', '--since', 'last week'], '--since takes a duration such as 7d or 36h'],
    [['jobs', 'list', '--pr', 'seven'], '--pr must be a positive whole number'],
    [['jobs', 'list', '--tenant', 'Payments'], '--tenant takes a tenant name (lower-case letters, digits and -), not "Payments"'],
    [['jobs', 'list', '--repo', 'widgets'], '--repo must look like org/repo'],
    [['jobs', 'show'], 'jobs show needs one ProwJob name'],
    [['jobs', 'logs', 'a', 'b'], 'jobs logs needs one ProwJob name'],
  ])('answers %j with what is wrong, the usage and exit 2', async (argv, message) => {
    const { code, out } = await bowline(...argv);

    expect(code).toBe(2);
    expect(out).toContain(`bowline: ${message}`);
    expect(out).toContain('bowline jobs list [--repo ORG/REPO]');
  });
});
