import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { CHART, deploymentOf, deploymentsOf, find, render, serviceOf, token, valuesFile, withValues, type Manifest } from './fixtures.js';

// kube-bridge's part of the chart (README "Kubernetes"): off by default; when on, its own
// ServiceAccount with a token and a Role on ProwJobs alone; Prow's CRD only where none is installed.
const kube = valuesFile('ci/kube-values.yaml');
const PROW_CRD = parseAllDocuments(readFileSync(join(CHART, 'files', 'prowjob-crd.yaml'), 'utf8'))
  .map((d) => d.toJS() as Manifest | null)
  .find((m) => m?.kind === 'CustomResourceDefinition')!;
type Rbac = Manifest & { metadata: { namespace?: string }; rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[]; roleRef?: { name: string }; subjects?: { name: string; namespace: string }[] };
type Crd = Manifest & { spec: unknown };

describe('kube-bridge in the chart', () => {
  it('renders nothing of kube-bridge by default: no Deployment, ServiceAccount, Role or CRD', () => {
    const manifests = render([token]);
    expect(deploymentsOf(manifests).map(serviceOf)).not.toContain('kube-bridge');
    expect(manifests.filter((m) => ['Role', 'RoleBinding', 'CustomResourceDefinition'].includes(m.kind))).toEqual([]);
  });

  it('runs kube-bridge as its own ServiceAccount, the only pod with a token, allowed ProwJobs in the ProwJob namespace and nothing else', () => {
    const manifests = render([kube]);
    const bridge = deploymentOf(manifests, 'kube-bridge');
    const account = (bridge.spec.template.spec as { serviceAccountName?: string }).serviceAccountName!;
    expect(bridge.spec.template.spec.automountServiceAccountToken).toBe(true);
    for (const other of deploymentsOf(manifests).filter((d) => d !== bridge)) expect(other.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(find(manifests, 'ServiceAccount', account)).toBeDefined();
    const role = find(manifests, 'Role') as Rbac;
    expect(role.metadata).toMatchObject({ name: account, namespace: 'prow' });
    expect(role.rules).toEqual([{ apiGroups: ['prow.k8s.io'], resources: ['prowjobs'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] }]);
    const binding = find(manifests, 'RoleBinding') as Rbac;
    expect(binding.metadata.namespace).toBe('prow');
    expect(binding.roleRef!.name).toBe(account);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: account, namespace: 'ci' }]);
  });

  it("puts the Role in the release's namespace when kubernetes.namespace is empty", () => {
    expect((find(render([withValues(kube, { kubernetes: { namespace: '' } })]), 'Role') as Rbac).metadata.namespace).toBe('ci');
  });

  it("installs Prow's own CRD, unchanged but for helm.sh/resource-policy: keep, where the cluster has none", () => {
    const crd = find(render([kube]), 'CustomResourceDefinition') as Crd;
    expect(crd.metadata.name).toBe('prowjobs.prow.k8s.io');
    expect(crd.metadata.annotations).toEqual({ ...PROW_CRD.metadata.annotations, 'helm.sh/resource-policy': 'keep' });
    expect(crd.spec).toEqual((PROW_CRD as Crd).spec);
  });

  it.each([
    ['a CRD Prow installed', 'leaves it alone', {}, false],
    ['the CRD this release installed (an upgrade)', 'keeps rendering it', { 'meta.helm.sh/release-name': 'bowline' }, true],
    ['the CRD another release installed', 'leaves it alone', { 'meta.helm.sh/release-name': 'prow' }, false],
  ])('with %s in the cluster, %s', (_what, _verdict, annotations, rendered) => {
    const existing = [{ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'prowjobs.prow.k8s.io', annotations } }];
    expect(find(render([kube], { existing }), 'CustomResourceDefinition') !== undefined).toBe(rendered);
  });

  it('installs no CRD with kubernetes.installCRD false', () => {
    expect(find(render([withValues(kube, { kubernetes: { installCRD: false } })]), 'CustomResourceDefinition')).toBeUndefined();
  });
});
