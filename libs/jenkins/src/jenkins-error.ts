import { BowlineError } from '@bowline/observability';

export interface JenkinsErrorOptions {
  method: string;
  /** Path below the Jenkins root URL, query included; never credentials. */
  path: string;
  /** HTTP status Jenkins answered with; absent when no answer came (network error, timeout). */
  status?: number;
  cause?: unknown;
  context?: Record<string, unknown>;
}

/** A Jenkins call that failed, saying what was attempted and how Jenkins answered. */
export class JenkinsError extends BowlineError {
  readonly method: string;
  readonly path: string;
  readonly status?: number;

  constructor(message: string, options: JenkinsErrorOptions) {
    super(message, {
      cause: options.cause,
      context: { ...options.context, method: options.method, path: options.path, status: options.status },
    });
    this.method = options.method;
    this.path = options.path;
    this.status = options.status;
  }

  /**
   * Jenkins refused `buildWithParameters` because the job declares no parameters yet: a pipeline
   * whose `parameters` live in its Jenkinsfile and that has never run (JENKINS-41929). Jenkins
   * answers with an IllegalStateException page, "This build is not parameterized!".
   */
  get notParameterized(): boolean {
    return this.status !== undefined && this.status >= 400 && /not parameteri[sz]ed/i.test(String(this.context.detail ?? ''));
  }

  /** Worth trying again later: no answer at all, a server error, or Jenkins asking to slow down. */
  get transient(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 429;
  }
}
