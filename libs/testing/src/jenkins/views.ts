import { isWaiting, type FakeJob, type JenkinsState } from './state.js';
import type { FakeBuild, FakeQueueItem } from './types.js';

const FREESTYLE = 'hudson.model.FreeStyleProject';
const FREESTYLE_BUILD = 'hudson.model.FreeStyleBuild';
const FOLDER = 'com.cloudbees.hudson.plugins.folder.Folder';
// Jenkins' `builds` field stops at the newest 100 (Job#getNewBuilds); `allBuilds` has the rest.
const BUILDS_IN_JOB_API = 100;

/** The JSON Jenkins' REST API shows for what the state holds, with URLs under the fake's root. */
export class JenkinsViews {
  constructor(
    private readonly state: JenkinsState,
    /** Root URL without a trailing slash, prefix included; known once the fake listens. */
    private readonly baseUrl: () => string,
    /** The user builds are started as, named in their causes. */
    private readonly user: string,
    private readonly crumbs: boolean,
  ) {}

  private jobUrl(name: string): string {
    return jobUrl(this.baseUrl(), name);
  }

  root(): Record<string, unknown> {
    const names = this.state.jobNames();
    const top = new Set(names.map((k) => k.split('/')[0]!));
    return {
      _class: 'hudson.model.Hudson',
      mode: 'NORMAL',
      nodeDescription: 'the Jenkins controller',
      useCrumbs: this.crumbs,
      useSecurity: true,
      url: `${this.baseUrl()}/`,
      jobs: [...top].map((name) => ({ _class: this.state.job(name) ? FREESTYLE : FOLDER, name, url: this.jobUrl(name) })),
    };
  }

  queue(): Record<string, unknown> {
    return { _class: 'hudson.model.Queue', discoverableItems: [], items: this.state.queue().map((item) => this.item(item)) };
  }

  queueItem(item: FakeQueueItem): Record<string, unknown> {
    const waiting = isWaiting(item);
    return {
      ...this.item(item),
      _class: waiting ? 'hudson.model.Queue$WaitingItem' : 'hudson.model.Queue$LeftItem',
      why: waiting ? why() : null,
      cancelled: item.cancelled,
      executable: item.build ? { _class: FREESTYLE_BUILD, number: item.build.number, url: item.build.url } : null,
    };
  }

  private item(item: FakeQueueItem): Record<string, unknown> {
    return {
      _class: 'hudson.model.Queue$WaitingItem',
      actions: [parametersAction(item.parameters), causeAction(this.user)],
      blocked: false,
      buildable: false,
      id: item.id,
      inQueueSince: item.inQueueSince,
      params: Object.entries(item.parameters)
        .map(([k, v]) => `\n${k}=${v}`)
        .join(''),
      stuck: false,
      task: { _class: FREESTYLE, name: item.job.split('/').at(-1), url: this.jobUrl(item.job), color: 'notbuilt' },
      url: `queue/item/${item.id}/`,
      why: why(),
    };
  }

  /**
   * The job's JSON. `tree=allBuilds[…]{from,to}` lists every build in that range, newest first, as
   * Jenkins does; otherwise `builds` stops at the newest 100 (Job#getNewBuilds).
   */
  job(job: FakeJob, tree = ''): Record<string, unknown> {
    const newestFirst = [...job.builds].reverse();
    const last = newestFirst[0];
    const all = /(?:^|,)allBuilds\[.*\](?:\{(\d*),?(\d*)\})?/.exec(tree);
    if (all) {
      const from = Number(all[1] || 0);
      const to = all[2] ? Number(all[2]) : newestFirst.length;
      return { _class: FREESTYLE, allBuilds: newestFirst.slice(from, to).map((b) => this.build(b)) };
    }
    const queued = this.state.queue().filter((i) => i.job === job.name);
    return {
      _class: FREESTYLE,
      name: job.name.split('/').at(-1),
      fullName: job.name,
      displayName: job.name.split('/').at(-1),
      url: this.jobUrl(job.name),
      buildable: true,
      builds: newestFirst.slice(0, BUILDS_IN_JOB_API).map((b) => this.build(b)),
      color: color(last),
      inQueue: queued.length > 0,
      lastBuild: last ? { _class: FREESTYLE_BUILD, number: last.number, url: last.url } : null,
      nextBuildNumber: job.nextNumber,
      queueItem: queued[0] ? this.item(queued[0]) : null,
    };
  }

  folder(name: string, children: string[]): Record<string, unknown> {
    const direct = new Set(children.map((c) => c.slice(name.length + 1).split('/')[0]!));
    return {
      _class: FOLDER,
      name: name.split('/').at(-1),
      fullName: name,
      url: this.jobUrl(name),
      jobs: [...direct].map((child) => {
        const full = `${name}/${child}`;
        return { _class: this.state.job(full) ? FREESTYLE : FOLDER, name: child, url: this.jobUrl(full) };
      }),
    };
  }

  build(build: FakeBuild): Record<string, unknown> {
    return {
      _class: FREESTYLE_BUILD,
      actions: [parametersAction(build.parameters), causeAction(this.user)],
      building: build.building,
      displayName: `#${build.number}`,
      duration: build.building ? 0 : Math.max(1, Date.now() - build.timestamp),
      fullDisplayName: `${build.job.split('/').join(' » ')} #${build.number}`,
      id: String(build.number),
      number: build.number,
      queueId: build.queueId,
      result: build.result,
      timestamp: build.timestamp,
      url: build.url,
    };
  }
}

/** A job's URL under the root, one `job/<segment>/` per folder level. */
export function jobUrl(baseUrl: string, name: string): string {
  return `${baseUrl}/${name
    .split('/')
    .map((segment) => `job/${encodeURIComponent(segment)}`)
    .join('/')}/`;
}

function why(): string {
  return 'Waiting for next available executor';
}

function parametersAction(parameters: Record<string, string>): Record<string, unknown> {
  return {
    _class: 'hudson.model.ParametersAction',
    parameters: Object.entries(parameters).map(([name, value]) => ({
      _class: 'hudson.model.StringParameterValue',
      name,
      value,
    })),
  };
}

function causeAction(user: string): Record<string, unknown> {
  return {
    _class: 'hudson.model.CauseAction',
    causes: [{ _class: 'hudson.model.Cause$UserIdCause', shortDescription: `Started by user ${user}`, userId: user, userName: user }],
  };
}

function color(build: FakeBuild | undefined): string {
  if (!build) return 'notbuilt';
  if (build.building) return 'blue_anime';
  switch (build.result) {
    case 'SUCCESS':
      return 'blue';
    case 'UNSTABLE':
      return 'yellow';
    case 'ABORTED':
      return 'aborted';
    default:
      return 'red';
  }
}
