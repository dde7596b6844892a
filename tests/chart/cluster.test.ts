import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  app,
  CHART,
  containerOf,
  deploymentOf,
  deploymentsOf,
  envOf,
  envOfService,
  find,
  FULL_CLUSTER,
  openshift,
  production,
  render,
  renderChart,
  ROUTE_API,
  SERVICE_MONITOR_API,
  SERVICES,
  token,
  withValues,
  type Manifest,
  type Values,
} from './fixtures.js';

// The chart on the cluster it meets: the bundled NATS as the NATS chart names and sizes it, the
// optional kinds (ServiceMonitor, OpenShift's Route) only where the cluster serves them, OpenShift's
// restricted SCC, and the production values' spread over nodes and the Secrets they need.

const natsUrl = (values: Values, release = { name: 'bowline', namespace: 'ci' }): unknown => envOfService(render([values], { release }), 'planner').NATS_URL;
const withNats = (nats: Values): Values => withValues(token, { nats });

describe('the bundled NATS', () => {
  it.each([
    ['its Service, named as the NATS chart names it', {}, 'nats://bowline-nats:4222'],
    ['the release name alone when it holds "nats", as the NATS chart does', {}, 'nats://ci-nats:4222', 'ci-nats'],
    ['<release>-nats for another release', {}, 'nats://prow-nats:4222', 'prow'],
    ['nats.fullnameOverride', { fullnameOverride: 'queue' }, 'nats://queue:4222'],
    ['nats.nameOverride', { nameOverride: 'bus' }, 'nats://bowline-bus:4222'],
    ['nats.service.name', { service: { name: 'nats-client' } }, 'nats://nats-client:4222'],
    ['nats.namespaceOverride, through the other namespace', { namespaceOverride: 'messaging' }, 'nats://bowline-nats.messaging.svc:4222'],
    ['nats.namespaceOverride naming the release\'s own namespace', { namespaceOverride: 'ci' }, 'nats://bowline-nats:4222'],
    ['nats.config.nats.port, the port the Service takes by default', { config: { nats: { port: 4333 } } }, 'nats://bowline-nats:4333'],
    ['nats.service.ports.nats.port, which the NATS chart puts on the Service', { config: { nats: { port: 4333 } }, service: { ports: { nats: { port: 14222 } } } }, 'nats://bowline-nats:14222'],
    ['tls:// when nats.config.nats.tls is on', { config: { nats: { tls: { enabled: true, secretName: 'nats-tls' } } } }, 'tls://bowline-nats:4222'],
  ])('is reached at %s', (_what, nats, url, release = 'bowline') => {
    expect(natsUrl(withNats(nats), { name: release, namespace: 'ci' })).toBe(url);
  });

  it('is not used when nats.url names an external NATS', () => {
    expect(natsUrl(app)).toBe('nats://nats.messaging.svc:4222');
  });

  it('gives the services the CA of a NATS with TLS: the NATS chart\'s tlsCA, or bowline.natsCA', () => {
    const tls = { config: { nats: { tls: { enabled: true, secretName: 'nats-tls' } } }, tlsCA: { enabled: true, secretName: 'nats-ca' } };
    const planner = deploymentOf(render([withNats(tls)]), 'planner');
    expect(envOf(planner).NODE_EXTRA_CA_CERTS).toBe('/etc/bowline/nats-ca/ca.crt');
    expect(containerOf(planner).volumeMounts).toContainEqual({ name: 'nats-ca', mountPath: '/etc/bowline/nats-ca', readOnly: true });
    expect(planner.spec.template.spec.volumes.find((v) => v.name === 'nats-ca')).toEqual({ name: 'nats-ca', secret: { secretName: 'nats-ca', defaultMode: 292 } });
    const external = withValues(app, { nats: { url: 'tls://nats.messaging.svc:4222' }, bowline: { natsCA: { existingSecret: 'company-ca', key: 'ca.pem' } } });
    expect(envOfService(render([external]), 'hook').NODE_EXTRA_CA_CERTS).toBe('/etc/bowline/nats-ca/ca.pem');
    expect(envOfService(render([token]), 'hook').NODE_EXTRA_CA_CERTS).toBeUndefined();
  });

  it('is asked for as many JetStream replicas as production\'s NATS cluster has servers', () => {
    for (const d of deploymentsOf(render([production]))) expect(envOf(d).BOWLINE_NATS_REPLICAS).toBe('3');
  });

  it.each([
    ['more JetStream replicas than the one server', { bowline: { natsReplicas: 3 } }, 'bowline.natsReplicas: 3 JetStream replicas need as many NATS servers, and the bundled NATS runs 1'],
    ['more JetStream replicas than the cluster\'s servers', { bowline: { natsReplicas: 5 }, nats: { config: { cluster: { enabled: true, replicas: 3 } } } }, 'set nats.config.cluster.enabled: true with nats.config.cluster.replicas: 5 or more'],
    ['nats.url as well as the bundled NATS', { nats: { url: 'nats://nats.messaging.svc:4222' } }, 'nats.url names an external NATS, so set nats.enabled: false'],
    ['neither the bundled NATS nor nats.url', { nats: { enabled: false } }, 'set nats.url'],
    ['JetStream off', { nats: { config: { jetstream: { enabled: false } } } }, 'nats.config.jetstream.enabled'],
    ['no client Service', { nats: { service: { ports: { nats: { enabled: false } } } } }, 'keep nats.service.enabled and nats.service.ports.nats.enabled true'],
  ])('refuses %s, naming the value to change', (_what, override, message) => {
    expect(() => render([withValues(token, override as Values)])).toThrow(message);
  });

  it('takes three JetStream replicas on three servers', () => {
    expect(() => render([withValues(token, { bowline: { natsReplicas: 3 }, nats: { config: { cluster: { enabled: true, replicas: 3 } } } })])).not.toThrow();
  });
});

