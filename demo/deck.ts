/**
 * The demo's deck: the service's built main.ts as a process beside the pipeline's five, reading the
 * same bucket, with "Sign in with GitHub" played by the GitHub stand-in. The stand-in's sign-in page
 * offers the demo's org member (alice: may rerun and abort) and the outside contributor who opened
 * the pull request (bob: sees no buttons, and a POST from him is refused with 403).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, REPO_ROOT, waitFor, type Pipeline } from '@bowline/testing';

export interface DemoDeck {
  url: string;
  stop(): Promise<void>;
}

/** The people the stand-in's sign-in page offers, and what the deck lets each of them do. */
export const DEMO_USERS = [
  { login: 'alice', note: 'member of acme: may rerun and abort' },
  { login: 'bob', note: 'outside contributor: no buttons, a POST is refused' },
];

export async function startDemoDeck(pipeline: Pipeline, onLog: (line: string) => void): Promise<DemoDeck> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // A fresh OAuth app and session key each run: nothing here is a real secret.
  const clientId = 'demo-deck';
  const files = { secret: join(pipeline.workDir, 'oauth-client-secret'), keys: join(pipeline.workDir, 'deck-session-keys') };
  const clientSecret = randomBytes(16).toString('hex');
  writeFileSync(files.secret, `${clientSecret}\n`);
  writeFileSync(files.keys, `${randomBytes(48).toString('base64')}\n`);
  pipeline.github.addOAuthApp({ clientId, clientSecret, callbackUrl: `${url}/auth/github/callback` });
  for (const user of DEMO_USERS) pipeline.github.addOAuthUser(user);

  const child: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'services', 'deck', 'dist', 'main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      PORT: String(port),
      NATS_URL: pipeline.nats.url,
      BOWLINE_CONFIG: join(pipeline.workDir, 'config.yaml'),
      // Build logs (/log/<name>) come through the jenkins-operator's logs endpoint.
      DECK_OPERATOR_URL: `http://127.0.0.1:${pipeline.services['jenkins-operator'].port}`,
      // The bot's credentials, as the other services have them: trust checks and comments.
      GITHUB_API_URL: pipeline.github.url,
      GITHUB_TOKEN_FILE: join(pipeline.workDir, 'github-token'),
      GITHUB_WRITE_INTERVAL: '0s',
      // The stand-in serves GitHub's web pages (the OAuth ones) and its API on one address.
      DECK_GITHUB_URL: pipeline.github.url,
      DECK_URL: url,
      GITHUB_OAUTH_CLIENT_ID: clientId,
      GITHUB_OAUTH_CLIENT_SECRET_FILE: files.secret,
      DECK_SESSION_KEY_FILE: files.keys,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer): void => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      onLog(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitFor(`deck to be ready on port ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`deck exited with ${child.exitCode}:\n${lines.join('\n')}`);
      try {
        return (await fetch(`${url}/readyz`)).status === 200;
      } catch {
        return false;
      }
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

/** What a person does with the deck once the demo holds (DEMO_HOLD=1). */
export function signInHelp(url: string): string {
  return [
    `Deck: ${url}`,
    '  Sign in: "Sign in with GitHub" at the top right leads to the GitHub stand-in, which offers',
    ...DEMO_USERS.map((user) => `    ${user.login.padEnd(6)} ${user.note}`),
    '  As alice, press Rerun on a failed integration run and watch the new run go from triggered to success.',
    '  As bob, no button shows; a POST made anyway (browser console on the deck:',
    "    fetch('/rerun?prowjob=' + document.querySelector('.deck-actions').dataset.prowjob, { method: 'POST',",
    "      body: new URLSearchParams({ csrf: (await (await fetch('/auth/actions')).json()).csrf }) }).then((r) => r.status)",
    '  ) answers 403 with the reason.',
  ].join('\n');
}
