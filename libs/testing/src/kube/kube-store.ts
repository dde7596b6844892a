import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { pruneUnknownFields, prowJobSchemaProblems } from './prowjob-schema.js';
import { alreadyExists, badRequest, conflict, expired, invalid, notFound, type KubeStatus } from './kube-status.js';

export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata: KubeMetadata;
};

export interface KubeMetadata {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  object: KubeObject;
  resourceVersion: number;
}

/** An API error: the `Status` to answer with. */
export class KubeStatusError extends Error {
  constructor(readonly status: KubeStatus) {
    super(status.message);
  }
}

const GROUP_VERSION = 'prow.k8s.io/v1';
const KIND = 'ProwJob';
/** Kubernetes' label value rule (k8s.io/apimachinery validation.IsValidLabelValue). */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ANNOTATIONS_MAX_BYTES = 256 * 1024;

/**
 * The ProwJobs of the test API server, as etcd and the API server's registry keep them: one
 * resourceVersion counter for every write, a history of changes a watch replays from any version
 * not yet compacted, and each write checked as the API server checks it (names, labels, Prow's
 * schema after pruning unknown fields, resourceVersion preconditions). A write that changes
 * nothing is no write: no new version, no event, as with the real one.
 */
export class KubeStore {
  private readonly objects = new Map<string, KubeObject>();
  /** Objects as they were at `compactedThrough`: a snapshot at an old version is rebuilt from it. */
  private base = new Map<string, KubeObject>();
  private history: StoreEvent[] = [];
  private version = 1000;
  private compactedThrough = 1000;
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  /** Fields each manager set by its last apply, so a field it stops sending is removed. */
  private readonly applied = new Map<string, Map<string, KubeObject>>();

  get resourceVersion(): number {
    return this.version;
  }

  get oldestResourceVersion(): number {
    return this.compactedThrough;
  }

  onEvent(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(key(namespace, name));
  }

  /** Every object in `namespace` (every namespace when undefined) at the current version, by name. */
  list(namespace?: string): KubeObject[] {
    return sorted([...this.objects.values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace));
  }

  /** The objects as they were at `version`: 410 Gone once that version was compacted away. */
  listAt(version: number, namespace?: string): KubeObject[] {
    if (version < this.compactedThrough) throw new KubeStatusError(expired(`too old resource version: ${version} (${this.compactedThrough})`));
    if (version > this.version) throw new KubeStatusError({ ...badRequest(`Too large resource version: ${version}, current: ${this.version}`), code: 504, reason: 'Timeout' });
    const state = new Map(this.base);
    for (const event of this.history) {
      if (event.resourceVersion > version) break;
      const k = key(event.object.metadata.namespace!, event.object.metadata.name!);
      if (event.type === 'DELETED') state.delete(k);
      else state.set(k, event.object);
    }
    return sorted([...state.values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace));
  }

  /** The changes after `version`, in order; 410 Gone when some of them were compacted away. */
  eventsSince(version: number, namespace?: string): StoreEvent[] {
    if (version < this.compactedThrough) throw new KubeStatusError(expired(`too old resource version: ${version} (${this.compactedThrough})`));
    return this.history.filter((e) => e.resourceVersion > version && (namespace === undefined || e.object.metadata.namespace === namespace));
  }

  /** Forgets the history so far, as etcd's compaction does: older versions answer 410 Gone. */
  compact(): void {
    this.base = new Map(this.objects);
    this.history = [];
    this.compactedThrough = this.version;
  }

  create(namespace: string, body: KubeObject): KubeObject {
    checkKind(body);
    const metadata = body.metadata ?? {};
    if (metadata.resourceVersion) throw new KubeStatusError(badRequest('resourceVersion should not be set on objects to be created'));
    const name = metadata.name || (metadata.generateName ? `${metadata.generateName}${randomUUID().slice(0, 5)}` : '');
    if (this.objects.has(key(namespace, name))) throw new KubeStatusError(alreadyExists(name));
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const object = { ...body, metadata: { ...metadata, name, namespace, uid: randomUUID(), generation: 1, creationTimestamp: now } };
    return this.write('ADDED', object);
  }

