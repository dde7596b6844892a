import { openProwJobBucket } from '@bowline/bus';
import { configPathsFromEnv, watchConfigFile } from '@bowline/config';
import { connectGitHub } from '@bowline/github';
import { ProwJobStore } from '@bowline/prowjob';
import { observe, runMain, startRuntime } from '@bowline/service';
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
      const reporter = new Reporter({ github: github.octokit, botLogin: github.botLogin, config, store, logger, registry });
      await reporter.start();
      return {
        stop: async () => {
          config.stop();
          await reporter.stop();
        },
      };
    },
    observability,
  );
});
