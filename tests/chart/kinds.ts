import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { ICustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

/**
 * Every kind the chart may render, keyed `apiVersion/kind`, as the Kubernetes OpenAPI schemas type
 * it (kubernetes-models, @kubernetes-models/prometheus-operator). validate-manifest.ts reads these
 * types with the TypeScript compiler to find fields the schema does not have, which the packages'
 * own validators let through. OpenShift's Route has no such package: its spec is checked against
 * openshift-route-schema.ts, its metadata here.
 */
export interface Kinds {
  'apps/v1/Deployment': IDeployment;
  'v1/Service': IService;
  'v1/ConfigMap': IConfigMap;
  'v1/Secret': ISecret;
  'v1/ServiceAccount': IServiceAccount;
  'networking.k8s.io/v1/Ingress': IIngress;
  'policy/v1/PodDisruptionBudget': IPodDisruptionBudget;
  'monitoring.coreos.com/v1/ServiceMonitor': IServiceMonitor;
  'rbac.authorization.k8s.io/v1/Role': IRole;
  'rbac.authorization.k8s.io/v1/RoleBinding': IRoleBinding;
  'apiextensions.k8s.io/v1/CustomResourceDefinition': ICustomResourceDefinition;
  'route.openshift.io/v1/Route': { apiVersion: 'route.openshift.io/v1'; kind: 'Route'; metadata: IObjectMeta; spec: unknown };
}
