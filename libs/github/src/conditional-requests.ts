import type { Octokit } from '@octokit/rest';

export interface ConditionalCacheOptions {
  /** How many answers to keep, least recently used dropped first (default 500). */
  maxEntries?: number;
}

export interface ConditionalRequestStats {
  /** GETs GitHub answered 304, served from the remembered answer. */
  hits(): number;
  /** GETs that went out and came back with anything but a 304: first reads, changes, errors. */
  misses(): number;
}

type OctokitResponse = Awaited<ReturnType<Octokit['request']>>;

interface Entry {
  etag: string;
  response: OctokitResponse;
}

const DEFAULT_MAX_ENTRIES = 500;
// Headers that describe the 304's own (empty) body; the remembered ones describe the kept body
// (RFC 9111 §3.2 excludes Content-Length from the update).
const OWN_BODY_HEADERS = new Set(['content-length', 'content-type', 'content-encoding', 'transfer-encoding']);

/**
 * Makes every GET conditional: remembers the ETag and answer per URL (LRU, bounded), sends
 * `If-None-Match`, and turns a 304 into the remembered answer. GitHub does not count a 304
 * against the 5,000-an-hour quota (docs: Best practices for using the REST API, "Use conditional
 * requests if appropriate"), and the planner re-reads the same pull requests, files, statuses and
 * comments all the time.
 *
 * One Octokit per identity: entries are not keyed by the token, because GitHub's ETags already
 * vary with `Authorization` and one cache never sees two identities.
 */
export function enableConditionalRequests(octokit: Octokit, options: ConditionalCacheOptions = {}): ConditionalRequestStats {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`maxEntries must be a positive integer, got ${String(options.maxEntries)}`);
  }
  // A Map iterates in insertion order, so deleting and setting again on every use makes its first
  // key the least recently used one.
  const cache = new Map<string, Entry>();
  let hits = 0;
  let misses = 0;

  const remember = (key: string, entry: Entry): void => {
    cache.delete(key);
    cache.set(key, entry);
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
  };

  // before-after-hook binds one options object to every hook of a request, so the header set on it
  // here reaches the request whichever hooks (auth among them) run inside this one.
  octokit.hook.wrap('request', async (request, requestOptions) => {
    const parsed = octokit.request.endpoint.parse(requestOptions);
    const headers = requestOptions.headers as Record<string, string | number | undefined>;
    if (
      parsed.method !== 'GET' ||
      // A caller validating on its own keeps its 304; and a streamed body cannot be kept.
      headers['if-none-match'] !== undefined ||
      requestOptions.request?.parseSuccessResponseBody === false
    ) {
      return request(requestOptions);
    }
    // GitHub varies its answers on Accept (`mediaType: { format: 'diff' }` on the same URL).
    const key = `GET ${parsed.url} ${String(parsed.headers.accept ?? '')}`;
    // Held on to, not looked up again: concurrent requests may evict it while this one is out.
    const known = cache.get(key);
    if (known) headers['if-none-match'] = known.etag;

    let response: OctokitResponse;
    try {
      response = await request(requestOptions);
    } catch (error) {
      if (known && statusOf(error) === 304) {
        hits += 1;
        remember(key, known);
        return replay(known.response, headersOf(error));
      }
      misses += 1;
      throw error;
    }
    misses += 1;
    const etag = response.headers.etag;
    if (response.status === 200 && typeof etag === 'string' && etag !== '') {
      // A copy: callers and octokit's paginate (which rewrites `data` of wrapped lists) may mutate
      // what they are given.
      remember(key, { etag, response: structuredClone(response) });
    } else {
      cache.delete(key);
    }
    return response;
  });

  return { hits: () => hits, misses: () => misses };
}

/** The remembered 200, with the headers of the 304 laid over its own, as a cache updates them. */
function replay(kept: OctokitResponse, fresh: Record<string, unknown>): OctokitResponse {
  const copy = structuredClone(kept);
  for (const [name, value] of Object.entries(fresh)) {
    if (!OWN_BODY_HEADERS.has(name.toLowerCase()) && typeof value === 'string') copy.headers[name] = value;
  }
  return copy;
}

// Read by shape, not `instanceof RequestError`: the class may come from another copy of the package.
function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

function headersOf(error: unknown): Record<string, unknown> {
  return (error as { response?: { headers?: Record<string, unknown> } } | null)?.response?.headers ?? {};
}
