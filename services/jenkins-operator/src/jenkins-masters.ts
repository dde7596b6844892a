import { readFileSync } from 'node:fs';
import type { ConfigSource, JenkinsMaster as MasterConfig } from '@bowline/config';
import { JenkinsClient, type JenkinsAuth, type JenkinsClientOptions } from '@bowline/jenkins';
import { describeError, type Logger } from '@bowline/observability';
import type { ProwJob } from '@bowline/prowjob';

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
  readFile?: (path: string) => string;
}

/**
 * The Jenkins masters of `bowline.jenkins`, in order, then the JENKINS_* master. A job runs on the
 * first whose `label_selector` takes it, as Prow shards jobs over jenkins-operators. Clients are
 * kept across config reloads while a master's URL and credential files stay the same, so a reload
 * does not throw away crumbs and sessions; credential files are read again when they change.
 */
export class JenkinsMasters {
  private readonly createClient: (options: JenkinsClientOptions) => JenkinsClient;
  private readonly readFile: (path: string) => string;
  private readonly clients = new Map<string, JenkinsClient>();
  private listedFrom?: MasterConfig[];
  private masters: Master[] = [];

  constructor(private readonly deps: JenkinsMastersDeps) {
    this.createClient = deps.createClient ?? ((options) => new JenkinsClient(options));
    this.readFile = deps.readFile ?? ((path) => readFileSync(path, 'utf8'));
  }

  /** Every master, in the order jobs are matched against them. */
  list(): Master[] {
    const listed = this.deps.config.get().bowline.jenkins;
    if (listed !== this.listedFrom) {
      this.listedFrom = listed;
      this.masters = this.build(listed);
    }
    return this.masters;
  }

  /**
   * The master a job runs on: the one it was handed to, else the first whose selector takes it.
   * Undefined when none does (or the one it was handed to is gone from the config).
   */
  forJob(job: ProwJob): Master | undefined {
    const masters = this.list();
    const handedTo = job.metadata.annotations[JENKINS_MASTER];
    if (handedTo !== undefined) return masters.find((m) => m.name === handedTo);
    return masters.find((m) => m.takes(job));
  }

  private build(listed: MasterConfig[]): Master[] {
    const masters = listed.map((config) => this.fromConfig(config));
    const fallback = this.deps.defaultClient;
    if (fallback && !listed.some((m) => m.name === DEFAULT_MASTER_NAME)) {
      masters.push({ name: DEFAULT_MASTER_NAME, client: fallback, maxConcurrency: 0, maxPendingMs: DEFAULT_MAX_PENDING_MS, takes: () => true });
    }
    const names = new Set(masters.map((m) => m.name));
    for (const key of this.clients.keys()) if (!names.has(key.split('\n', 1)[0]!)) this.clients.delete(key);
    return masters;
  }

  private fromConfig(config: MasterConfig): Master {
    const base = {
      name: config.name,
      maxConcurrency: config.maxConcurrency,
      maxPendingMs: config.maxPendingMs,
      takes: (job: ProwJob) => config.labelSelector.matches(job.metadata.labels),
    };
    return this.withClient(
      base,
      () => {
        let auth: JenkinsAuth = { kind: 'none' };
        if (config.bearerTokenFile) auth = { kind: 'bearer', token: this.readSecret(config.bearerTokenFile) };
        else if (config.user && config.tokenFile) auth = { kind: 'basic', user: config.user, token: this.readSecret(config.tokenFile) };
        return { url: config.url, auth, ca: config.caFile ? this.readFile(config.caFile) : undefined };
      },
      // The files' contents are part of the key, so a rotated token makes a new client at the
      // next reload, while an unchanged master keeps its client (and its crumb).
      [config.url, config.user ?? '', config.tokenFile ?? '', config.bearerTokenFile ?? '', config.caFile ?? ''],
    );
  }

  private withClient(
    base: Omit<Master, 'client' | 'problem'>,
    settings: () => Pick<JenkinsClientOptions, 'url' | 'auth' | 'ca'>,
    identity: string[],
  ): Master {
    let resolved: Pick<JenkinsClientOptions, 'url' | 'auth' | 'ca'>;
    try {
      resolved = settings();
    } catch (error) {
      const problem = `Jenkins master "${base.name}" cannot be used: ${describeError(error)}`;
      this.deps.logger.error({ master: base.name, err: describeError(error) }, 'Jenkins master cannot be used');
      return { ...base, problem };
    }
    const key = [base.name, ...identity, JSON.stringify(resolved.auth), resolved.ca ?? ''].join('\n');
    let client = this.clients.get(key);
    if (!client) {
      try {
        client = this.createClient({ ...resolved, logger: this.deps.logger.child({ master: base.name }) });
      } catch (error) {
        this.deps.logger.error({ master: base.name, err: describeError(error) }, 'Jenkins master cannot be used');
        return { ...base, problem: `Jenkins master "${base.name}" cannot be used: ${describeError(error)}` };
      }
      this.clients.set(key, client);
    }
    return { ...base, client };
  }

  private readSecret(path: string): string {
    try {
      return this.readFile(path).trim();
    } catch (error) {
      // The path is named, never the content.
      throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? describeError(error)}`, { cause: error });
    }
  }
}
