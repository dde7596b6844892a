import { consumeEvents, observe, openPlannerClaims, openProwJobBucket, PLANNER_CONSUMER, startRuntime } from '@bowline/bus';
import { configPathsFromEnv, watchConfigFile } from '@bowline/config';
import { connectGitHub } from '@bowline/github';
import { runMain } from '@bowline/observability';
import { ProwJobStore } from '@bowline/prowjob';
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
      const planner = new Planner({ github: github.octokit, botLogin: github.botLogin, store, claims, config, logger, registry });
      const consumer = await consumeEvents({ nc: bus.nc, durable: PLANNER_CONSUMER, service: 'planner', logger, registry, handle: (e) => planner.handle(e) });
      const periodics = new PeriodicScheduler({ store, claims, config, logger, registry });
      periodics.start();
      return {
        stop: async () => {
          config.stop();
          await periodics.stop();
          await consumer.stop();
        },
      };
    },
    observability,
  );
});