describe('the ServiceMonitor', () => {
  it('scrapes every service\'s /metrics, where the Prometheus Operator\'s CRD is installed', () => {
    const manifests = render([token], { apiVersions: [SERVICE_MONITOR_API] });
    const monitor = find(manifests, 'ServiceMonitor') as Manifest & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: object[] } };
    expect(monitor.metadata.labels).toMatchObject({ release: 'prometheus' });
    expect(monitor.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
    const services = manifests.filter((m) => m.kind === 'Service');
    // kube-bridge is off unless asked for (values.yaml kubeBridge.enabled).
    expect(services).toHaveLength(SERVICES.filter((s) => s !== 'kube-bridge').length);
    for (const service of services) expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
  });

  it('is left out, saying so, where the CRD is not installed, instead of failing the install with "no matches for kind"', () => {
    const { manifests, notes } = renderChart(CHART, [token]);
    expect(find(manifests, 'ServiceMonitor')).toBeUndefined();
    expect(notes).toContain('no monitoring.coreos.com/v1 ServiceMonitor CRD (the Prometheus Operator), so none was made');
    expect(find(render([app], FULL_CLUSTER), 'ServiceMonitor')).toBeUndefined();
  });

  it('carries in production the release label kube-prometheus-stack selects by', () => {
    expect(find(render([production], FULL_CLUSTER), 'ServiceMonitor')?.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
  });
});

