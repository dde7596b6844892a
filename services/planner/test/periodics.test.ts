import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Kvm, type KV } from '@nats-io/kv';
import { Registry } from 'prom-client';
import { PLANNER_CLAIMS_BUCKET } from '@bowline/bus';
import { parseConfig, staticConfigSource, tenantFilterFromEnv, type Periodic, type TenantFilter } from '@bowline/config';
import { parseCron } from '@bowline/go';
import { createLogger } from '@bowline/observability';
import type { ProwJob } from '@bowline/prowjob';
import { startProwJobBucket, waitFor, type ProwJobBucket } from '@bowline/testing';
import {
  intervalOf,
  PeriodicScheduler,
  periodicClaimKey,
  periodicKey,
  periodicProwJobName,
  previousFire,
  slotId,
} from '../src/periodics.js';

const logger = createLogger({ service: 'test', level: 'silent' });

const CONFIG = `
periodics:
- name: hourly-once
  agent: jenkins
  interval: 1h
- name: folder/hourly.replicas
  agent: jenkins
  interval: 1h
- name: hourly-restart
  agent: jenkins
  interval: 1h
- name: hourly-crash
  agent: jenkins
  interval: 1h
- name: hourly-swept
  agent: jenkins
  interval: 1h
- name: every-five
  agent: jenkins
  cron: "*/5 * * * *"
- name: every-half-hour
  agent: jenkins
  cron: "@every 30m"
- name: started
  agent: jenkins
  interval: 24h
- name: pod-hourly
  agent: kubernetes
  interval: 1h
  spec:
    containers:
    - image: golang:1.22
`;
const config = parseConfig(CONFIG, 'config.yaml');

function only(name: string): Periodic {
  const periodic = config.periodics.find((p) => p.name === name);
  if (!periodic) throw new Error(`no periodic ${name} in the test config`);
  return periodic;
}

const at = (iso: string) => new Date(iso);
const slot = (iso: string) => ({ at: at(iso), id: slotId(at(iso)) });

describe('previousFire', () => {
  const cases: { schedule: string; now: string; fire: string }[] = [
    { schedule: '*/5 * * * *', now: '2024-05-06T10:07:30.000Z', fire: '2024-05-06T10:05:00.000Z' },
    { schedule: '*/5 * * * *', now: '2024-05-06T10:05:00.000Z', fire: '2024-05-06T10:05:00.000Z' },
    { schedule: '*/5 * * * *', now: '2024-05-06T10:04:59.999Z', fire: '2024-05-06T10:00:00.000Z' },
    { schedule: '*/5 * * * *', now: '2024-05-06T00:01:00.000Z', fire: '2024-05-06T00:00:00.000Z' },
    { schedule: '0 3 * * *', now: '2024-05-06T02:00:00.000Z', fire: '2024-05-05T03:00:00.000Z' },
    { schedule: '0 12 * * MON', now: '2024-05-08T09:00:00.000Z', fire: '2024-05-06T12:00:00.000Z' },
    { schedule: '0 0 1 1 *', now: '2024-05-06T10:00:00.000Z', fire: '2024-01-01T00:00:00.000Z' },
    { schedule: '0 0 29 2 *', now: '2025-06-01T00:00:00.000Z', fire: '2024-02-29T00:00:00.000Z' },
    { schedule: '@hourly', now: '2024-05-06T07:59:59.000Z', fire: '2024-05-06T07:00:00.000Z' },
    { schedule: '30 23 31 12 *', now: '2025-01-01T00:00:00.000Z', fire: '2024-12-31T23:30:00.000Z' },
  ];

  it.each(cases)('gives $fire as the last run of "$schedule" at $now', ({ schedule, now, fire }) => {
    expect(previousFire(parseCron(schedule), at(now))?.toISOString()).toBe(fire);
  });
});

