import { ApiException, CustomObjectsApi, KubeConfig, ListWatch, PatchStrategy, setHeaderOptions, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { BowlineError, describeError } from '@bowline/observability';
import type { ProwJobResource } from './resource.js';

/** An answer of the API server other than success: its HTTP code (409, 404, 410, …) says which. */
export class KubeApiError extends BowlineError {
  constructor(
    message: string,
    readonly code: number | undefined,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/** The ProwJob resources of one namespace, as the bridge uses them. */
export interface ProwJobApi {
  get(name: string): Promise<ProwJobResource | undefined>;
  create(resource: ProwJobResource): Promise<ProwJobResource>;
  /** RFC 7386 merge patch; a `metadata.resourceVersion` in it makes a stale write fail with 409. */
  mergePatch(name: string, patch: Record<string, unknown>): Promise<ProwJobResource>;
  /** Deletes at the resourceVersion given, so a resource changed since is not deleted unseen. */
  delete(name: string, resourceVersion: string): Promise<void>;
  /** An informer: a local copy of every resource, kept by list + watch (client-node's ListWatch). */
  informer(): ProwJobInformer;
}

export interface ProwJobInformer {
  on(event: 'add' | 'update' | 'delete', handler: (resource: ProwJobResource) => void): void;
  on(event: 'error', handler: (error: unknown) => void): void;
  get(name: string): ProwJobResource | undefined;
  list(): ProwJobResource[];
  /** Starts (or, after an error stopped it, restarts) from the version last seen, listing anew after a 410. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves after the first complete list was delivered. */
  listed(): Promise<void>;
}

const GROUP = 'prow.k8s.io';
const VERSION = 'v1';
const PLURAL = 'prowjobs';

/**
 * Loads the cluster's address and credentials as kubectl does: `KUBECONFIG` when set, else the
 * in-cluster ServiceAccount (its token file, re-read by client-node as it rotates).
 */
export function loadKubeConfig(env: NodeJS.ProcessEnv): KubeConfig {
  const config = new KubeConfig();
  if (env.KUBECONFIG) config.loadFromFile(env.KUBECONFIG);
  else config.loadFromCluster();
  return config;
}

/** ProwJobApi over @kubernetes/client-node 1.4 (2.x needs Node 22: its undici crashes on import under Node 20). */
export function clientNodeProwJobApi(config: KubeConfig, namespace: string): ProwJobApi {
  const api = config.makeApiClient(CustomObjectsApi);
  const where = { group: GROUP, version: VERSION, namespace, plural: PLURAL };
  const call = async <T>(what: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      const code = error instanceof ApiException ? (error.code as number) : undefined;
      throw new KubeApiError(`cannot ${what}: ${code ? `HTTP ${code}` : describeError(error)}`, code, { cause: error });
    }
  };
  return {
    get: async (name) => {
      try {
        return (await call(`get ProwJob ${name}`, () => api.getNamespacedCustomObject({ ...where, name }))) as ProwJobResource;
      } catch (error) {
        if (error instanceof KubeApiError && error.code === 404) return undefined;
        throw error;
      }
    },
    create: async (resource) => (await call(`create ProwJob ${resource.metadata.name}`, () => api.createNamespacedCustomObject({ ...where, body: resource }))) as ProwJobResource,
    mergePatch: async (name, patch) =>
      (await call(`patch ProwJob ${name}`, () =>
        api.patchNamespacedCustomObject({ ...where, name, body: patch, fieldManager: 'bowline' }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      )) as ProwJobResource,
    delete: async (name, resourceVersion) => {
      await call(`delete ProwJob ${name}`, () => api.deleteNamespacedCustomObject({ ...where, name, body: { preconditions: { resourceVersion } } }));
    },
    informer: () => {
      let firstList: () => void = () => undefined;
      const listed = new Promise<void>((resolve) => (firstList = resolve));
      const listWatch = new ListWatch<KubernetesObject>(
        `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`,
        new Watch(config),
        async () => {
          const list = (await api.listNamespacedCustomObject(where)) as { metadata?: { resourceVersion?: string }; items: KubernetesObject[] };
          // ListWatch hands the items to the handlers right after this resolves, before any await.
          setImmediate(firstList);
          return list;
        },
        false,
      );
      return {
        on: (event: string, handler: (value: never) => void) => listWatch.on(event as 'add', handler as (o: KubernetesObject) => void),
        get: (name) => listWatch.get(name, namespace) as ProwJobResource | undefined,
        list: () => listWatch.list(namespace) as ProwJobResource[],
        start: () => listWatch.start(),
        stop: () => listWatch.stop(),
        listed: () => listed,
      } as ProwJobInformer;
    },
  };
}
