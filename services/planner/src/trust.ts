import type { ConfigSource } from '@bowline/config';
import { TrustChecker as SharedTrustChecker, type Octokit } from '@bowline/github';

// The decision itself lives in @bowline/github (libs/github/src/trust.ts), shared with the deck's
// rerun and abort (issue 20); the planner keeps its names and reads the rules from its config.
export { isBotLogin, type TrustAnswer } from '@bowline/github';

/** Prow's TrustedUser over `bowline.trust` of the planner's config. */
export class TrustChecker extends SharedTrustChecker {
  constructor(deps: { github: Octokit; config: ConfigSource; bot: () => Promise<string>; now: () => Date; ttlMs?: number }) {
    super({ github: deps.github, bot: deps.bot, now: deps.now, ttlMs: deps.ttlMs, rules: () => deps.config.get().bowline.trust });
  }
}
