import { observe, openProwJobBucket, readCommonSettings, startRuntime } from '@bowline/bus';
import { configPathsFromEnv, watchConfigFile } from '@bowline/config';
import { runMain } from '@bowline/observability';
import { ProwJobStore } from '@bowline/prowjob';
import { Sinker } from './sinker.js';

await runMain('sinker', async () => {
  const settings = readCommonSettings(process.env, 8084);
  const observability = observe('sinker', settings);
  const config = watchConfigFile({ ...configPathsFromEnv(process.env), ...observability });
  await startRuntime(
    'sinker',
    settings,
    async ({ logger, registry, bus }) => {
      const store = new ProwJobStore(await openProwJobBucket(bus.nc, settings.streams));
      const sinker = new Sinker({ store, config, logger, registry });
      sinker.start();
      return {
        stop: async () => {
          config.stop();
          await sinker.stop();
        },
      };
    },
    observability,
  );
});
