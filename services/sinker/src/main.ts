import { observe, readCommonSettings, startRuntime } from '@bowline/bus';
import { configPathsFromEnv, watchConfigFile } from '@bowline/config';
import { runMain } from '@bowline/observability';
import { startSinker } from './start-sinker.js';

await runMain('sinker', async () => {
  const settings = readCommonSettings(process.env, 8084);
  const observability = observe('sinker', settings);
  const config = watchConfigFile({ ...configPathsFromEnv(process.env), ...observability });
  await startRuntime(
    'sinker',
    settings,
    async ({ logger, registry, bus }) => {
      const sinker = await startSinker({ nc: bus.nc, streams: settings.streams, config, logger, registry });
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
