import { openProwJobBucket, readCommonSettings, startRuntime } from '@bowline/bus';
import { fileConfigSource } from '@bowline/config';
import { optionalEnv, runMain } from '@bowline/observability';
import { ProwJobStore } from '@bowline/prowjob';
import { Sinker } from './sinker.js';

await runMain('sinker', async () => {
  const settings = readCommonSettings(process.env, 8084);
  const config = fileConfigSource(optionalEnv(process.env, 'BOWLINE_CONFIG', 'config/config.yaml'));
  await startRuntime('sinker', settings, async ({ logger, registry, bus }) => {
    const store = new ProwJobStore(await openProwJobBucket(bus.nc, settings.streams));
    const sinker = new Sinker({ store, config, logger, registry });
    sinker.start();
    return { stop: () => sinker.stop() };
  });
});
