import { openRedeliveryClaims } from '@bowline/bus';
import { createAppOctokit } from '@bowline/github';
import { runMain, startRuntime } from '@bowline/service';
import { durablePublisher } from './publisher.js';
import { RedeliveryTask } from './redelivery.js';
import { readHookSettings } from './settings.js';
import { createWebhookHandler } from './webhook-route.js';

await runMain('hook', async () => {
  const settings = readHookSettings(process.env);
  await startRuntime('hook', settings, async ({ logger, registry, bus }) => {
    let redelivery: RedeliveryTask | undefined;
    if (settings.app) {
      const claims = await openRedeliveryClaims(bus.nc, settings.streams);
      redelivery = new RedeliveryTask({ github: createAppOctokit(settings.app, logger), claims, logger, registry, settings: settings.redelivery });
      redelivery.start();
    }
    return {
      rawRoutes: {
        '/hook': createWebhookHandler({
          secrets: settings.secrets,
          maxBodyBytes: settings.maxBodyBytes,
          logger,
          registry,
          publish: durablePublisher(bus, settings.publishTimeoutMs),
        }),
      },
      stop: async () => {
        await redelivery?.stop();
      },
    };
  });
});
