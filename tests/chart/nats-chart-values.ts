/*
 * The value names of the official NATS Helm chart that charts/bowline depends on (Chart.yaml:
 * nats 1.2.x), transcribed by hand from nats-io/k8s helm/charts/nats/values.yaml at chart
 * version 1.2.9 (commit 5d91780, "Release nats helm 1.2.9"). That chart has no values.schema.json,
 * so a misspelt `nats.*` value would be dropped without a word; values.test.ts checks every
 * `nats.*` path our values files set against this tree. `LEAF` is a value; `ANY` a map or list
 * whose insides are free (merge and patch blocks, env, labels, constraints by topology key); a
 * key `*` stands for any name (natsBox.contexts.<context>).
 * Update it with the dependency's version.
 */

export const LEAF = 'leaf';
export const ANY = 'any';
export type ValueTree = { [name: string]: ValueTree | typeof LEAF | typeof ANY };

const mergePatch = { merge: ANY, patch: ANY } as const;
const tls = (extra: ValueTree = {}): ValueTree => ({ enabled: LEAF, secretName: LEAF, dir: LEAF, cert: LEAF, key: LEAF, ...mergePatch, ...extra });
const image: ValueTree = { repository: LEAF, tag: LEAF, pullPolicy: LEAF, registry: LEAF };
const pvc: ValueTree = { enabled: LEAF, size: LEAF, storageClassName: LEAF, name: LEAF, ...mergePatch };
const named: ValueTree = { name: LEAF, ...mergePatch };
const protocol = (extra: ValueTree = {}): ValueTree => ({ enabled: LEAF, port: LEAF, tls: tls(), ...mergePatch, ...extra });
// "additional boolean field enable"; the rest are a Kubernetes ServicePort's fields.
const servicePort: ValueTree = { enabled: LEAF, port: LEAF, nodePort: LEAF, appProtocol: LEAF, name: LEAF, targetPort: LEAF, protocol: LEAF };
const contextSecret = (extra: ValueTree = {}): ValueTree => ({ secretName: LEAF, dir: LEAF, key: LEAF, ...extra });

export const NATS_CHART_VALUES: ValueTree = {
  global: { image: { pullPolicy: LEAF, pullSecretNames: ANY, registry: LEAF }, labels: ANY },
  nameOverride: LEAF,
  fullnameOverride: LEAF,
  namespaceOverride: LEAF,
  tlsCA: { enabled: LEAF, configMapName: LEAF, secretName: LEAF, dir: LEAF, key: LEAF },
  config: {
    cluster: protocol({ replicas: LEAF, routeURLs: { user: LEAF, password: LEAF, useFQDN: LEAF, k8sClusterDomain: LEAF } }),
    jetstream: {
      enabled: LEAF,
      fileStore: { enabled: LEAF, dir: LEAF, pvc, maxSize: LEAF },
      memoryStore: { enabled: LEAF, maxSize: LEAF },
      ...mergePatch,
    },
    nats: { port: LEAF, tls: tls() },
    leafnodes: protocol(),
    websocket: protocol({ ingress: { enabled: LEAF, hosts: ANY, path: LEAF, pathType: LEAF, className: LEAF, tlsSecretName: LEAF, name: LEAF, ...mergePatch } }),
    mqtt: protocol(),
    gateway: protocol(),
    monitor: { enabled: LEAF, port: LEAF, tls: { enabled: LEAF } },
    profiling: { enabled: LEAF, port: LEAF },
    resolver: { enabled: LEAF, dir: LEAF, pvc, ...mergePatch },
    serverNamePrefix: LEAF,
    ...mergePatch,
  },
  container: {
    image,
    ports: { nats: ANY, leafnodes: ANY, websocket: ANY, mqtt: ANY, cluster: ANY, gateway: ANY, monitor: ANY, profiling: ANY },
    env: ANY,
    ...mergePatch,
  },
  reloader: { enabled: LEAF, image, env: ANY, natsVolumeMountPrefixes: ANY, ...mergePatch },
  promExporter: { enabled: LEAF, image, port: LEAF, env: ANY, ...mergePatch, podMonitor: { enabled: LEAF, ...named } },
  service: {
    enabled: LEAF,
    ports: { nats: servicePort, leafnodes: servicePort, websocket: servicePort, mqtt: servicePort, cluster: servicePort, gateway: servicePort, monitor: servicePort, profiling: servicePort },
    ...named,
  },
  statefulSet: named,
  podTemplate: { configChecksumAnnotation: LEAF, topologySpreadConstraints: ANY, ...mergePatch },
  headlessService: named,
  configMap: named,
  podDisruptionBudget: { enabled: LEAF, ...named },
  serviceAccount: { enabled: LEAF, ...named },
  natsBox: {
    enabled: LEAF,
    contexts: {
      '*': {
        creds: contextSecret({ contents: LEAF }),
        nkey: contextSecret({ contents: LEAF }),
        tls: { secretName: LEAF, dir: LEAF, cert: LEAF, key: LEAF },
        ...mergePatch,
      },
    },
    defaultContextName: LEAF,
    container: { image, env: ANY, ...mergePatch },
    deployment: named,
    podTemplate: mergePatch,
    contextsSecret: named,
    contentsSecret: named,
    serviceAccount: { enabled: LEAF, ...named },
  },
  extraResources: ANY,
};

/** The `nats.*` paths a values object sets that the NATS chart does not have. */
export function unknownNatsValues(values: unknown, tree: ValueTree = NATS_CHART_VALUES, path = 'nats'): string[] {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return [];
  return Object.entries(values).flatMap(([key, value]) => {
    const node = tree[key] ?? tree['*'];
    if (node === undefined) return [`${path}.${key}`];
    if (node === LEAF || node === ANY) return [];
    return unknownNatsValues(value, node, `${path}.${key}`);
  });
}
