import { consumeEvents, openPlannerClaims, openProwJobBucket, PLANNER_CONSUMER, tenantConsumer } from '@bowline/bus';
import { configPathsFromEnv, watchConfigFile } from '@bowline/config';
import { connectGitHub, TenantGitHubClients } from '@bowline/github';
import { ProwJobStore } from '@bowline/prowjob';
import { observe, runMain, startRuntime } from '@bowline/service';
import { PeriodicScheduler } from './periodics.js';
import { Planner } from './planner.js';
import { readPlannerSettings } from './settings.js';

await runMain('planner', async () => {
  const settings = readPlannerSettings(process.env);
  const observability = observe('planner', settings);
  const config = watchConfigFile({ ...configPathsFromEnv(process.env), ...observability });
  await startRuntime(
    'planner',
    settings,
    async ({ logger, registry, bus }) => {
      const store = new ProwJobStore(await openProwJobBucket(bus.nc, settings.streams));
      const claims = await openPlannerClaims(bus.nc, settings.streams);
      const github = connectGitHub(settings.github, { logger, registry, service: 'planner' });
      const tenants = new TenantGitHubClients({ own: github, settings: settings.github, logger, registry, service: 'planner' });
      const planner = new Planner({ github: github.octokit, botLogin: github.botLogin, tenantGitHub: (tenant) => tenants.forTenant(tenant), store, claims, config, logger, registry });
      // One consumer per tenant of BOWLINE_TENANTS (nats-server 2.9 takes one filter subject), each
      // starting where the all-tenant consumer had got to; without it, one for every tenant.
      const consumers = await Promise.all(
        (settings.tenants.names ?? [undefined]).map((tenant) =>
          consumeEvents({ nc: bus.nc, durable: tenantConsumer(PLANNER_CONSUMER, tenant), tenant, startFrom: tenant && PLANNER_CONSUMER, service: 'planner', logger, registry, handle: (e) => planner.handle(e) }),
        ),
      );
      const periodics = new PeriodicScheduler({ store, claims, config, logger, registry, tenants: settings.tenants });
      periodics.start();
      return {
        stop: async () => {
          config.stop();
          await periodics.stop();
          await Promise.all(consumers.map((consumer) => consumer.stop()));
        },
      };
    },
    observability,
  );
});
