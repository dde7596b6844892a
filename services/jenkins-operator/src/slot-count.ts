import type { Config } from '@bowline/config';
import { tenantOfJob, type ProwJob } from '@bowline/prowjob';
import type { JenkinsMasters, Master } from './jenkins-masters.js';

/** Which limit holds a job back: its tenant's quota is counted apart (a metric per tenant). */
export interface Full {
  description: string;
  limit: 'job' | 'operator' | 'master' | 'tenant';
}

/**
 * Builds holding a slot, per Jenkins job name within a tenant, per `jenkins_operators` entry, per
 * master and per tenant, and which limit a job would go past. An entry is the first whose selector
 * takes the job, as Prow picks the operator that runs it. A job's own `max_concurrency` counts its
 * name within its tenant only (Prow counts it across every repository): two tenants naming a job
 * alike must not hold each other's builds back (issue 17).
 */
export class SlotCount {
  private readonly byJob = new Map<string, number>();
  private readonly byEntry = new Map<number, number>();
  private readonly byMaster = new Map<string, number>();
  private readonly byTenant = new Map<string, number>();
  private readonly tenants = new Map<string, string>();
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly config: Config,
    private readonly masters: Pick<JenkinsMasters, 'forJob'>,
  ) {}

  take(job: ProwJob): void {
    increment(this.byJob, this.jobKey(job));
    increment(this.byTenant, this.tenantOf(job));
    const entry = this.entryOf(job);
    if (entry >= 0) increment(this.byEntry, entry);
    const master = this.masters.forJob(job);
    if (master) increment(this.byMaster, master.name);
  }

  /** The description of the limit that keeps the job waiting, if one does. */
  fullFor(job: ProwJob): Full | undefined {
    const jobLimit = job.spec.max_concurrency ?? 0;
    const running = this.byJob.get(this.jobKey(job)) ?? 0;
    if (jobLimit > 0 && running >= jobLimit) return { limit: 'job', description: `Waiting: ${running} of ${jobLimit} ${job.spec.job} builds running.` };
    const entry = this.entryOf(job);
    const entryLimit = entry >= 0 ? this.config.jenkinsOperators[entry]!.maxConcurrency : 0;
    const inEntry = this.byEntry.get(entry) ?? 0;
    if (entryLimit > 0 && inEntry >= entryLimit) return { limit: 'operator', description: `Waiting: ${inEntry} of ${entryLimit} Jenkins builds running.` };
    const master = this.masters.forJob(job);
    const onMaster = master ? (this.byMaster.get(master.name) ?? 0) : 0;
    if (master && master.maxConcurrency > 0 && onMaster >= master.maxConcurrency) {
      return { limit: 'master', description: `Waiting: ${onMaster} of ${master.maxConcurrency} builds running on Jenkins master ${master.name}.` };
    }
    const tenant = this.tenantOf(job);
    const quota = tenantOfJob(this.config, job).tenant?.quotas.maxConcurrency ?? 0;
    const ofTenant = this.byTenant.get(tenant) ?? 0;
    if (quota > 0 && ofTenant >= quota) {
      return { limit: 'tenant', description: `Waiting: ${ofTenant} of ${quota} builds of tenant ${tenant} running (its quotas.max_concurrency).` };
    }
    return undefined;
  }

  /** The tenant's name, looked up once per job and pass. */
  tenantOf(job: ProwJob): string {
    let tenant = this.tenants.get(job.metadata.name);
    if (tenant === undefined) {
      tenant = tenantOfJob(this.config, job).name;
      this.tenants.set(job.metadata.name, tenant);
    }
    return tenant;
  }

  private jobKey(job: ProwJob): string {
    return `${this.tenantOf(job)}/${job.spec.job}`;
  }

  private entryOf(job: ProwJob): number {
    let entry = this.entries.get(job.metadata.name);
    if (entry === undefined) {
      entry = this.config.jenkinsOperators.findIndex((o) => o.labelSelector.matches(job.metadata.labels));
      this.entries.set(job.metadata.name, entry);
    }
    return entry;
  }
}

/** Whether a limit applies to the job at all: only then can it have to wait for a slot. */
export function isLimited(job: ProwJob, config: Config, master: Master | undefined): boolean {
  if ((job.spec.max_concurrency ?? 0) > 0) return true;
  if ((master?.maxConcurrency ?? 0) > 0) return true;
  if ((tenantOfJob(config, job).tenant?.quotas.maxConcurrency ?? 0) > 0) return true;
  const entry = config.jenkinsOperators.find((o) => o.labelSelector.matches(job.metadata.labels));
  return (entry?.maxConcurrency ?? 0) > 0;
}

function increment<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
