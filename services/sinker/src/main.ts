import { readLeaseSettings } from '@bowline/bus';
import { configPathsFromEnv, watchConfigFile } from '@bowline/config';
import { observe, readCommonSettings, runMain, startRuntime } from '@bowline/service';
import { startSinker } from './start-sinker.js';

await runMain('sinker', async () => {
  const settings = readCommonSettings(process.env, 8084);
  const leaseSettings = readLeaseSettings(process.env);
  const observability = observe('sinker', settings);
  const config = watchConfigFile({ ...configPathsFromEnv(process.env), ...observability });
  await startRuntime(
    'sinker',
    settings,
    async ({ logger, registry, bus }) => {
      const sinker = await startSinker({ nc: bus.nc, streams: settings.streams, config, logger, registry, exitOnLoss: leaseSettings.exitOnLoss, exit: (code) => process.exit(code) });
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
