import { dirname } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  containerOf,
  deploymentsOf,
  effectiveValues,
  envOf,
  FULL_CLUSTER,
  INSTALLS,
  PORTS,
  render,
  secretValues,
  serviceOf,
  SERVICES,
  valuesKey,
  type Manifest,
} from './chart/fixtures.js';
import { validateManifest } from './chart/validate-manifest.js';

// The chart as a cluster admin would review it, for every values file it ships (and OpenShift's on
// top of production's), rendered without helm for a cluster that serves the optional kinds too:
// every manifest valid against the Kubernetes schemas with unknown fields refused, labels and
// selectors agreeing, and every pod meeting the "restricted" Pod Security Standard. The values,
// the behaviour of single values and the Dockerfile have their own files in tests/chart/.

function nullsIn(value: unknown, path: string): string[] {
  if (value === null || value === undefined) return [path];
  if (typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => nullsIn(v, `${path}.${k}`));
}

describe.each(INSTALLS)('the chart installed with %s', (_name, files) => {
  const merged = effectiveValues(files);
  const manifests = render(files, FULL_CLUSTER);
  const deployments = deploymentsOf(manifests);
  const enabled = SERVICES.filter((s) => (merged[valuesKey(s)] as { enabled: boolean }).enabled);

  it('renders only manifests valid against their kind\'s schema, with no field the schema lacks', () => {
    const problems = manifests.flatMap((m) => validateManifest(m).map((problem) => `${m.kind}/${m.metadata.name}${problem}`));
    expect(problems).toEqual([]);
  });

  it('has a Deployment and a Service for each enabled service, on the port the design gives it', () => {
    expect(deployments.map(serviceOf).sort()).toEqual([...enabled].sort());
    for (const d of deployments) {
      const port = PORTS[serviceOf(d)];
      expect(containerOf(d).ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
      expect(envOf(d).PORT).toBe(String(port));
      const service = manifests.find((m) => m.kind === 'Service' && m.metadata.name === d.metadata.name) as Manifest & { spec: { selector: Record<string, string>; ports: object[] } };
      expect(service.spec.ports).toEqual([{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }]);
      expect(d.spec.template.metadata.labels).toMatchObject(service.spec.selector);
      expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
    }
  });

  it('selects with each Service, budget and anti-affinity term only the pods of its own release and service', () => {
    const others = (component: string) => deployments.filter((d) => serviceOf(d) !== component).map((d) => d.spec.template.metadata.labels);
    for (const m of manifests.filter((m) => m.kind === 'Service' || m.kind === 'PodDisruptionBudget')) {
      const selector = ((m as Manifest & { spec: { selector: Record<string, string> & { matchLabels?: Record<string, string> } } }).spec.selector.matchLabels ??
        (m as Manifest & { spec: { selector: Record<string, string> } }).spec.selector) as Record<string, string>;
      expect(selector).toMatchObject({ 'app.kubernetes.io/instance': 'bowline' });
      for (const labels of others(selector['app.kubernetes.io/component']!)) expect(labels).not.toMatchObject(selector);
    }
    for (const d of deployments) {
      const anti = d.spec.template.spec.affinity?.podAntiAffinity ?? {};
      const terms = Object.values(anti).flat().map((t) => ('podAffinityTerm' in t ? t.podAffinityTerm! : (t as { labelSelector: { matchLabels: Record<string, string> } })));
      for (const term of terms) expect(term.labelSelector.matchLabels).toEqual(d.spec.selector.matchLabels);
    }
  });

  it('runs every pod as the "restricted" Pod Security Standard asks: non-root, no privilege, no capability, RuntimeDefault seccomp', () => {
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      // Only kube-bridge calls the Kubernetes API (its own ServiceAccount, a Role on ProwJobs).
      expect(pod.automountServiceAccountToken).toBe(serviceOf(d) === 'kube-bridge');
      expect(pod.volumes.filter((v) => v.hostPath)).toEqual([]);
      expect(containerOf(d).securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(containerOf(d).securityContext?.runAsUser).not.toBe(0);
      const tmp = containerOf(d).volumeMounts.find((m) => m.mountPath === '/tmp');
      expect(pod.volumes.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    }
  });

  it('probes /healthz for liveness and /readyz for readiness on the http port', () => {
    for (const d of deployments) {
      expect(containerOf(d).livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(containerOf(d).readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    }
  });

  it('mounts config.yaml as a directory, never with subPath, so live reload sees ConfigMap updates (the hook reads its tenants there)', () => {
    for (const d of deployments) {
      const mounts = containerOf(d).volumeMounts;
      expect(mounts.filter((m) => m.subPath !== undefined)).toEqual([]);
      expect(envOf(d).BOWLINE_CONFIG).toBe('/etc/bowline/config/config.yaml');
      const config = mounts.find((m) => m.mountPath === '/etc/bowline/config');
      const volume = d.spec.template.spec.volumes.find((v) => v.name === config?.name);
      const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === volume?.configMap?.name) as (Manifest & { data: Record<string, string> }) | undefined;
      expect(configMap?.data['config.yaml']).toBeDefined();
    }
  });

  it('hands every secret over as a file in a mounted Secret, never as an environment value', () => {
    const secrets = secretValues(merged);
    for (const d of deployments) {
      const container = containerOf(d);
      for (const e of container.env) expect(typeof e.value === 'string' || e.valueFrom !== undefined).toBe(true);
      for (const [name, path] of Object.entries(envOf(d)).filter(([name]) => name.endsWith('_FILE'))) {
        const mount = container.volumeMounts.find((m) => dirname(path as string) === m.mountPath);
        expect({ name, mount: mount?.mountPath }).toEqual({ name, mount: dirname(path as string) });
        const secretName = d.spec.template.spec.volumes.find((v) => v.name === mount!.name)?.secret?.secretName;
        expect(secretName).toBeDefined();
        const made = manifests.find((m) => m.kind === 'Secret' && m.metadata.name === secretName) as (Manifest & { data: Record<string, string> }) | undefined;
        // Either the chart made the Secret with that key, or the values name an existing one.
        if (made) expect(Object.keys(made.data)).toContain(path!.toString().split('/').at(-1));
        else expect(JSON.stringify(files)).toContain(`"existingSecret":"${secretName}"`);
      }
    }
    const outsideSecrets = JSON.stringify(manifests.filter((m) => m.kind !== 'Secret'));
    for (const secret of secrets) {
      expect(outsideSecrets).not.toContain(secret);
      expect(outsideSecrets).not.toContain(Buffer.from(secret).toString('base64'));
    }
  });

  it("mounts each tenant's Secret read-only at /etc/bowline/tenants/<name> where tenant credentials are read, and nowhere else", () => {
    const tenants = Object.entries((merged.tenants ?? {}) as Record<string, { existingSecret: string }>);
    for (const d of deployments) {
      const mounts = containerOf(d).volumeMounts.filter((m) => m.mountPath.startsWith('/etc/bowline/tenants/'));
      const readsTenants = ['hook', 'planner', 'jenkins-operator', 'reporter'].includes(serviceOf(d));
      expect(mounts.map((m) => m.mountPath).sort()).toEqual(readsTenants ? tenants.map(([name]) => `/etc/bowline/tenants/${name}`).sort() : []);
      for (const mount of mounts) {
        expect(mount.readOnly).toBe(true);
        const volume = d.spec.template.spec.volumes.find((v) => v.name === mount.name) as { secret?: { secretName: string; defaultMode: number } };
        const tenant = mount.mountPath.split('/').at(-1)!;
        expect(volume.secret).toEqual({ secretName: tenants.find(([name]) => name === tenant)![1].existingSecret, defaultMode: 0o440 });
      }
    }
    // Every file config.yaml names under a tenant's directory is in a mounted tenant Secret.
    const config = typeof merged.config === 'string' ? merged.config : JSON.stringify(merged.config);
    for (const path of config.match(/\/etc\/bowline\/tenants\/[a-z0-9-]+\//g) ?? []) {
      expect(tenants.map(([name]) => `/etc/bowline/tenants/${name}/`)).toContain(path);
    }
  });

  it('mounts no volume inside another', () => {
    for (const d of deployments) {
      const paths = containerOf(d).volumeMounts.map((m) => m.mountPath);
      const nested = paths.filter((p) => paths.some((q) => q !== p && p.startsWith(`${q}/`)));
      expect(nested).toEqual([]);
    }
  });

  it('puts a PodDisruptionBudget on each service running more than one replica, and on no other', () => {
    const budgets = manifests.filter((m) => m.kind === 'PodDisruptionBudget').map((m) => m.metadata.name);
    expect(budgets.sort()).toEqual(deployments.filter((d) => d.spec.replicas > 1).map((d) => d.metadata.name).sort());
  });

  it('leaves no key empty (null)', () => {
    expect(manifests.flatMap((m) => nullsIn(m, `${m.kind}/${m.metadata.name}`))).toEqual([]);
  });
});