describe('slots and keys', () => {
  it('names a slot by its UTC time, sortable, with milliseconds only when there are some', () => {
    expect(slotId(at('2024-05-06T07:00:00.000Z'))).toBe('20240506T070000Z');
    expect(slotId(at('2024-05-06T07:00:00.500Z'))).toBe('20240506T070000_500Z');
    const ids = ['2024-05-06T07:00:01.000Z', '2024-05-06T07:00:00.500Z', '2024-05-06T07:00:00.000Z'].map((t) => slotId(at(t)));
    expect([...ids].sort()).toEqual([...ids].reverse());
  });

  it.each([
    { name: 'nightly', readable: 'nightly' },
    { name: 'folder/sub-folder/job', readable: 'folder/sub-folder/job' },
    { name: 'e2e.suite (gpu)', readable: 'e2e_suite__gpu_' },
    { name: 'ünïcode', readable: '_n_code' },
  ])('keys job "$name" as a single valid NATS KV token', ({ name, readable }) => {
    const key = periodicKey(name);
    expect(key).toMatch(new RegExp(`^${readable.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[0-9a-f]{8}$`));
    expect(key).toMatch(/^[-/_=a-zA-Z0-9]+$/);
    expect(periodicClaimKey(name, '20240506T070000Z')).toBe(`periodic.${key}.20240506T070000Z`);
  });

  it('keeps apart job names that read the same once sanitised', () => {
    expect(periodicKey('a b')).not.toBe(periodicKey('a_b'));
    expect(periodicKey('a.b')).not.toBe(periodicKey('a_b'));
  });

  it('treats interval and @every as a fixed pace, and other cron schedules as fire times', () => {
    expect(intervalOf(only('hourly-once'))).toBe(3_600_000);
    expect(intervalOf(only('every-half-hour'))).toBe(1_800_000);
    expect(intervalOf(only('every-five'))).toBeUndefined();
  });
});

