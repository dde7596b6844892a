/** One request as a fake server saw it, kept so tests can assert on what was really sent. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/repos/o/r/statuses/abc`. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Status the fake answered with. */
  status: number;
  at: number;
}

/** Which requests a fault applies to, or which recorded requests a test wants. Every given field must match. */
export interface RequestMatcher {
  method?: string;
  /** Exact path, or a regular expression tested against the path. */
  path?: string | RegExp;
}

export function matches(matcher: RequestMatcher, method: string, path: string): boolean {
  if (matcher.method && matcher.method.toUpperCase() !== method) return false;
  if (matcher.path === undefined) return true;
  return typeof matcher.path === 'string' ? matcher.path === path : matcher.path.test(path);
}

/**
 * Every request a fake server answered, in the order it answered them: the one record FakeGitHub
 * and FakeJenkins both keep, and the look-ups tests use to find what a client really sent.
 */
export class RequestRecorder {
  readonly requests: RecordedRequest[] = [];
  private readonly listeners: ((request: RecordedRequest) => void)[] = [];

  record(request: RecordedRequest): void {
    this.requests.push(request);
    for (const listener of this.listeners) listener(request);
  }

  /** Recorded requests matching `matcher`. */
  requestsTo(matcher: RequestMatcher): RecordedRequest[] {
    return this.requests.filter((r) => matches(matcher, r.method, r.path));
  }

  /** Calls `listener` with every request once it is answered (the demo prints them). */
  onRequest(listener: (request: RecordedRequest) => void): void {
    this.listeners.push(listener);
  }
}
