import { Lease, openLeaseBucket, openProwJobBucket, openReporterClaims, REPORTER_LEASE } from '@bowline/bus';
import { configPathsFromEnv, watchConfigFile } from '@bowline/config';
import { connectGitHub, TenantGitHubClients } from '@bowline/github';
import { ProwJobStore } from '@bowline/prowjob';
import { observe, runMain, startRuntime } from '@bowline/service';
import { PullRequestClaims } from './pull-request-claim.js';
import { Reporter } from './reporter.js';
import { readReporterSettings } from './settings.js';

await runMain('reporter', async () => {
  const settings = readReporterSettings(process.env);
  const observability = observe('reporter', settings);
  const config = watchConfigFile({ ...configPathsFromEnv(process.env), ...observability });
  await startRuntime(
    'reporter',
    settings,
    async ({ logger, registry, bus }) => {
      const store = new ProwJobStore(await openProwJobBucket(bus.nc, settings.streams));
      const github = connectGitHub(settings.github, { logger, registry, service: 'reporter' });
      const lease = new Lease({ kv: await openLeaseBucket(bus.nc, settings.streams), name: REPORTER_LEASE, logger, registry, connection: bus.nc });
      const claims = new PullRequestClaims({ bucket: await openReporterClaims(bus.nc, settings.streams), holder: lease.holder, logger });
      const tenants = new TenantGitHubClients({ own: github, settings: settings.github, logger, registry, service: 'reporter' });
      const reporter = new Reporter({
        github: github.octokit,
        botLogin: github.botLogin,
        tenantGitHub: (tenant) => tenants.forTenant(tenant),
        config,
        store,
        logger,
        registry,
        mayAct: () => lease.isHeld(),
        claims,
      });
      await reporter.start();
      await lease.start({
        onAcquired: () => {
          logger.info('reporter lease acquired: reporting to GitHub');
          reporter.catchUp().catch((error: unknown) => logger.error({ err: error }, 'cannot list the jobs whose report is due: they are reported on their next change'));
        },
        onLost: () => logger.warn('reporter lease lost: standing by'),
      });
      return {
        stop: async () => {
          config.stop();
          await lease.stop();
          await reporter.stop();
        },
      };
    },
    observability,
  );
});
