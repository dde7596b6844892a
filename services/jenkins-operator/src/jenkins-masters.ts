import { readFileSync } from 'node:fs';
import type { Config, ConfigSource, JenkinsMaster as MasterConfig, Tenant } from '@bowline/config';
import { JenkinsClient, type JenkinsAuth, type JenkinsClientOptions } from '@bowline/jenkins';
import { describeError, type Logger } from '@bowline/observability';
import { tenantOfJob, type ProwJob } from '@bowline/prowjob';

/** The master a job was handed to, so it is followed there even after the selectors change. */
export const JENKINS_MASTER = 'bowline.dev/jenkins-master';

/** `bowline.jenkins[].max_pending`'s default, as Prow's plank `max_pending`. */
export const DEFAULT_MAX_PENDING_MS = 24 * 3_600_000;

/** The master named by the JENKINS_* variables. */
export const DEFAULT_MASTER_NAME = 'default';

/**
 * A master as the operator uses it. `problem` says why it cannot be used (its token file cannot
 * be read): its jobs wait with that as their description rather than go to another master.
 */
export interface Master {
  name: string;
  /** The tenant whose jobs, and only whose, run on it. */
  tenant: string;
  client?: JenkinsClient;
  problem?: string;
  maxConcurrency: number;
  maxPendingMs: number;
  takes(job: ProwJob): boolean;
}

export interface JenkinsMastersDeps {
  config: ConfigSource;
  /** The JENKINS_* variables' master: used alone, or after the listed ones as the catch-all. */
  defaultClient?: JenkinsClient;
  logger: Logger;
  /** Builds one master's client; the operator's adds request metrics and its retry settings. */
  createClient?: (options: JenkinsClientOptions) => JenkinsClient;
}

/**
 * The Jenkins masters of each tenant (`bowline.tenants[].jenkins`; without tenants, the implicit
 * tenant's `bowline.jenkins`), in order, then for the implicit tenant only the JENKINS_* master. A
 * job runs on the first master of its own tenant whose `label_selector` takes it, as Prow shards
 * jobs over jenkins-operators; another tenant's masters are never tried (issue 17). Clients are
 * kept across config reloads while a master's URL, credentials and CA stay the same, so a reload
 * does not throw away crumbs and sessions; credential files are read again at each reload.
 */
export class JenkinsMasters {
  private readonly createClient: (options: JenkinsClientOptions) => JenkinsClient;
  /** The clients the current masters use, by what each is built from. */
  private clients = new Map<string, JenkinsClient>();
  private builtFrom?: Tenant[];
  private byTenant = new Map<string, Master[]>();

  constructor(private readonly deps: JenkinsMastersDeps) {
    this.createClient = deps.createClient ?? ((options) => new JenkinsClient(options));
  }

  /** Every master of every tenant, each tenant's in the order its jobs are matched against them. */
  list(): Master[] {
    return [...this.current().values()].flat();
  }

  /**
   * The master a job runs on: the one it was handed to, else the first of its tenant's whose
   * selector takes it. Undefined when none does (or the one it was handed to is gone from its
   * tenant's list); `waitingFor` says why.
   */
  forJob(job: ProwJob): Master | undefined {
    const config = this.deps.config.get();
    const masters = this.current(config).get(tenantOfJob(config, job).name) ?? [];
    const handedTo = job.metadata.annotations[JENKINS_MASTER];
    if (handedTo !== undefined) return masters.find((m) => m.name === handedTo);
    return masters.find((m) => m.takes(job));
  }

  /** Why the job has no usable master: the description it waits with. */
  waitingFor(job: ProwJob): string {
    const config = this.deps.config.get();
    const master = this.forJob(job);
    if (master?.problem) return master.problem;
    const { name, tenant } = tenantOfJob(config, job);
    if (!tenant) return `Waiting: tenant "${name}" of this job is not in the config, so no Jenkins master may run it.`;
    if (tenant.implicit) return 'Waiting: no Jenkins master in bowline.jenkins takes this job (check the label_selector of each).';
    return `Waiting: no Jenkins master of tenant ${name} takes this job (check the label_selector of each in bowline.tenants[${name}].jenkins).`;
  }

  private current(config: Config = this.deps.config.get()): Map<string, Master[]> {
    const tenants = config.bowline.tenants;
    if (tenants !== this.builtFrom) {
      this.builtFrom = tenants;
      // Only the clients this config still uses are kept: a rotated token's old client goes.
      const previous = this.clients;
      this.clients = new Map();
      this.byTenant = new Map(tenants.map((tenant) => [tenant.name, this.build(tenant, previous)]));
    }
    return this.byTenant;
  }

  private build(tenant: Tenant, previous: Map<string, JenkinsClient>): Master[] {
    const listed = tenant.jenkins;
    const masters = listed.map((config) => this.fromConfig(tenant.name, config, previous));
    // The JENKINS_* master belongs to no listed tenant: only a config without tenants uses it.
    const fallback = this.deps.defaultClient;
    if (tenant.implicit && fallback && !listed.some((m) => m.name === DEFAULT_MASTER_NAME)) {
      masters.push({ name: DEFAULT_MASTER_NAME, tenant: tenant.name, client: fallback, maxConcurrency: 0, maxPendingMs: DEFAULT_MAX_PENDING_MS, takes: () => true });
    }
    return masters;
  }

  /**
   * The master's client, kept while what it is built from (URL, credentials, CA, read afresh at
   * each reload) stays the same: a rotated token makes a new client, an unchanged master keeps
   * its client and its crumb.
   */
  private fromConfig(tenant: string, config: MasterConfig, previous: Map<string, JenkinsClient>): Master {
    const base = {
      name: config.name,
      tenant,
      maxConcurrency: config.maxConcurrency,
      maxPendingMs: config.maxPendingMs,
      takes: (job: ProwJob) => config.labelSelector.matches(job.metadata.labels),
    };
    try {
      let auth: JenkinsAuth = { kind: 'none' };
      if (config.bearerTokenFile) auth = { kind: 'bearer', token: this.readFileNamed(config.bearerTokenFile) };
      else if (config.user && config.tokenFile) auth = { kind: 'basic', user: config.user, token: this.readFileNamed(config.tokenFile) };
      const ca = config.caFile ? this.readFileNamed(config.caFile) : undefined;
      const key = [tenant, config.name, config.url, JSON.stringify(auth), ca ?? ''].join('\n');
      const client = previous.get(key) ?? this.createClient({ url: config.url, auth, ca, logger: this.deps.logger.child({ master: config.name, tenant }) });
      this.clients.set(key, client);
      return { ...base, client };
    } catch (error) {
      this.deps.logger.error({ master: config.name, tenant, err: error }, 'Jenkins master cannot be used');
      return { ...base, problem: `Jenkins master "${config.name}" cannot be used: ${describeError(error)}` };
    }
  }

  /** A credential or CA file, trimmed; an error names the path, never the content. */
  private readFileNamed(path: string): string {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (error) {
      throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? describeError(error)}`, { cause: error });
    }
  }
}
