import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Presubmit } from '@bowline/config';
import { newPeriodicJob, newPresubmitJob, prowJobName, type ProwJob } from '@bowline/prowjob';
import type { KubeApiServer } from '@bowline/testing';

export const NS = 'prow';
export const TOKEN = 'kube-bridge-token';

export const CONFIG = parseConfig(
  `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    context: ci/jenkins/unit
    labels:
      team: widgets
periodics:
- name: nightly-release-candidate-build-with-a-very-long-name-that-prow-must-cut-short
  agent: jenkins
  interval: 24h
bowline:
  kubernetes:
    enabled: true
    namespace: ${NS}
`,
  'config.yaml',
);

export const NOW = new Date('2026-12-03T10:00:00Z');
let created = 0;

export function presubmit(number = 7): ProwJob {
  created += 1;
  const job = CONFIG.presubmits['acme/widgets']![0] as Presubmit;
  return newPresubmitJob(job, {
    name: prowJobName('kube-bridge-test', String(created), String(Date.now())),
    now: NOW,
    cause: { event: 'issue_comment', deliveryId: `delivery-${created}`, user: 'alice', comment: '/test all' },
    pullRequest: {
      number,
      html_url: `https://github.com/acme/widgets/pull/${number}`,
      title: 'Add sprockets',
      user: { login: 'alice', html_url: 'https://github.com/alice' },
      head: { sha: 'a'.repeat(40), ref: 'feature' },
      base: { ref: 'master', sha: 'b'.repeat(40), repo: { name: 'widgets', html_url: 'https://github.com/acme/widgets', owner: { login: 'acme' } } },
    },
  });
}

export function periodic(): ProwJob {
  created += 1;
  return newPeriodicJob(CONFIG.periodics[0]!, {
    name: prowJobName('kube-bridge-periodic', String(created), String(Date.now())),
    now: NOW,
    cause: { scheduledFor: NOW, schedule: '24h' },
  });
}

/** A kubeconfig file for the test API server, as `KUBECONFIG` names one. */
export function kubeconfigFile(server: KubeApiServer): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kube-bridge-')), 'kubeconfig');
  writeFileSync(file, server.kubeconfig(TOKEN, NS));
  return file;
}

/** A ProwJob as Prow's hook (or Deck's rerun, or mkpj) creates it in the cluster. */
export function clusterProwJob(name: string, overrides: { agent?: string; state?: string; completionTime?: string; report?: boolean } = {}): Record<string, unknown> {
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: {
      name,
      labels: { 'created-by-prow': 'true', 'prow.k8s.io/type': 'presubmit', 'prow.k8s.io/job': 'unit', 'prow.k8s.io/refs.org': 'acme', 'prow.k8s.io/refs.repo': 'widgets', 'prow.k8s.io/refs.pull': '9' },
      annotations: { 'prow.k8s.io/job': 'unit' },
    },
    spec: {
      type: 'presubmit',
      agent: overrides.agent ?? 'jenkins',
      job: 'unit',
      context: 'ci/jenkins/unit',
      rerun_command: '/test unit',
      ...(overrides.report === false ? {} : { report: true }),
      refs: {
        org: 'acme',
        repo: 'widgets',
        base_ref: 'master',
        base_sha: 'b'.repeat(40),
        pulls: [{ number: 9, author: 'bob', sha: 'c'.repeat(40) }],
      },
    },
    status: {
      state: overrides.state ?? 'triggered',
      startTime: '2026-12-03T10:00:00Z',
      ...(overrides.completionTime ? { completionTime: overrides.completionTime } : {}),
    },
  };
}
