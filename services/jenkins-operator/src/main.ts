import { JENKINS_OPERATOR_LEASE, Lease, observe, openLeaseBucket, openProwJobBucket, readLeaseSettings, startRuntime } from '@bowline/bus';
import { configPathsFromEnv, watchConfigFile } from '@bowline/config';
import { JenkinsClient, type JenkinsClientOptions } from '@bowline/jenkins';
import { runMain } from '@bowline/observability';
import { ProwJobStore } from '@bowline/prowjob';
import { instrumentJenkinsFetch } from './jenkins-request-metrics.js';
import { JenkinsMasters } from './jenkins-masters.js';
import { createLogsHandler } from './logs-route.js';
import { JenkinsOperator } from './operator.js';
import { readOperatorSettings, requireSomeMaster } from './settings.js';
import { runWhileLeaseHeld } from './standby.js';

await runMain('jenkins-operator', async () => {
  const settings = readOperatorSettings(process.env);
  const leaseSettings = readLeaseSettings(process.env);
  const observability = observe('jenkins-operator', settings);
  const config = watchConfigFile({ ...configPathsFromEnv(process.env), ...observability });
  requireSomeMaster(settings, config.get());
  await startRuntime(
    'jenkins-operator',
    settings,
    async ({ logger, registry, bus }) => {
      const store = new ProwJobStore(await openProwJobBucket(bus.nc, settings.streams));
      const instrumented = instrumentJenkinsFetch(fetch, registry);
      const createClient = (options: JenkinsClientOptions): JenkinsClient => new JenkinsClient({ ...options, fetch: instrumented });
      const defaultClient = settings.jenkins ? createClient({ ...settings.jenkins, logger: logger.child({ master: 'default' }) }) : undefined;
      const masters = new JenkinsMasters({ config, defaultClient, createClient, logger });
      // One replica acts on Jenkins; the others stand by and serve logs.
      const lease = new Lease({ kv: await openLeaseBucket(bus.nc, settings.streams), name: JENKINS_OPERATOR_LEASE, logger, registry, connection: bus.nc });
      const operator = new JenkinsOperator({ store, masters, config, logger, registry, mayAct: () => lease.isHeld() });
      await runWhileLeaseHeld(lease, operator, logger, { exitOnLoss: leaseSettings.exitOnLoss, exit: (code) => process.exit(code) });
      const logs = createLogsHandler({ store, masters, logger });
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
