import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { describeError, SettingsError, type Logger } from '@bowline/observability';
import { describeNetworkError, errorLike, excerpt, isLoginPage, readJson, readText, retryAfter } from './jenkins-answers.js';
import { JenkinsError } from './jenkins-error.js';

/** `none` is for a master that lets anonymous users build (rare; a test instance). */
export type JenkinsAuth = { kind: 'basic'; user: string; token: string } | { kind: 'bearer'; token: string } | { kind: 'none' };

export interface JenkinsClientOptions {
  /** Root URL of the controller, with its context path if any (`https://host/jenkins`). */
  url: string;
  auth: JenkinsAuth;
  logger: Logger;
  fetch?: typeof fetch;
  /**
   * PEM certificates to trust for this master instead of the system's (a company CA). Per client,
   * unlike NODE_EXTRA_CA_CERTS, so one master's CA does not widen what the others trust.
   */
  ca?: string;
  /** Per attempt; default 30 s. */
  timeoutMs?: number;
  /** How many times a GET is tried again after a network error, a 5xx or a 429; default 3. */
  retries?: number;
  /** First backoff delay, doubled each retry, plus jitter; default 200 ms. */
  retryBaseMs?: number;
}

interface Crumb {
  field: string;
  value: string;
  /** Session cookie the crumb belongs to; since Jenkins 2.176 a crumb is only valid with it. */
  cookie?: string;
}

const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Requests to Jenkins' REST API over plain `fetch`. GETs are retried; POSTs are sent once, because a POST
 * whose answer was lost may already have queued a build, and only a look-up by `PROW_JOB_ID` can
 * tell. The one exception is a POST refused for its CSRF crumb, which Jenkins rejects before
 * acting on it.
 */
export class JenkinsHttp {
  private readonly root: string;
  private readonly authorization?: string;
  readonly log: Logger;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryBaseMs: number;
  private crumb?: Promise<Crumb | null>;

