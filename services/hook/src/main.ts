import { publishEvent, startRuntime } from '@bowline/bus';
import { runMain } from '@bowline/observability';
import { readHookSettings } from './settings.js';
import { addWebhookRoute } from './webhook-route.js';

await runMain('hook', async () => {
  const settings = readHookSettings(process.env);
  await startRuntime('hook', settings, async ({ logger, registry, bus }) => ({
    routes: (app) =>
      addWebhookRoute(app, {
        secrets: settings.secrets,
        maxBodyBytes: settings.maxBodyBytes,
        logger,
        registry,
        publish: (envelope) => publishEvent(bus.nc, envelope),
      }),
    stop: async () => undefined,
  }));
});