describe('PeriodicScheduler', () => {
  let bucket: ProwJobBucket;
  let claims: KV;

  beforeAll(async () => {
    bucket = await startProwJobBucket();
    claims = await new Kvm(bucket.nc).create(PLANNER_CLAIMS_BUCKET, { history: 1 });
  });

  afterAll(async () => {
    await bucket?.stop();
  });

  /**
   * A scheduler ("a replica") with its own memory and metrics, on the shared buckets, whose
   * config holds only the named periodics so that tests do not start each other's jobs.
   */
  function replica(jobs: string[] | Periodic[], clock: { now: Date }, options: { registry?: Registry; tickMs?: number; tenants?: TenantFilter } = {}) {
    const own = staticConfigSource({ ...config, periodics: jobs.map((job) => (typeof job === 'string' ? only(job) : job)) });
    return new PeriodicScheduler({
      store: bucket.store,
      claims,
      config: own,
      logger,
      registry: options.registry ?? new Registry(),
      now: () => clock.now,
      ...(options.tickMs ? { tickMs: options.tickMs } : {}),
      ...(options.tenants ? { tenants: options.tenants } : {}),
    });
  }

  async function jobsOf(name: string): Promise<ProwJob[]> {
    return (await bucket.store.list()).map((s) => s.job).filter((j) => j.spec.job === name);
  }

  const scheduledFor = (jobs: ProwJob[]) => jobs.map((j) => j.metadata.annotations['bowline.dev/scheduled-for']).sort();

  /** Ticks at each instant and checks which slots' runs that tick started. */
  async function expectStarts(job: string, scheduler: PeriodicScheduler, clock: { now: Date }, steps: { now: string; starts: string[] }[]) {
    for (const step of steps) {
      clock.now = at(step.now);
      const created = await scheduler.tick();
      expect({ now: step.now, created }).toEqual({ now: step.now, created: step.starts.map((s) => periodicProwJobName(job, slot(s))) });
    }
  }

  it('runs an interval job at once when it has never run, then once per period, and a missed period once', async () => {
    const clock = { now: at('2024-05-06T07:08:00Z') };
    await expectStarts('hourly-once', replica(['hourly-once'], clock), clock, [
      { now: '2024-05-06T07:08:00Z', starts: ['2024-05-06T07:00:00Z'] },
      { now: '2024-05-06T07:30:00Z', starts: [] },
      { now: '2024-05-06T07:59:59.999Z', starts: [] },
      { now: '2024-05-06T08:00:00Z', starts: ['2024-05-06T08:00:00Z'] },
      { now: '2024-05-06T08:45:00Z', starts: [] },
      // 09:00 passed with no planner running: only the latest slot runs.
      { now: '2024-05-06T10:20:00Z', starts: ['2024-05-06T10:00:00Z'] },
      { now: '2024-05-06T10:21:00Z', starts: [] },
    ]);
    const jobs = await jobsOf('hourly-once');
    expect(scheduledFor(jobs)).toEqual(['2024-05-06T07:00:00.000Z', '2024-05-06T08:00:00.000Z', '2024-05-06T10:00:00.000Z']);
    expect(jobs[0]!.spec).toMatchObject({ type: 'periodic', agent: 'jenkins', report: false, refs: { org: '', repo: '', base_ref: '', base_sha: '' } });
    expect(jobs[0]!.metadata.annotations['bowline.dev/schedule']).toBe('interval 1h0m0s');
  });

  it('keeps claims of the current and previous slot only', async () => {
    const prefix = `periodic.${periodicKey('hourly-once')}.`;
    const keys: string[] = [];
    for await (const key of await claims.keys(`${prefix}*`)) keys.push(key.slice(prefix.length));
    expect(keys.sort()).toEqual(['20240506T080000Z', '20240506T100000Z']);
  });

  it('creates exactly one ProwJob per slot when two replicas tick at the same instants', async () => {
    const job = 'folder/hourly.replicas';
    const clock = { now: at('2024-05-06T07:10:00Z') };
    const registries = [new Registry(), new Registry()];
    const [a, b] = registries.map((registry) => replica([job], clock, { registry }));
    const instants = ['07:10:00', '07:11:00', '08:00:00', '09:00:05', '09:30:00', '10:00:00', '10:59:59', '11:00:00', '11:00:01'];
    const created: string[] = [];
    for (const instant of instants) {
      clock.now = at(`2024-05-06T${instant}Z`);
      const [fromA, fromB] = await Promise.all([a!.tick(), b!.tick()]);
      created.push(...fromA, ...fromB);
    }
    const slots = ['07', '08', '09', '10', '11'].map((hour) => periodicProwJobName(job, slot(`2024-05-06T${hour}:00:00Z`)));
    expect(created.sort()).toEqual([...slots].sort());
    expect((await jobsOf(job)).map((j) => j.metadata.name).sort()).toEqual([...slots].sort());
    let started = 0;
    for (const registry of registries) {
      const metric = await registry.getSingleMetric('bowline_planner_periodics_started_total')!.get();
      started += metric.values.find((v) => v.labels.job === job)?.value ?? 0;
    }
    expect(started).toBe(5);
  });

  it('creates nothing new when a replica restarts within a slot', async () => {
    const clock = { now: at('2024-05-06T07:10:00Z') };
    await expectStarts('hourly-restart', replica(['hourly-restart'], clock), clock, [{ now: '2024-05-06T07:10:00Z', starts: ['2024-05-06T07:00:00Z'] }]);
    await expectStarts('hourly-restart', replica(['hourly-restart'], clock), clock, [
      { now: '2024-05-06T07:40:00Z', starts: [] },
      { now: '2024-05-06T08:00:30Z', starts: ['2024-05-06T08:00:00Z'] },
    ]);
    expect(await jobsOf('hourly-restart')).toHaveLength(2);
  });

  it('fires a */5 cron job at its fire times only, waiting for the first one after it appears', async () => {
    const clock = { now: at('2024-05-06T10:02:00Z') };
    await expectStarts('every-five', replica(['every-five'], clock), clock, [
      // 10:00 fired before anyone ran this job: Prow waits for the next fire, and so does Bowline.
      { now: '2024-05-06T10:02:00Z', starts: [] },
      { now: '2024-05-06T10:04:59Z', starts: [] },
      { now: '2024-05-06T10:05:00Z', starts: ['2024-05-06T10:05:00Z'] },
      { now: '2024-05-06T10:07:00Z', starts: [] },
      { now: '2024-05-06T10:10:30Z', starts: ['2024-05-06T10:10:00Z'] },
      // 10:15 … 10:25 were missed while no planner ran: the latest fire runs, once.
      { now: '2024-05-06T10:31:00Z', starts: ['2024-05-06T10:30:00Z'] },
      { now: '2024-05-06T10:34:59Z', starts: [] },
    ]);
    // A replica starting later knows the job from the bucket: the current fire has run already,
    // and the next one runs as usual.
    await expectStarts('every-five', replica(['every-five'], clock), clock, [
      { now: '2024-05-06T10:34:00Z', starts: [] },
      { now: '2024-05-06T10:35:00Z', starts: ['2024-05-06T10:35:00Z'] },
    ]);
    const jobs = await jobsOf('every-five');
    expect(scheduledFor(jobs)).toEqual(['2024-05-06T10:05:00.000Z', '2024-05-06T10:10:00.000Z', '2024-05-06T10:30:00.000Z', '2024-05-06T10:35:00.000Z']);
    expect(jobs[0]!.metadata.annotations['bowline.dev/schedule']).toBe('*/5 * * * *');
  });

  it('waits for the next fire of a changed cron schedule, as for a new job', async () => {
    const schedule = (cron: string) => parseConfig(`periodics:\n- {name: rescheduled, agent: jenkins, cron: "${cron}"}\n`, 'config.yaml').periodics;
    const clock = { now: at('2024-05-06T10:02:00Z') };
    await expectStarts('rescheduled', replica(schedule('*/5 * * * *'), clock), clock, [
      { now: '2024-05-06T10:02:00Z', starts: [] },
      { now: '2024-05-06T10:05:00Z', starts: ['2024-05-06T10:05:00Z'] },
    ]);
    // */7 last fired at 10:07, before anyone ran that schedule: it waits for 10:14.
    await expectStarts('rescheduled', replica(schedule('*/7 * * * *'), clock), clock, [
      { now: '2024-05-06T10:08:00Z', starts: [] },
      { now: '2024-05-06T10:14:00Z', starts: ['2024-05-06T10:14:00Z'] },
    ]);
  });

  it('runs an @every cron job at once, as Prow does, then on its pace', async () => {
    const clock = { now: at('2024-05-06T10:12:00Z') };
    await expectStarts('every-half-hour', replica(['every-half-hour'], clock), clock, [
      { now: '2024-05-06T10:12:00Z', starts: ['2024-05-06T10:00:00Z'] },
      { now: '2024-05-06T10:29:00Z', starts: [] },
      { now: '2024-05-06T10:30:00Z', starts: ['2024-05-06T10:30:00Z'] },
    ]);
  });

  it('creates the ProwJob once when a replica claimed the slot and died before creating it', async () => {
    const claimed = slot('2024-05-06T07:00:00Z');
    await claims.create(periodicClaimKey('hourly-crash', claimed), '');
    const clock = { now: at('2024-05-06T07:20:00Z') };
    await expectStarts('hourly-crash', replica(['hourly-crash'], clock), clock, [{ now: '2024-05-06T07:20:00Z', starts: ['2024-05-06T07:00:00Z'] }]);
    clock.now = at('2024-05-06T07:21:00Z');
    const [again, other] = await Promise.all([replica(['hourly-crash'], clock).tick(), replica(['hourly-crash'], clock).tick()]);
    expect([...again, ...other]).toEqual([]);
    expect((await jobsOf('hourly-crash')).map((j) => j.metadata.name)).toEqual([periodicProwJobName('hourly-crash', claimed)]);
  });

  it('does not start a run again when its finished ProwJob was deleted within the slot', async () => {
    const clock = { now: at('2024-05-06T07:05:00Z') };
    await expectStarts('hourly-swept', replica(['hourly-swept'], clock), clock, [{ now: '2024-05-06T07:05:00Z', starts: ['2024-05-06T07:00:00Z'] }]);
    // The sinker deletes finished ProwJobs after max_prowjob_age, which a long slot outlasts.
    await bucket.store.delete(periodicProwJobName('hourly-swept', slot('2024-05-06T07:00:00Z')));
    await expectStarts('hourly-swept', replica(['hourly-swept'], clock), clock, [{ now: '2024-05-06T07:50:00Z', starts: [] }]);
    expect(await jobsOf('hourly-swept')).toEqual([]);
  });

  it('leaves periodics of other agents alone', async () => {
    const clock = { now: at('2024-05-06T07:20:00Z') };
    expect(await replica(['pod-hourly'], clock).tick()).toEqual([]);
    expect(await jobsOf('pod-hourly')).toEqual([]);
  });

  it("starts only its tenants' periodics under BOWLINE_TENANTS, counted by tenant", async () => {
    const clock = { now: at('2024-05-06T07:20:00Z') };
    const payments = { ...only('hourly-once'), name: 'payments-hourly', tenant: 'payments' };
    const search = { ...only('hourly-once'), name: 'search-hourly', tenant: 'search' };
    const registry = new Registry();
    const scheduler = replica([payments, search], clock, { registry, tenants: tenantFilterFromEnv({ BOWLINE_TENANTS: 'payments' }) });
    expect(await scheduler.tick()).toEqual([periodicProwJobName('payments-hourly', slot('2024-05-06T07:00:00Z'))]);
    expect(await jobsOf('search-hourly')).toEqual([]);
    const [started] = await jobsOf('payments-hourly');
    expect(started!.metadata.labels['bowline.dev/tenant']).toBe('payments');
    expect(await registry.getSingleMetricAsString('bowline_planner_periodics_started_total')).toContain('bowline_planner_periodics_started_total{job="payments-hourly",tenant="payments"} 1');
  });

  it('ticks by itself once started, and stops cleanly', async () => {
    const clock = { now: at('2024-05-07T00:00:01Z') };
    const scheduler = replica(['started'], clock, { tickMs: 20 });
    scheduler.start();
    await waitFor('the daily periodic to start', async () => (await jobsOf('started')).length > 0);
    await scheduler.stop();
    expect(await jobsOf('started')).toHaveLength(1);
  });
});
