import { FakeServer, type FakeRequest, type FakeResponse } from './http-fake.js';
import { JenkinsRoutes } from './jenkins/routes.js';
import { JenkinsState } from './jenkins/state.js';
import type { AutoRunPolicy, BuildResult, FakeBuild, FakeJenkinsOptions, FakeJobOptions, FakeQueueItem } from './jenkins/types.js';
import { jobUrl, JenkinsViews } from './jenkins/views.js';

export type * from './jenkins/types.js';

/**
 * A Jenkins controller on a loopback port, answering the parts of the REST API Bowline uses with
 * Jenkins' status codes, headers and JSON shapes: basic/bearer auth, CSRF crumbs, folder jobs,
 * the build queue, builds, stop and cancel. Tests drive what Jenkins would do on its own (a queued
 * item starting, a build finishing) with `startBuild`/`finishBuild`, or hand that to `autoRun`.
 *
 * This class is the fake's face: jobs, queue and builds are in jenkins/state.ts, their JSON in
 * jenkins/views.ts, the REST routes in jenkins/routes.ts.
 */
export class FakeJenkins extends FakeServer {
  private readonly state: JenkinsState;
  private readonly routes: JenkinsRoutes;
  private readonly prefix: string;
  private baseUrl = '';

  private constructor(options: FakeJenkinsOptions) {
    super();
    const user = options.user ?? 'bowline';
    const crumbs = options.crumb ?? true;
    this.prefix = normalisePrefix(options.prefix);
    const baseUrl = (): string => this.baseUrl;
    this.state = new JenkinsState(user, (name) => jobUrl(this.baseUrl, name));
    const views = new JenkinsViews(this.state, baseUrl, user, crumbs);
    this.routes = new JenkinsRoutes(this.state, views, {
      user,
      apiToken: options.apiToken ?? 'jenkins-token',
      bearerToken: options.bearerToken,
      crumbs,
      prefix: this.prefix,
      baseUrl,
    });
    for (const job of options.jobs ?? []) this.addJob(job);
  }

  static async start(options: FakeJenkinsOptions = {}): Promise<FakeJenkins> {
    const jenkins = new FakeJenkins(options);
    const origin = await jenkins.http.listen(0, options.tls);
    jenkins.baseUrl = `${origin}${jenkins.prefix}`;
    return jenkins;
  }

  /** Root URL without a trailing slash, prefix included. */
  override get url(): string {
    return this.baseUrl;
  }

  addJob(path: string, options: FakeJobOptions = {}): void {
    this.state.addJob(path, options);
  }

  queue(): FakeQueueItem[] {
    return this.state.queue();
  }

  builds(job?: string): FakeBuild[] {
    return this.state.builds(job);
  }

  findBuild(prowJobId: string): FakeBuild | undefined {
    return this.state.findBuild(prowJobId);
  }

  findQueueItem(prowJobId: string): FakeQueueItem | undefined {
    return this.state.findQueueItem(prowJobId);
  }

  /**
   * Queues a build as a `buildWithParameters` request would, without the HTTP round trip: for
   * setting up thousands of builds at once (the operator benchmark).
   */
  queueBuild(path: string, parameters: Record<string, string>): FakeQueueItem {
    return this.state.queueBuild(path, parameters);
  }

  startBuild(queueId: number): FakeBuild {
    return this.state.startBuild(queueId);
  }

  /** Ends a running build; `console` is appended before Jenkins' closing `Finished: RESULT` line. */
  finishBuild(build: FakeBuild, result: BuildResult, console?: string): void {
    this.state.finishBuild(build, result, console);
  }

  /**
   * What Jenkins does by itself with each newly queued item. `undefined` turns it off and drops
   * what is already scheduled, so a test can take over by hand.
   */
  autoRun(policy: AutoRunPolicy | undefined): void {
    this.state.autoRun(policy);
  }

  /** Called synchronously while Jenkins accepts the build request, before it answers. */
  onQueued(listener: (item: FakeQueueItem) => void): void {
    this.state.onQueued(listener);
  }

  rotateCrumb(): void {
    this.routes.rotateCrumb();
  }

  async close(): Promise<void> {
    this.state.autoRun(undefined);
    await this.http.close();
  }

  protected handle(request: FakeRequest): FakeResponse {
    return this.routes.handle(request);
  }
}

function normalisePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed ? `/${trimmed}` : '';
}
