import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate as validateObjectMeta } from '@kubernetes-models/apimachinery/_schemas/IoK8sApimachineryPkgApisMetaV1ObjectMeta';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Ajv, type ErrorObject } from 'ajv';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import ts from 'typescript';
import type { Kinds } from './kinds.js';
import { routeSchema } from './openshift-route-schema.js';

/*
 * A rendered manifest checked as `kubeconform -strict` would check it, from npm packages only:
 * - the Kubernetes OpenAPI schemas as kubernetes-models compiles them (types, formats, enums,
 *   patterns, required fields), and the Prometheus Operator's CRD schema for the ServiceMonitor
 *   (@kubernetes-models/prometheus-operator), through each model's validate();
 * - unknown fields, which those validators let through (the OpenAPI schemas do not say
 *   additionalProperties: false): each field is looked up in the model's TypeScript type, read
 *   with the compiler from kinds.ts.
 * kubernetes-models 5.1.0 follows a recent Kubernetes: a field newer than the chart's kubeVersion
 * (1.25) would pass here and fail on an old cluster.
 */

type Model = new (data: never) => { validate(): void };
const MODELS: Record<string, Model> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/ServiceAccount': ServiceAccount,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
};

const ajv = new Ajv({ allErrors: true, strict: false });
const validateRoute = ajv.compile(routeSchema);

const describeErrors = (errors: readonly ErrorObject[] | null | undefined, prefix = ''): string[] =>
  (errors ?? []).map((e) => {
    // kubernetes-models' validators come with messages, the precompiled ObjectMeta one without.
    const what = e.message ? `${e.message}${'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}` : `${e.keyword} ${JSON.stringify(e.params)}`;
    return `${prefix}${e.instancePath || '/'}: ${what}`;
  });

function schemaErrors(kind: string, manifest: object): string[] {
  if (kind === 'route.openshift.io/v1/Route') {
    const metadata = (manifest as { metadata?: unknown }).metadata;
    return [
      ...(validateRoute(manifest) ? [] : describeErrors(validateRoute.errors)),
      ...(validateObjectMeta(metadata) ? [] : describeErrors((validateObjectMeta as unknown as { errors: ErrorObject[] }).errors, '/metadata')),
    ];
  }
  try {
    new MODELS[kind]!(manifest as never).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: ErrorObject[] }).errors;
    if (!errors) throw error;
    return describeErrors(errors);
  }
}

// ───────────────────────────── unknown fields ─────────────────────────────

interface TypeReader {
  checker: ts.TypeChecker;
  kinds: ts.Type;
}
let reader: TypeReader | undefined;

/** The compiler's view of kinds.ts, made once (about a second). */
function typeReader(): TypeReader {
  if (reader) return reader;
  const file = join(dirname(fileURLToPath(import.meta.url)), 'kinds.ts');
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  if (problems.length > 0) throw new Error(`kinds.ts does not compile: ${problems.join('; ')}`);
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  const kinds = checker.getExportsOfModule(module).find((s) => s.name === 'Kinds')!;
  reader = { checker, kinds: checker.getDeclaredTypeOfSymbol(kinds) };
  return reader;
}

/** The fields of `value` that `type` does not have, as JSON pointers. */
function unknownFields(checker: ts.TypeChecker, value: unknown, type: ts.Type, path: string, out: string[]): string[] {
  if (value === null || typeof value !== 'object') return out;
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return out;
  const members = type.isUnion() ? type.types : [type];
  if (Array.isArray(value)) {
    const array = members.find((m) => checker.isArrayType(m));
    if (!array) out.push(`${path}: a list where the schema has ${checker.typeToString(type)}`);
    else value.forEach((item, i) => unknownFields(checker, item, checker.getTypeArguments(array as ts.TypeReference)[0]!, `${path}/${i}`, out));
    return out;
  }
  const object = members.find((m) => m.flags & ts.TypeFlags.Object && !checker.isArrayType(m));
  if (!object) {
    out.push(`${path}: an object where the schema has ${checker.typeToString(type)}`);
    return out;
  }
  const index = checker.getIndexInfoOfType(object, ts.IndexKind.String);
  for (const [key, child] of Object.entries(value)) {
    const property = checker.getPropertyOfType(object, key);
    const declared = property && checker.getTypeOfSymbol(property);
    // NonNullable<unknown> is {}, an object with no fields: unknown stays unknown.
    const childType = declared ? (declared.flags & ts.TypeFlags.Unknown ? declared : checker.getNonNullableType(declared)) : index?.type;
    if (childType) unknownFields(checker, child, childType, `${path}/${key}`, out);
    else out.push(`${path}/${key}: unknown field`);
  }
  return out;
}

/** Every way the manifest falls short of its kind's schema; empty when it is valid. */
export function validateManifest(manifest: { apiVersion?: unknown; kind?: unknown }): string[] {
  const kind = `${String(manifest.apiVersion)}/${String(manifest.kind)}`;
  const { checker, kinds } = typeReader();
  const property = kinds.getProperty(kind);
  if (!property) return [`${kind}: a kind the chart's checks do not know (add it to tests/chart/kinds.ts)`];
  // The `source` field is the renderer's note of the template a manifest came from.
  const { source: _source, ...object } = manifest as Record<string, unknown>;
  // A CRD's OpenAPI schema (Prow's ProwJob CRD, vendored whole) is left to kubernetes-models'
  // validator: the type walker cannot follow JSONSchemaProps' unions (`items`, `additionalProperties`
  // are a schema or a list or a boolean) and would call every nested keyword unknown.
  const walked = kind === 'apiextensions.k8s.io/v1/CustomResourceDefinition' ? withoutSchemas(object) : object;
  return [...schemaErrors(kind as keyof Kinds, object), ...unknownFields(checker, walked, checker.getTypeOfSymbol(property), '', [])];
}

function withoutSchemas(crd: Record<string, unknown>): Record<string, unknown> {
  const spec = crd.spec as { versions: Record<string, unknown>[] };
  return { ...crd, spec: { ...spec, versions: spec.versions.map(({ schema: _schema, ...version }) => version) } };
}
