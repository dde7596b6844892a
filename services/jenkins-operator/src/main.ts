import { Lease, openLeaseBucket, openProwJobBucket, readLeaseSettings } from '@bowline/bus';
import { configPathsFromEnv, unknownTenants, watchConfigFile } from '@bowline/config';
import { JenkinsClient, type JenkinsClientOptions } from '@bowline/jenkins';
import { ProwJobStore } from '@bowline/prowjob';
import { observe, runMain, startRuntime, ViewTokens } from '@bowline/service';
import { instrumentJenkinsFetch } from './jenkins-request-metrics.js';
import { JenkinsMasters } from './jenkins-masters.js';
import { createLogsHandler } from './logs-route.js';
import { JenkinsOperator } from './operator.js';
import { operatorLeaseName, readOperatorSettings, requireSomeMaster } from './settings.js';
import { runWhileLeaseHeld } from './standby.js';

await runMain('jenkins-operator', async () => {
  const settings = readOperatorSettings(process.env);
  const leaseSettings = readLeaseSettings(process.env);
  const observability = observe('jenkins-operator', settings);
  const config = watchConfigFile({ ...configPathsFromEnv(process.env), ...observability });
  requireSomeMaster(settings, config.get());
  const viewTokens = settings.viewTokensFile
    ? ViewTokens.load(settings.viewTokensFile, (error) => observability.logger.error({ err: error }, 'view tokens file cannot be read again: the last tokens read stay'))
    : undefined;
  await startRuntime(
    'jenkins-operator',
    settings,
    async ({ logger, registry, bus }) => {
      const unknown = unknownTenants(settings.tenants, config.get());
      if (unknown.length > 0) logger.warn({ tenants: unknown }, 'BOWLINE_TENANTS names tenants the config does not list: their jobs, if any, wait for them');
      if (settings.jenkins && !config.get().bowline.tenants.some((t) => t.implicit)) {
        logger.warn('JENKINS_URL is set beside bowline.tenants: it is no tenant\'s master, so no job runs on it');
      }
      const store = new ProwJobStore(await openProwJobBucket(bus.nc, settings.streams));
      const instrumented = instrumentJenkinsFetch(fetch, registry);
      const createClient = (options: JenkinsClientOptions): JenkinsClient => new JenkinsClient({ ...options, fetch: instrumented });
      const defaultClient = settings.jenkins ? createClient({ ...settings.jenkins, logger: logger.child({ master: 'default' }) }) : undefined;
      const masters = new JenkinsMasters({ config, defaultClient, createClient, logger });
      // One replica per set of tenants acts on Jenkins; the others stand by and serve logs.
      const lease = new Lease({ kv: await openLeaseBucket(bus.nc, settings.streams), name: operatorLeaseName(settings.tenants), logger, registry, connection: bus.nc });
      const operator = new JenkinsOperator({ store, masters, config, logger, registry, mayAct: () => lease.isHeld(), tenants: settings.tenants });
      await runWhileLeaseHeld(lease, operator, logger, { exitOnLoss: leaseSettings.exitOnLoss, exit: (code) => process.exit(code) });
      const logs = createLogsHandler({ store, masters, logger, viewTokens, config, tenants: settings.tenants });
      return {
        routes: (app) => {
          app.get('/logs/:prowjob', logs);
        },
        stop: async () => {
          config.stop();
          await operator.stop();
          await lease.stop();
        },
      };
    },
    observability,
  );
});
