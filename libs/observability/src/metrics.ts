import { Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/** The process's metrics registry: every series labelled with the service, plus Node's own. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * The metric `name` of `registry`, made by `create` the first time it is asked for. Several
 * clients, consumers or leases of one process share a registry, and prom-client refuses a second
 * metric of a name: the first one registered is the one they all use.
 */
export function metricOnce<M extends Metric>(registry: Registry, name: string, create: (registers: Registry[]) => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create([registry]);
}
