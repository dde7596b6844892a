import { observe, openProwJobBucket, startRuntime } from '@bowline/bus';
import { configPathsFromEnv, watchConfigFile } from '@bowline/config';
import { JenkinsClient } from '@bowline/jenkins';
import { runMain } from '@bowline/observability';
import { ProwJobStore } from '@bowline/prowjob';
import { instrumentJenkinsFetch } from './jenkins-request-metrics.js';
import { createLogsHandler } from './logs-route.js';
import { JenkinsOperator } from './operator.js';
import { readOperatorSettings } from './settings.js';

await runMain('jenkins-operator', async () => {
  const settings = readOperatorSettings(process.env);
  const observability = observe('jenkins-operator', settings);
  const config = watchConfigFile({ ...configPathsFromEnv(process.env), ...observability });
  await startRuntime(
    'jenkins-operator',
    settings,
    async ({ logger, registry, bus }) => {
      const store = new ProwJobStore(await openProwJobBucket(bus.nc, settings.streams));
      const jenkins = new JenkinsClient({ url: settings.jenkinsUrl, auth: settings.jenkinsAuth, logger, fetch: instrumentJenkinsFetch(fetch, registry) });
      const operator = new JenkinsOperator({ store, jenkins, config, logger, registry });
      await operator.start();
      const logs = createLogsHandler({ store, jenkins, logger });
      return {
        routes: (app) => {
          app.get('/logs/:prowjob', logs);
        },
        stop: async () => {
          config.stop();
          await operator.stop();
        },
      };
    },
    observability,
  );
});
