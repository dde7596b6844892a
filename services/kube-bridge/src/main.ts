import { configPathsFromEnv, watchConfigFile } from '@bowline/config';
import { observe, readCommonSettings, runMain, startRuntime } from '@bowline/service';
import { clientNodeProwJobApi, loadKubeConfig } from './kube-api.js';
import { startKubeBridge } from './start-kube-bridge.js';

await runMain('kube-bridge', async () => {
  const settings = readCommonSettings(process.env, 8086);
  const observability = observe('kube-bridge', settings);
  const config = watchConfigFile({ ...configPathsFromEnv(process.env), ...observability });
  await startRuntime(
    'kube-bridge',
    settings,
    async ({ logger, registry, bus }) => {
      // Read once the bridge is enabled, not before: a disabled bridge needs no cluster.
      const connect = (namespace: string) => clientNodeProwJobApi(loadKubeConfig(process.env), namespace);
      const bridge = await startKubeBridge({ nc: bus.nc, streams: settings.streams, config, connect, logger, registry });
      return {
        stop: async () => {
          config.stop();
          await bridge.stop();
        },
      };
    },
    observability,
  );
});
