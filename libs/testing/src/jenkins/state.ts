import type { AutoRunPolicy, BuildResult, FakeBuild, FakeJobOptions, FakeQueueItem } from './types.js';

export interface FakeJob {
  name: string;
  builds: FakeBuild[];
  nextNumber: number;
  parameterized: boolean;
  declaresNoParameters: boolean;
}

/**
 * What the fake Jenkins holds, and the one place it changes: its jobs with their builds, the
 * build queue, and what Jenkins does by itself (starting queued items, finishing builds) when a
 * test hands that to `autoRun`.
 */
export class JenkinsState {
  private readonly jobs = new Map<string, FakeJob>();
  private readonly items: FakeQueueItem[] = [];
  private readonly listeners: ((item: FakeQueueItem) => void)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private policy?: AutoRunPolicy;
  private nextQueueId = 1;

  constructor(
    /** The user builds are started and stopped as. */
    private readonly user: string,
    /** A job's URL, for its builds' URLs. */
    private readonly jobUrl: (name: string) => string,
  ) {}

  addJob(path: string, options: FakeJobOptions = {}): void {
    const name = splitJob(path).join('/');
    if (!name) throw new Error(`addJob needs a job name, got "${path}"`);
    if (!this.jobs.has(name)) {
      const declaresNoParameters = options.declaresNoParameters ?? false;
      this.jobs.set(name, { name, builds: [], nextNumber: 1, parameterized: !options.parametersInPipeline && !declaresNoParameters, declaresNoParameters });
    }
  }

  job(name: string): FakeJob | undefined {
    return this.jobs.get(name);
  }

  jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  queue(): FakeQueueItem[] {
    return this.items.filter((item) => isWaiting(item));
  }

  queueItem(id: number): FakeQueueItem | undefined {
    return this.items.find((i) => i.id === id);
  }

  builds(job?: string): FakeBuild[] {
    if (job !== undefined) return [...(this.jobs.get(splitJob(job).join('/'))?.builds ?? [])];
    return [...this.jobs.values()].flatMap((j) => j.builds).sort((a, b) => a.queueId - b.queueId);
  }

  findBuild(prowJobId: string): FakeBuild | undefined {
    return this.builds().find((build) => build.parameters.PROW_JOB_ID === prowJobId);
  }

  findQueueItem(prowJobId: string): FakeQueueItem | undefined {
    return this.items.find((item) => item.parameters.PROW_JOB_ID === prowJobId);
  }

  queueBuild(path: string, parameters: Record<string, string>): FakeQueueItem {
    const job = this.jobs.get(splitJob(path).join('/'));
    if (!job) throw new Error(`job "${path}" was never added`);
    return this.enqueue(job, parameters);
  }

  enqueue(job: FakeJob, parameters: Record<string, string>): FakeQueueItem {
    // Queue.schedule2 folds a request into a waiting item of the same job with the same
    // parameters and answers with that item's location instead of queuing a second one.
    const existing = this.items.find((i) => isWaiting(i) && i.job === job.name && sameParameters(i.parameters, parameters));
    if (existing) return existing;

    const item: FakeQueueItem = {
      id: this.nextQueueId++,
      job: job.name,
      parameters,
      cancelled: false,
      inQueueSince: Date.now(),
    };
    this.items.push(item);
    for (const listener of this.listeners) listener(item);
    const policy = this.policy;
    if (policy) {
      this.later(policy.startAfterMs ?? 0, () => {
        if (!isWaiting(item)) return;
        const build = this.startBuild(item.id);
        this.later(policy.finishAfterMs ?? 0, () => {
          if (build.building) this.finishBuild(build, policy.result(build));
        });
      });
    }
    return item;
  }

  startBuild(queueId: number): FakeBuild {
    const item = this.items.find((i) => i.id === queueId);
    if (!item) throw new Error(`no queue item ${queueId}`);
    if (!isWaiting(item)) throw new Error(`queue item ${queueId} is no longer waiting`);
    const job = this.jobs.get(item.job);
    if (!job) throw new Error(`job "${item.job}" of queue item ${queueId} was never added`);
    const number = job.nextNumber++;
    const build: FakeBuild = {
      job: job.name,
      number,
      queueId,
      parameters: { ...item.parameters },
      building: true,
      result: null,
      url: `${this.jobUrl(job.name)}${number}/`,
      timestamp: Date.now(),
      console: `Started by user ${this.user}\nRunning as SYSTEM\nBuilding in workspace /var/jenkins_home/workspace/${job.name}\n`,
    };
    job.builds.push(build);
    item.build = build;
    // A pipeline's `parameters` directive runs first thing in the build and registers them.
    if (!job.declaresNoParameters) job.parameterized = true;
    return build;
  }

  finishBuild(build: FakeBuild, result: BuildResult, console?: string): void {
    if (!build.building) throw new Error(`build ${build.job} #${build.number} has already finished (${build.result})`);
    build.building = false;
    build.result = result;
    if (console) build.console += console.endsWith('\n') ? console : `${console}\n`;
    build.console += `Finished: ${result}\n`;
  }

  /** A running build stopped by `user`: it ends ABORTED, as Jenkins' stop does. */
  stop(build: FakeBuild, user: string): void {
    if (build.building) {
      build.console += `Aborted by ${user}\n`;
      this.finishBuild(build, 'ABORTED');
    }
  }

  /** Cancels a waiting item; false when there is none by that id still waiting. */
  cancel(id: string | null): boolean {
    const item = this.items.find((i) => String(i.id) === id);
    if (!item || !isWaiting(item)) return false;
    item.cancelled = true;
    return true;
  }

  autoRun(policy: AutoRunPolicy | undefined): void {
    this.policy = policy;
    if (!policy) this.clearTimers();
  }

  onQueued(listener: (item: FakeQueueItem) => void): void {
    this.listeners.push(listener);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }
}

export function isWaiting(item: FakeQueueItem): boolean {
  return !item.cancelled && !item.build;
}

export function splitJob(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function sameParameters(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
