import { describe, expect, it } from '@jest/globals';
import { find, FULL_CLUSTER, openshift, render, token, type Manifest } from './fixtures.js';
import { validateManifest } from './validate-manifest.js';

// The strict check chart.test.ts runs on every manifest, shown to refuse what kubeconform -strict
// (or the API server) would: each case spoils one field of a manifest the chart renders.

const rendered = [...render([token], FULL_CLUSTER), ...render([openshift], FULL_CLUSTER)];
/** A copy of the rendered manifest of this kind with the field at `path` (dotted) set to `value`. */
function spoil(kind: string, path: string, value: unknown): Manifest {
  const manifest = structuredClone(find(rendered, kind)!);
  const keys = path.split('.');
  const parent = keys.slice(0, -1).reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, manifest);
  parent[keys.at(-1)!] = value;
  return manifest;
}

describe('validateManifest', () => {
  it('accepts the manifests as rendered', () => {
    expect(rendered.flatMap((m) => validateManifest(m))).toEqual([]);
    expect(new Set(rendered.map((m) => m.kind))).toEqual(new Set(['Deployment', 'Service', 'ConfigMap', 'Secret', 'ServiceAccount', 'Ingress', 'PodDisruptionBudget', 'ServiceMonitor', 'Route']));
  });

  it.each([
    ['a misspelt container field', 'Deployment', 'spec.template.spec.containers.0.securityContext.runAsUsr', 1, '/spec/template/spec/containers/0/securityContext/runAsUsr: unknown field'],
    ['a misspelt metadata field', 'Service', 'metadata.label', {}, '/metadata/label: unknown field'],
    ['replicas as a string', 'Deployment', 'spec.replicas', '2', '/spec/replicas: must be integer'],
    ['a list where an object belongs', 'Deployment', 'spec.template.spec.securityContext', [], '/spec/template/spec/securityContext: a list where the schema has'],
    ['a Service protocol Kubernetes does not know', 'Service', 'spec.ports.0.protocol', 'HTTP', '/spec/ports/0/protocol: must be equal to one of the allowed values'],
    ['an Ingress path type Kubernetes does not know', 'Ingress', 'spec.rules.0.http.paths.0.pathType', 'Literal', '/spec/rules/0/http/paths/0/pathType: must be equal to one of the allowed values'],
    ['a Prometheus duration out of order', 'ServiceMonitor', 'spec.endpoints.0.interval', '1m1h', '/spec/endpoints/0/interval: must match pattern'],
    ['a ServiceMonitor endpoint field the CRD lacks', 'ServiceMonitor', 'spec.endpoints.0.metricsPath', '/metrics', '/spec/endpoints/0/metricsPath: unknown field'],
    ['a Route field OpenShift lacks', 'Route', 'spec.hostname', 'x.example.com', '/spec: must NOT have additional properties'],
    ['a Route TLS termination OpenShift lacks', 'Route', 'spec.tls.termination', 'strict', '/spec/tls/termination: must be equal to one of the allowed values'],
    ['a Route label that is not a string', 'Route', 'metadata.labels.tier', 1, '/metadata/labels/tier: type {"type":"string"}'],
    ['a Route metadata field Kubernetes lacks', 'Route', 'metadata.label', {}, '/metadata/label: unknown field'],
  ])('refuses %s', (_what, kind, path, value, problem) => {
    expect(validateManifest(spoil(kind, path, value)).join('\n')).toContain(problem);
  });

  it('refuses a kind it has no schema for, rather than passing it unchecked', () => {
    expect(validateManifest({ apiVersion: 'batch/v1', kind: 'Job' })).toEqual(['batch/v1/Job: a kind the chart\'s checks do not know (add it to tests/chart/kinds.ts)']);
  });
});
