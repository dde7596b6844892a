import { openRedeliveryClaims } from '@bowline/bus';
import { watchConfigFile } from '@bowline/config';
import { createAppOctokit } from '@bowline/github';
import { observe, runMain, startRuntime } from '@bowline/service';
import { durablePublisher } from './publisher.js';
import { RedeliveryTask } from './redelivery.js';
import { WebhookSecretBook } from './secret-book.js';
import { readHookSettings } from './settings.js';
import { createWebhookHandler } from './webhook-route.js';

await runMain('hook', async () => {
  const settings = readHookSettings(process.env);
  const observability = observe('hook', settings);
  const config = settings.config && watchConfigFile({ ...settings.config, ...observability });
  // Read now, so a secret file that cannot be read stops the hook before it listens.
  const secrets = new WebhookSecretBook({ config, secretFile: settings.secretFile, logger: observability.logger });
  await startRuntime(
    'hook',
    settings,
    async ({ logger, registry, bus }) => {
      let redelivery: RedeliveryTask | undefined;
      if (settings.app) {
        const claims = await openRedeliveryClaims(bus.nc, settings.streams);
        redelivery = new RedeliveryTask({ github: createAppOctokit(settings.app, logger), claims, logger, registry, settings: settings.redelivery });
        redelivery.start();
      }
      return {
        rawRoutes: {
          '/hook': createWebhookHandler({
            secrets,
            maxBodyBytes: settings.maxBodyBytes,
            logger,
            registry,
            publish: durablePublisher(bus, settings.publishTimeoutMs),
          }),
        },
        stop: async () => {
          config?.stop();
          await redelivery?.stop();
        },
      };
    },
    observability,
  );
});
