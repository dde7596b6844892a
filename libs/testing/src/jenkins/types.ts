import type { TlsIdentity } from '../http-fake.js';

// The shapes FakeJenkins takes and gives back; re-exported by jenkins-server.ts, its public face.

export type BuildResult = 'SUCCESS' | 'FAILURE' | 'UNSTABLE' | 'ABORTED' | 'NOT_BUILT';

export interface FakeBuild {
  /** Full job name, folders included: `a/b`. */
  job: string;
  number: number;
  queueId: number;
  parameters: Record<string, string>;
  building: boolean;
  result: BuildResult | null;
  url: string;
  timestamp: number;
  console: string;
}

export interface FakeQueueItem {
  id: number;
  job: string;
  parameters: Record<string, string>;
  cancelled: boolean;
  /** Set once the item has left the queue as a build. */
  build?: FakeBuild;
  inQueueSince: number;
}

export interface FakeJenkinsOptions {
  user?: string;
  apiToken?: string;
  /** Accepted as `Authorization: Bearer …` when set (what token-auth plugins in front of Jenkins do). */
  bearerToken?: string;
  /** CSRF protection; default true. When off, `/crumbIssuer/api/json` answers 404 as Jenkins does. */
  crumb?: boolean;
  jobs?: string[];
  /** Context path, as with `java -jar jenkins.war --prefix=/jenkins`. */
  prefix?: string;
  /** Serve HTTPS with this key and certificate (see `testServerTls`). */
  tls?: TlsIdentity;
}

export interface FakeJobOptions {
  /**
   * A pipeline whose `parameters` are declared in its Jenkinsfile: Jenkins knows them only once a
   * build of it has run, and until then refuses `buildWithParameters` (it is "not parameterized").
   */
  parametersInPipeline?: boolean;
  /**
   * A job that declares no parameters at all (a freestyle job without any, a pipeline without a
   * `parameters` directive): Jenkins refuses `buildWithParameters` however often it has run.
   */
  declaresNoParameters?: boolean;
}

export interface AutoRunPolicy {
  startAfterMs?: number;
  finishAfterMs?: number;
  result: (build: FakeBuild) => BuildResult;
}