  /** PUT: the whole object, at the resourceVersion it was read at (custom resources allow no unconditional update). */
  update(namespace: string, name: string, body: KubeObject): KubeObject {
    checkKind(body);
    const current = this.existing(namespace, name);
    if (body.metadata?.name !== name) throw new KubeStatusError(badRequest(`the name of the object (${body.metadata?.name}) does not match the name on the URL (${name})`));
    if (!body.metadata.resourceVersion) throw new KubeStatusError(invalid(name, [{ field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]));
    checkVersion(current, body.metadata.resourceVersion, name);
    return this.replace(current, body);
  }

  /** RFC 7386 merge patch; a `metadata.resourceVersion` in the patch is a precondition. */
  mergePatch(namespace: string, name: string, patch: Record<string, unknown>): KubeObject {
    const current = this.existing(namespace, name);
    const wanted = (patch.metadata as KubeMetadata | undefined)?.resourceVersion;
    if (wanted !== undefined) checkVersion(current, wanted, name);
    return this.replace(current, mergePatch(current, patch) as KubeObject);
  }

  /**
   * Server-side apply for one field manager: the applied fields are merged into the object (maps
   * field by field, lists whole, as Prow's CRD declares no list keys), and a field this manager
   * applied before and no longer sends is removed. Conflicts between managers are not modelled:
   * every apply acts as if `force=true`.
   */
  apply(namespace: string, name: string, body: KubeObject, manager: string): KubeObject {
    checkKind(body);
    if (body.metadata?.name !== name) throw new KubeStatusError(badRequest(`the name of the object (${body.metadata?.name}) does not match the name on the URL (${name})`));
    const current = this.objects.get(key(namespace, name));
    const byManager = this.applied.get(key(namespace, name)) ?? new Map<string, KubeObject>();
    this.applied.set(key(namespace, name), byManager);
    const previous = byManager.get(manager);
    byManager.set(manager, body);
    if (!current) {
      const { resourceVersion: _, ...metadata } = body.metadata;
      return this.create(namespace, { ...body, metadata });
    }
    if (body.metadata.resourceVersion) checkVersion(current, body.metadata.resourceVersion, name);
    const { resourceVersion: _, ...metadata } = body.metadata;
    const withoutDropped = previous ? (removeDropped(current, previous, { ...body, metadata }) as KubeObject) : current;
    return this.replace(current, deepMerge(withoutDropped, { ...body, metadata }) as KubeObject);
  }

  delete(namespace: string, name: string, preconditions?: { resourceVersion?: string; uid?: string }): KubeObject {
    const current = this.existing(namespace, name);
    if (preconditions?.uid && preconditions.uid !== current.metadata.uid) {
      throw new KubeStatusError(conflict(name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${current.metadata.uid}`));
    }
    if (preconditions?.resourceVersion) checkVersion(current, preconditions.resourceVersion, name);
    this.objects.delete(key(namespace, name));
    this.applied.delete(key(namespace, name));
    this.version += 1;
    const object = { ...current, metadata: { ...current.metadata, resourceVersion: String(this.version) } };
    this.record({ type: 'DELETED', object, resourceVersion: this.version });
    return object;
  }

  private existing(namespace: string, name: string): KubeObject {
    const current = this.objects.get(key(namespace, name));
    if (!current) throw new KubeStatusError(notFound(name));
    return current;
  }

  /** The new content of `current`, keeping what the server owns, or nothing written when nothing changed. */
  private replace(current: KubeObject, next: KubeObject): KubeObject {
    const { name, namespace, uid, creationTimestamp, generation, resourceVersion } = current.metadata;
    const merged: KubeObject = { ...next, metadata: { ...next.metadata, name, namespace, uid, creationTimestamp, generation, resourceVersion } };
    const candidate = checked(merged);
    if (isDeepStrictEqual(candidate, current)) return current;
    if (!isDeepStrictEqual(candidate.spec, current.spec)) candidate.metadata.generation = (generation ?? 1) + 1;
    return this.write('MODIFIED', candidate);
  }

  private write(type: WatchEventType, object: KubeObject): KubeObject {
    const stored = checked(object);
    this.version += 1;
    stored.metadata.resourceVersion = String(this.version);
    this.objects.set(key(stored.metadata.namespace!, stored.metadata.name!), stored);
    this.record({ type, object: stored, resourceVersion: this.version });
    return stored;
  }

  private record(event: StoreEvent): void {
    this.history.push(event);
    for (const listener of this.listeners) listener(event);
  }
}

/** The object as it would be stored: kind set, unknown fields pruned, then validated (422 when invalid). */
function checked(object: KubeObject): KubeObject {
  const name = object.metadata.name ?? '';
  const problems: { field: string; message: string }[] = [];
  if (!name) problems.push({ field: 'metadata.name', message: 'Required value: name or generateName is required' });
  else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) problems.push({ field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'` });
  for (const [label, value] of Object.entries(object.metadata.labels ?? {})) {
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      problems.push({ field: `metadata.labels`, message: `Invalid value: "${String(value)}" for label ${label}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63)` });
    }
  }
  if (JSON.stringify(object.metadata.annotations ?? {}).length > ANNOTATIONS_MAX_BYTES) problems.push({ field: 'metadata.annotations', message: 'Too long: must have at most 262144 bytes' });
  const stored = { ...(pruneUnknownFields({ ...object, apiVersion: GROUP_VERSION, kind: KIND }) as KubeObject) };
  stored.metadata = { ...object.metadata };
  problems.push(...prowJobSchemaProblems(stored));
  if (problems.length > 0) throw new KubeStatusError(invalid(name, problems));
  return stored;
}

function checkKind(body: KubeObject): void {
  if (!body || typeof body !== 'object' || typeof body.metadata !== 'object') throw new KubeStatusError(badRequest('the body of the request was in an unknown format'));
  if ((body.apiVersion && body.apiVersion !== GROUP_VERSION) || (body.kind && body.kind !== KIND)) {
    throw new KubeStatusError(badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${GROUP_VERSION})`));
  }
}

function checkVersion(current: KubeObject, wanted: string, name: string): void {
  if (wanted !== current.metadata.resourceVersion) {
    throw new KubeStatusError(conflict(name, 'the object has been modified; please apply your changes to the latest version and try again'));
  }
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function sorted(objects: KubeObject[]): KubeObject[] {
  return objects.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** RFC 7386: a null removes the field, a map merges field by field, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return patch;
  const out: Record<string, unknown> = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function deepMerge(target: unknown, applied: unknown): unknown {
  if (!isMap(applied) || !isMap(target)) return applied;
  const out: Record<string, unknown> = { ...target };
  for (const [k, v] of Object.entries(applied)) out[k] = deepMerge(out[k], v);
  return out;
}

/** `current` less the fields `previous` set and `next` no longer sets. */
function removeDropped(current: unknown, previous: unknown, next: unknown): unknown {
  if (!isMap(current) || !isMap(previous)) return current;
  const out: Record<string, unknown> = { ...current };
  for (const k of Object.keys(previous)) {
    if (!isMap(next) || !(k in next)) delete out[k];
    else out[k] = removeDropped(out[k], previous[k], next[k]);
  }
  return out;
}
