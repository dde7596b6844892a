import { DEFAULT_TENANT, tenantNamed, tenantOf, type Config, type Tenant } from '@bowline/config';
import { tenantOfProwJob } from './history.js';
import type { ProwJob } from './types.js';

/** The tenant a ProwJob belongs to, by name, and its entry while the config lists it. */
export interface JobTenant {
  name: string;
  tenant?: Tenant;
}

/**
 * The tenant named on the job (label `bowline.dev/tenant`, else Prow's
 * `spec.prowjob_defaults.tenant_id`), else its repository's, else `default`. A named tenant is
 * taken as named even when the config no longer lists it: its jobs then wait, rather than be
 * handed to whichever tenant owns the repository now, whose masters and credentials they were
 * never meant for (issue 17: never another tenant's master). The jenkins-operator and the deck's
 * visibility both go by it.
 */
export function tenantOfJob(config: Config, job: ProwJob): JobTenant {
  const named = tenantOfProwJob(job);
  if (named !== undefined) return { name: named, tenant: tenantNamed(config, named) };
  const owner = tenantOf(config, job.spec.refs.org, job.spec.refs.repo);
  if (owner) return { name: owner.name, tenant: owner };
  return { name: DEFAULT_TENANT, tenant: tenantNamed(config, DEFAULT_TENANT) };
}
