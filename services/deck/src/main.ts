import { connectSignIn, readSignInSettings } from './auth/start-auth.js';
import { configPathsFromEnv, watchConfigFile } from '@bowline/config';
import { readDeckSettings } from './settings.js';
import { startDeck } from './start-deck.js';
import { readCommonSettings, runMain, startRuntime, ViewTokens } from '@bowline/service';

await runMain('deck', async () => {
  const settings = readCommonSettings(process.env, 8085);
  const deckSettings = readDeckSettings(process.env);
  const signIn = readSignInSettings(process.env, deckSettings.githubUrl);
  await startRuntime('deck', settings, async ({ logger, registry, bus }) => {
    const config = watchConfigFile({ ...configPathsFromEnv(process.env), logger, registry });
    const viewTokens = deckSettings.viewTokensFile
      ? ViewTokens.load(deckSettings.viewTokensFile, (error) => logger.error({ err: error }, 'view tokens file cannot be read again: the last tokens read stay'))
      : undefined;
    const deck = await startDeck({
      viewTokens, nc: bus.nc, streams: settings.streams, settings: deckSettings, config, logger, registry, signIn: signIn && connectSignIn(signIn, { config, logger, registry }) });
    return {
      routes: deck.routes,
      stop: async () => {
        config.stop();
        await deck.stop();
      },
    };
  });
});