describe('on OpenShift', () => {
  const route = (manifests: Manifest[]) => find(manifests, 'Route') as (Manifest & { spec: Record<string, unknown> }) | undefined;

  it('exposes only /hook through a Route to the hook\'s http port, with TLS at the router', () => {
    const manifests = render([openshift], { apiVersions: [ROUTE_API] });
    expect(route(manifests)?.spec).toEqual({
      path: '/hook',
      to: { kind: 'Service', name: 'bowline-hook', weight: 100 },
      port: { targetPort: 'http' },
      tls: { termination: 'edge', insecureEdgeTerminationPolicy: 'Redirect' },
      wildcardPolicy: 'None',
    });
    expect(find(manifests, 'Ingress')).toBeUndefined();
    expect(route(render([withValues(openshift, { hook: { route: { host: 'prow.apps.example.com' } } })], { apiVersions: [ROUTE_API] }))?.spec.host).toBe('prow.apps.example.com');
  });

  it('makes the Route only where route.openshift.io/v1 is served, or when forced', () => {
    const { manifests, notes } = renderChart(CHART, [openshift]);
    expect(route(manifests)).toBeUndefined();
    expect(notes).toContain('this cluster serves no route.openshift.io/v1 Route, so none was');
    expect(route(render([withValues(openshift, { hook: { route: { force: true } } })]))).toBeDefined();
    expect(route(render([token], FULL_CLUSTER))).toBeUndefined();
  });

  it('tells GitHub the Route\'s host in NOTES.txt', () => {
    const { notes } = renderChart(CHART, [withValues(openshift, { hook: { route: { host: 'prow.apps.example.com' } } })], { apiVersions: [ROUTE_API] });
    expect(notes).toContain('Payload URL:   https://prow.apps.example.com/hook');
    expect(renderChart(CHART, [openshift], { apiVersions: [ROUTE_API] }).notes).toContain('Payload URL:   https://<the host of: oc -n ci get route bowline-hook>/hook');
  });

  it.each([
    ['values-openshift.yaml', [openshift]],
    ['values-production.yaml + values-openshift.yaml', [production, openshift]],
  ])('sets no user or group anywhere with %s, so that the restricted SCC assigns them', (_name, files) => {
    for (const d of deploymentsOf(render(files as Values[], FULL_CLUSTER))) {
      expect(d.spec.template.spec.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(Object.keys(containerOf(d).securityContext ?? {})).not.toEqual(expect.arrayContaining(['runAsUser']));
      expect(Object.keys(containerOf(d).securityContext ?? {})).not.toEqual(expect.arrayContaining(['runAsGroup']));
    }
  });

  it('needs podSecurityContext: null, since {} keeps the chart\'s user 65532 (Helm merges {} into the defaults)', () => {
    const context = (files: Values[]) => deploymentsOf(render(files))[0]!.spec.template.spec.securityContext;
    expect(context([withValues(token, { podSecurityContext: {} })])).toMatchObject({ runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 });
    expect(context([withValues(token, { podSecurityContext: null })])).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  });

  it('refuses the Ingress and the Route together', () => {
    expect(() => render([withValues(openshift, { hook: { ingress: { enabled: true, host: 'prow.example.com' } } })])).toThrow('enable one of them');
  });
});

describe('the production values', () => {
  it('keep the three NATS servers on three nodes, through the NATS chart\'s own topologySpreadConstraints', () => {
    const nats = production.nats as { config: { cluster: { replicas: number } }; podTemplate: { topologySpreadConstraints: Record<string, object> } };
    expect(nats.config.cluster.replicas).toBe(3);
    expect(nats.podTemplate.topologySpreadConstraints['kubernetes.io/hostname']).toEqual({ maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule' });
  });

  it('keep two hooks off one node, counting only this release\'s hooks', () => {
    const affinity = deploymentOf(render([production]), 'hook').spec.template.spec.affinity;
    expect(affinity?.podAntiAffinity).toEqual({
      requiredDuringSchedulingIgnoredDuringExecution: [
        { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'bowline', 'app.kubernetes.io/instance': 'bowline', 'app.kubernetes.io/component': 'hook' } } },
      ],
    });
    const other = deploymentOf(render([production], { release: { name: 'staging', namespace: 'ci' } }), 'hook').spec.template.spec.affinity;
    expect(JSON.stringify(other)).toContain('"app.kubernetes.io/instance":"staging"');
  });

  it('prefer the other services\' replicas apart by default, and leave an explicit podAntiAffinity alone', () => {
    const planner = deploymentOf(render([token]), 'planner').spec.template.spec.affinity?.podAntiAffinity;
    expect(Object.keys(planner ?? {})).toEqual(['preferredDuringSchedulingIgnoredDuringExecution']);
    const own = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] }, nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } };
    expect(() => render([withValues(token, { planner: { affinity: own } })])).toThrow('planner: set podAntiAffinityPreset or affinity.podAntiAffinity, not both');
    const mine = deploymentOf(render([withValues(token, { planner: { affinity: own, podAntiAffinityPreset: '' } })]), 'planner').spec.template.spec.affinity;
    expect(mine).toEqual(own);
  });

  // An admin reads the header of the values file and makes these before `helm install`.
  it.each([
    ['values-production.yaml', [production]],
    ['values-openshift.yaml', [openshift]],
  ])('%s names in its header every Secret it needs but does not make', (file, files) => {
    const header = readFileSync(join(CHART, file), 'utf8').split('\n').filter((line) => line.startsWith('#')).join('\n');
    const manifests = render(files as Values[], FULL_CLUSTER);
    const made = new Set(manifests.filter((m) => m.kind === 'Secret').map((m) => m.metadata.name));
    const used = [
      ...deploymentsOf(manifests).flatMap((d) => d.spec.template.spec.volumes.flatMap((v) => (v.secret ? [v.secret.secretName] : []))),
      ...manifests.filter((m) => m.kind === 'Ingress').flatMap((m) => (m as Manifest & { spec: { tls?: { secretName: string }[] } }).spec.tls?.map((t) => t.secretName) ?? []),
    ];
    const needed = [...new Set(used)].filter((name) => !made.has(name));
    expect(needed.length).toBeGreaterThan(0);
    // Each with the command that makes it: `kubectl|oc create secret generic|tls NAME …`.
    expect(needed.filter((name) => !new RegExp(`create secret (generic|tls) ${name} `).test(header))).toEqual([]);
  });
});