  constructor(options: JenkinsClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (error) {
      // The value itself stays out of the message: a mistyped URL may still hold a password.
      throw new SettingsError('the Jenkins URL is not an absolute http(s) URL', { cause: error });
    }
    if (url.username || url.password) {
      throw new SettingsError('the Jenkins URL carries credentials: give them as the user and API token (or bearer token) instead');
    }
    this.root = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    if (options.auth.kind === 'basic') this.authorization = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.token}`, 'utf8').toString('base64')}`;
    else if (options.auth.kind === 'bearer') this.authorization = `Bearer ${options.auth.token}`;
    this.log = options.logger.child({ jenkins: this.root });
    const base = options.fetch ?? fetch;
    if (options.ca) {
      // Node's fetch is undici: a dispatcher with its own CA is how one client trusts one master's CA.
      const dispatcher = new Agent({ connect: { ca: options.ca } });
      this.fetchImpl = (input, init) => base(input, { ...init, dispatcher } as RequestInit);
    } else {
      this.fetchImpl = base;
    }
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 3;
    this.retryBaseMs = options.retryBaseMs ?? 200;
  }

  async getJson<T>(path: string, what: string): Promise<T> {
    return this.get(path, what, (response) => readJson<T>(response, what, path));
  }

  async get<T>(
    path: string,
    what: string,
    read: (response: Response) => Promise<T>,
    options: { stream?: boolean; signal?: AbortSignal } = {},
  ): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      let failure: JenkinsError;
      let retryAfterMs: number | undefined;
      try {
        const response = await this.send('GET', path, {}, options);
        if (response.ok) return await read(response);
        retryAfterMs = retryAfter(response);
        failure = this.statusError(what, 'GET', path, response.status, await readText(response));
      } catch (error) {
        if (error instanceof JenkinsError) throw error;
        failure = this.requestError(what, 'GET', path, error);
      }
      if (!failure.transient || attempt >= this.retries || options.signal?.aborted) throw failure;
      const delayMs = this.backoff(attempt, retryAfterMs);
      this.log.warn({ method: 'GET', path, status: failure.status, attempt: attempt + 1, delayMs, err: failure }, 'Jenkins request failed; trying again');
      await sleep(delayMs, undefined, { signal: options.signal });
    }
  }

  async post(
    path: string,
    what: string,
    options: { body?: string; contentType?: string; accept: (response: Response) => boolean },
  ): Promise<Response> {
    for (let resent = false; ; resent = true) {
      const crumbRequest = this.crumbRequest();
      let crumb: Crumb | null;
      try {
        crumb = await crumbRequest;
      } catch (error) {
        throw new JenkinsError(`${what}: ${describeError(error)}`, {
          method: 'POST',
          path,
          status: error instanceof JenkinsError ? error.status : undefined,
          cause: error,
        });
      }
      const headers: Record<string, string> = {};
      if (options.contentType) headers['content-type'] = options.contentType;
      if (crumb) {
        headers[crumb.field] = crumb.value;
        if (crumb.cookie) headers.cookie = crumb.cookie;
      }

      let response: Response;
      try {
        response = await this.send('POST', path, headers, { body: options.body });
      } catch (error) {
        throw this.requestError(what, 'POST', path, error);
      }
      if (response.status === 403) {
        const text = await readText(response);
        if (!resent && /crumb/i.test(text)) {
          this.log.info({ path }, 'Jenkins refused the CSRF crumb; fetching a new one and sending the request again');
          if (this.crumb === crumbRequest) this.crumb = undefined;
          continue;
        }
        throw this.statusError(what, 'POST', path, 403, text);
      }
      if (options.accept(response)) return response;
      throw this.statusError(what, 'POST', path, response.status, await readText(response), response.headers.get('location'));
    }
  }

  private crumbRequest(): Promise<Crumb | null> {
    if (!this.crumb) {
      const request = this.fetchCrumb();
      this.crumb = request;
      request.catch(() => {
        if (this.crumb === request) this.crumb = undefined;
      });
    }
    return this.crumb;
  }

  private async fetchCrumb(): Promise<Crumb | null> {
    const path = 'crumbIssuer/api/json';
    const what = 'cannot fetch a CSRF crumb';
    try {
      return await this.get(path, what, async (response) => {
        const raw = await readJson<{ crumb?: unknown; crumbRequestField?: unknown }>(response, what, path);
        if (typeof raw.crumb !== 'string' || typeof raw.crumbRequestField !== 'string') {
          throw new JenkinsError(`${what}: Jenkins answered without crumb and crumbRequestField`, { method: 'GET', path, status: response.status });
        }
        const cookies = response.headers
          .getSetCookie()
          .map((cookie) => cookie.split(';', 1)[0]!.trim())
          .filter((cookie) => cookie.length > 0);
        return { field: raw.crumbRequestField, value: raw.crumb, cookie: cookies.length > 0 ? cookies.join('; ') : undefined };
      });
    } catch (error) {
      if (error instanceof JenkinsError && error.status === 404) {
        this.log.debug('Jenkins has no crumb issuer (CSRF protection is off); sending requests without a crumb');
        return null;
      }
      throw error;
    }
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    options: { body?: string; stream?: boolean; signal?: AbortSignal },
  ): Promise<Response> {
    const url = `${this.root}/${path}`;
    const init: RequestInit = {
      method,
      headers: this.authorization ? { authorization: this.authorization, ...headers } : headers,
      body: options.body,
      // A POST's 302 is Jenkins' way of saying done; following it would turn into a GET of a page.
      redirect: method === 'POST' ? 'manual' : 'follow',
    };
    const started = Date.now();
    let response: Response;
    if (!options.stream) {
      response = await this.fetchImpl(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } else {
      // AbortSignal.timeout would also cut the body off mid-stream, so only the wait is timed here.
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError')),
        this.timeoutMs,
      );
      const signal = options.signal ? AbortSignal.any([controller.signal, options.signal]) : controller.signal;
      try {
        response = await this.fetchImpl(url, { ...init, signal });
      } finally {
        clearTimeout(timer);
      }
    }
    this.log.debug({ method, path, status: response.status, ms: Date.now() - started }, 'Jenkins answered');
    return response;
  }

  private statusError(what: string, method: string, path: string, status: number, body: string, location?: string | null): JenkinsError {
    let hint = '';
    if (status === 401) hint = ' (check the Jenkins user and API token)';
    else if (location && isLoginPage(location)) hint = ' (a redirect to the login page: check the Jenkins credentials)';
    const detail = excerpt(body);
    return new JenkinsError(`${what}: Jenkins answered ${status}${hint}`, { method, path, status, context: detail ? { detail } : {} });
  }

  private requestError(what: string, method: string, path: string, error: unknown): JenkinsError {
    const timedOut = errorLike(error)?.name === 'TimeoutError';
    let reason = timedOut ? `no answer within ${this.timeoutMs} ms` : describeNetworkError(error);
    if (method === 'POST') reason += '; Jenkins may still have acted on the request';
    return new JenkinsError(`${what}: ${reason}`, { method, path, cause: error });
  }

  private backoff(attempt: number, retryAfterMs: number | undefined): number {
    const exponential = this.retryBaseMs * 2 ** attempt;
    // Jitter keeps many operators that saw the same outage from coming back in step.
    const delay = exponential + Math.random() * exponential;
    return Math.max(delay, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  }
}
