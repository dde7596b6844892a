/*
 * OpenShift's route.openshift.io/v1 Route, for want of a package on the npm registry that ships
 * its schema (there is no @kubernetes-models/openshift). Written by hand from OpenShift's API
 * reference, the Route type of github.com/openshift/api (route/v1, as its Default feature set
 * publishes it, read at commit 2d8af88c3d2cc3bf98be5689ad06ec9f958a2591): the fields of spec with
 * their types, enums, patterns and required fields, and no other field (additionalProperties:
 * false, as kubeconform -strict would have it). Left out: status (set by the router, never by a
 * chart), the CEL rules across fields (e.g. passthrough with a path), and httpHeaders' insides.
 * metadata is checked against Kubernetes' ObjectMeta by validate-manifest.ts.
 */

const dnsSubdomain = {
  type: 'string',
  maxLength: 253,
  pattern: '^([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]{0,61}[a-zA-Z0-9])(\\.([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]{0,61}[a-zA-Z0-9]))*$',
};

const targetReference = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'name'],
  properties: {
    kind: { type: 'string', enum: ['Service', ''] },
    name: { type: 'string', minLength: 1 },
    weight: { type: 'integer', minimum: 0, maximum: 256 },
  },
};

export const routeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'spec'],
  properties: {
    apiVersion: { const: 'route.openshift.io/v1' },
    kind: { const: 'Route' },
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['to'],
      properties: {
        host: dnsSubdomain,
        subdomain: dnsSubdomain,
        path: { type: 'string', pattern: '^/' },
        to: targetReference,
        alternateBackends: { type: 'array', maxItems: 3, items: targetReference },
        port: {
          type: 'object',
          additionalProperties: false,
          required: ['targetPort'],
          properties: { targetPort: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', minLength: 1 }] } },
        },
        tls: {
          type: 'object',
          additionalProperties: false,
          required: ['termination'],
          properties: {
            termination: { type: 'string', enum: ['edge', 'reencrypt', 'passthrough'] },
            insecureEdgeTerminationPolicy: { type: 'string', enum: ['Allow', 'None', 'Redirect', ''] },
            certificate: { type: 'string' },
            key: { type: 'string' },
            caCertificate: { type: 'string' },
            destinationCACertificate: { type: 'string' },
          },
        },
        wildcardPolicy: { type: 'string', enum: ['None', 'Subdomain', ''] },
        httpHeaders: { type: 'object' },
      },
    },
  },
} as const;
