/** The Kubernetes `Status` body the API server answers every error with (meta/v1). */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { field: string; message: string; reason: string }[] };
  code: number;
}

const RESOURCE = { group: 'prow.k8s.io', kind: 'prowjobs' };

function status(code: number, reason: string, message: string, details?: KubeStatus['details']): KubeStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export const notFound = (name: string): KubeStatus => status(404, 'NotFound', `prowjobs.prow.k8s.io "${name}" not found`, { name, ...RESOURCE });
export const alreadyExists = (name: string): KubeStatus => status(409, 'AlreadyExists', `prowjobs.prow.k8s.io "${name}" already exists`, { name, ...RESOURCE });
export const conflict = (name: string, why: string): KubeStatus =>
  status(409, 'Conflict', `Operation cannot be fulfilled on prowjobs.prow.k8s.io "${name}": ${why}`, { name, ...RESOURCE });
export const invalid = (name: string, causes: { field: string; message: string }[]): KubeStatus =>
  status(422, 'Invalid', `ProwJob.prow.k8s.io "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
    name,
    group: 'prow.k8s.io',
    kind: 'ProwJob',
    causes: causes.map((c) => ({ ...c, reason: 'FieldValueInvalid' })),
  });
export const badRequest = (message: string): KubeStatus => status(400, 'BadRequest', message);
export const expired = (message: string): KubeStatus => status(410, 'Expired', message);
export const unauthorized = (): KubeStatus => status(401, 'Unauthorized', 'Unauthorized');
export const unavailable = (): KubeStatus => status(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
export const unsupportedMediaType = (type: string): KubeStatus => status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/apply-patch+yaml (not ${type}; JSON patch is not modelled by the test API server)`);
export const methodNotAllowed = (method: string): KubeStatus => status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`);
export const pathNotFound = (path: string): KubeStatus => status(404, 'NotFound', `the server could not find the requested resource (${path})`);
