import { Registry, collectDefaultMetrics } from 'prom-client';

/** The process's metrics registry: every series labelled with the service, plus Node's own. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
