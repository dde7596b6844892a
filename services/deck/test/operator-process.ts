import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, waitForPort, type FakeJenkins } from '@bowline/testing';

export interface OperatorProcess {
  stop(): Promise<void>;
}

/**
 * The real jenkins-operator, its built main.js as it runs in production, on `port`: it starts the
 * builds of the bucket's triggered jobs on the test Jenkins and serves `/logs/<prowjob>`.
 */
export async function startOperatorProcess(options: { natsUrl: string; jenkins: FakeJenkins; jobs: string[]; port: number }): Promise<OperatorProcess> {
  const workDir = mkdtempSync(join(tmpdir(), 'deck-operator-'));
  const jobs = options.jobs.map((job) => `  - name: ${job}\n    agent: jenkins\n    context: ci/${job}\n`).join('');
  writeFileSync(join(workDir, 'config.yaml'), `presubmits:\n  acme/widgets:\n${jobs}bowline:\n  jenkins_operator:\n    resync_period: 1s\n`);
  writeFileSync(join(workDir, 'jenkins-token'), 'jenkins-token\n');
  const child: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'services', 'jenkins-operator', 'dist', 'main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      NATS_URL: options.natsUrl,
      BOWLINE_CONFIG: join(workDir, 'config.yaml'),
      JENKINS_URL: options.jenkins.url,
      JENKINS_USER: 'bowline',
      JENKINS_TOKEN_FILE: join(workDir, 'jenkins-token'),
      PORT: String(options.port),
      LOG_LEVEL: 'warn',
    },
    stdio: 'inherit',
  });
  await waitForPort(options.port);
  return {
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
