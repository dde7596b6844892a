/**
 * Every NATS name Bowline uses: streams, subjects, buckets, durable consumers and lease keys. The
 * services share nothing but these, so the writer and the reader of each hand-off import the name
 * from here; docs/architecture.md draws who writes and who reads each one.
 *
 * History subjects (`bowline.history.<org>.<repo>.<pr>.<job>.<prowjob>`, periodics under
 * `bowline.history._periodic._._.<job>.<prowjob>`) are laid out by `historySubject` and `historyFilter`
 * in @bowline/prowjob (libs/prowjob/src/history.ts), beside the record they file: @bowline/prowjob
 * does not depend on this package, so they take `HISTORY_SUBJECT_PREFIX` as an argument.
 */

/** Streams. The hook writes every accepted webhook; the planner reads it. */
export const EVENTS_STREAM = 'EVENTS';
export const EVENTS_SUBJECT_PREFIX = 'bowline.events';

/**
 * The tenant of a config without tenants (@bowline/config's `DEFAULT_TENANT`, which does not
 * depend on this package): its events, and any published without a tenant, go under its name.
 */
export const IMPLICIT_TENANT = 'default';

/**
 * `bowline.events.<tenant>.github.<event>`: one GitHub event (`pull_request`, `push`, …) of a
 * tenant. Tenant names are `[a-z0-9-]+` (checkconfig), so each is one subject token, and a NATS
 * account can export or import one tenant's events by subject (README "Tenants").
 */
export function eventSubject(tenant: string, event: string): string {
  return `${EVENTS_SUBJECT_PREFIX}.${tenant}.github.${event}`;
}

/**
 * The subject a consumer of some tenants' events filters on: one tenant's, or every event when
 * no tenant is named. "Every event" is `bowline.events.>`, which also matches the subjects stored
 * before events carried a tenant (`bowline.events.github.<event>`), so an upgrade leaves none of
 * them unread.
 */
export function eventsFilter(tenant?: string): string {
  return tenant === undefined ? `${EVENTS_SUBJECT_PREFIX}.>` : `${EVENTS_SUBJECT_PREFIX}.${tenant}.github.>`;
}

/** The event name and tenant of an event subject, old (tenant-less: the implicit tenant) or new. */
export function parseEventSubject(subject: string): { tenant: string; event: string } | undefined {
  const parts = subject.split('.');
  if (parts[0] !== 'bowline' || parts[1] !== 'events') return undefined;
  if (parts.length === 4 && parts[2] === 'github') return { tenant: IMPLICIT_TENANT, event: parts[3]! };
  if (parts.length === 5 && parts[3] === 'github') return { tenant: parts[2]!, event: parts[4]! };
  return undefined;
}

/** The sinker writes one record per ProwJob state change; `bowline jobs` reads them. */
export const HISTORY_STREAM = 'HISTORY';
export const HISTORY_SUBJECT_PREFIX = 'bowline.history';

/** Any consumer writes a message it can never handle; `bowline events dead-letters` reads them. */
export const DEADLETTER_STREAM = 'DEADLETTER';
export const DEADLETTER_SUBJECT_PREFIX = 'bowline.deadletter';

/** `bowline.deadletter.<service>`: the dead letters of one service. */
export function deadLetterSubject(service: string): string {
  return `${DEADLETTER_SUBJECT_PREFIX}.${service}`;
}

/**
 * Buckets. `prowjobs`: one key per ProwJob (its name), the shared state. The planner creates jobs,
 * the jenkins-operator and the sinker move them, the reporter and `bowline jobs` read them.
 */
export const PROWJOBS_BUCKET = 'prowjobs';
/** The stream JetStream keeps behind the ProwJob bucket, which the sinker reads to keep the history. */
export const PROWJOBS_STREAM = `KV_${PROWJOBS_BUCKET}`;
/** `$KV.prowjobs.<prowjob>`: JetStream's subject for each key of the bucket, in `KV_prowjobs`. */
export const PROWJOBS_SUBJECT_PREFIX = `$KV.${PROWJOBS_BUCKET}`;
/** Leases (one key per lease, see `*_LEASE`); the bucket's max_age is their TTL. */
export const LEASES_BUCKET = 'bowline_leases';
/** The planner's claims: periodic slots (`periodic.<job>.<slot>`) and per-commit `/ok-to-test` approvals. */
export const PLANNER_CLAIMS_BUCKET = 'planner_claims';
/** The hook's claims on failed webhook deliveries it asked GitHub to send again. */
export const HOOK_REDELIVERIES_BUCKET = 'hook_redeliveries';
/** The reporter's claims on pull requests (`<org>/<repo>#<number>`) while it rewrites a failure comment. */
export const REPORTER_CLAIMS_BUCKET = 'reporter_claims';

/** Durable consumers. The planner's on EVENTS; it also names its dead-letter subject. */
export const PLANNER_CONSUMER = 'planner';

/**
 * The durable consumer of a service reading one tenant's events (`BOWLINE_TENANTS`): `planner`
 * reads every tenant's, `planner-payments` only payments'. Each is its own consumer, so planners
 * of different tenants never take over each other's filter.
 */
export function tenantConsumer(durable: string, tenant?: string): string {
  return tenant === undefined ? durable : `${durable}-${tenant}`;
}
/** The sinker's on `KV_prowjobs`, copying each state change to HISTORY. */
export const SINKER_HISTORY_CONSUMER = 'sinker-history';

/** Lease keys in `bowline_leases`: the one replica that acts. */
export const SINKER_LEASE = 'sinker';
export const JENKINS_OPERATOR_LEASE = 'jenkins-operator';
/** Its holder is the one reporter replica writing to GitHub (issue 15). */
export const REPORTER_LEASE = 'reporter';
export const KUBE_BRIDGE_LEASE = 'kube-bridge';
