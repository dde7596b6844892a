import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { EventEnvelope } from '@bowline/bus';
import { parseConfig, staticConfigSource, type Config } from '@bowline/config';
import { connectGitHub, TenantGitHubClients } from '@bowline/github';
import { createLogger } from '@bowline/observability';
import type { ProwJob } from '@bowline/prowjob';
import { FakeGitHub, pullRequestCommentPayload, pullRequestPayload, startProwJobBucket, type ProwJobBucket } from '@bowline/testing';
import { Planner } from '../../src/planner.js';

const logger = createLogger({ service: 'test', level: 'silent' });
export const NOW = new Date('2026-06-01T12:00:00Z');

/**
 * Three tenants on one test GitHub: payments (acme-pay) and search (acme) with tokens of their
 * own, capped (acme-cap) with the service's; payments has access rules, the others Prow's.
 */
export function tenantsConfig(dir: string): Config {
  writeFileSync(join(dir, 'payments-token'), 'payments-token\n');
  writeFileSync(join(dir, 'search-token'), 'search-token\n');
  return parseConfig(
    `
presubmits:
  acme-pay/ledger:
  - {name: unit, agent: jenkins, always_run: true, context: ci/unit}
  - {name: expensive, agent: jenkins, always_run: true, context: ci/expensive, allowed_teams: [acme-pay/ci, acme-pay/perf]}
  - {name: e2e, agent: jenkins, context: ci/e2e}
  acme/search:
  - {name: search-unit, agent: jenkins, always_run: true}
  acme-cap/app:
  - {name: a, agent: jenkins, always_run: true}
  - {name: b-optional, agent: jenkins, always_run: true, optional: true}
  - {name: c, agent: jenkins, always_run: true}
  - {name: d, agent: jenkins, always_run: true}
  - {name: e-optional, agent: jenkins, always_run: true, optional: true}
bowline:
  tenants:
  - name: payments
    repos: [acme-pay]
    webhook_secret_file: /s/payments
    github: { token_file: ${join(dir, 'payments-token')} }
    jenkins: [{ name: payments-ci, url: "https://payments/" }]
    access:
      test: [org-members, collaborators, team:acme-pay/ci, user:zed]
      ok_to_test: [team:acme-pay/maintainers]
  - name: search
    repos: [acme]
    webhook_secret_file: /s/search
    github: { token_file: ${join(dir, 'search-token')} }
    jenkins: [{ name: search-ci, url: "https://search/" }]
  - name: capped
    repos: [acme-cap]
    webhook_secret_file: /s/capped
    jenkins: [{ name: capped-ci, url: "https://capped/" }]
    quotas: { max_jobs_per_pr: 3 }
`,
    'config.yaml',
  );
}

export interface Pr {
  org: string;
  repo: string;
  number: number;
  author: string;
  headSha: string;
  baseSha: string;
}

/** A planner over the three tenants, the test GitHub they share, and helpers to speak to it. */
export class TenantsHarness {
  private last = 0;
  private delivery = 0;

  private constructor(
    readonly github: FakeGitHub,
    readonly bucket: ProwJobBucket,
    readonly planner: Planner,
    readonly registry: Registry,
    private readonly dir: string,
  ) {}

  static async start(): Promise<TenantsHarness> {
    const dir = mkdtempSync(join(tmpdir(), 'bowline-planner-tenants-'));
    const [github, bucket] = await Promise.all([FakeGitHub.start({ tokens: ['own-token', 'payments-token', 'search-token'] }), startProwJobBucket()]);
    const settings = { apiUrl: github.url, writeIntervalMs: 0 };
    const own = connectGitHub({ ...settings, token: 'own-token' }, { logger, service: 'planner-tenants-test' });
    const clients = new TenantGitHubClients({ own, settings, logger, service: 'planner-tenants-test' });
    const registry = new Registry();
    const planner = new Planner({
      github: own.octokit,
      botLogin: own.botLogin,
      tenantGitHub: (tenant) => clients.forTenant(tenant),
      store: bucket.store,
      config: staticConfigSource(tenantsConfig(dir)),
      logger,
      registry,
      now: () => NOW,
    });
    return new TenantsHarness(github, bucket, planner, registry, dir);
  }

  async stop(): Promise<void> {
    await this.github.close();
    await this.bucket.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  openPr(org: string, repo: string, author: string, labels: string[] = []): Pr {
    this.last += 1;
    const pr = { org, repo, number: 700 + this.last, author, headSha: `${this.last}`.padEnd(40, 'a'), baseSha: 'b'.repeat(40) };
    this.github.addPullRequest({ ...pr, title: `PR ${pr.number}`, labels });
    return pr;
  }

  comment(pr: Pr, body: string, commenter: string, extra: Partial<EventEnvelope> = {}): EventEnvelope {
    const payload = pullRequestCommentPayload({ org: pr.org, repo: pr.repo, number: pr.number, commenter, body, prAuthor: pr.author, labels: this.github.labels(pr.org, pr.repo, pr.number) });
    return { id: `d-${(this.delivery += 1)}`, event: 'issue_comment', receivedAt: NOW.toISOString(), payload, ...extra };
  }

  prEvent(pr: Pr, action: string): EventEnvelope {
    const payload = pullRequestPayload({ action, ...pr, title: `PR ${pr.number}` }) as Record<string, unknown> & { pull_request: Record<string, unknown> };
    payload.pull_request.labels = this.github.labels(pr.org, pr.repo, pr.number).map((name) => ({ name }));
    return { id: `d-${(this.delivery += 1)}`, event: 'pull_request', receivedAt: NOW.toISOString(), payload };
  }

  async jobsOf(pr: Pr): Promise<ProwJob[]> {
    return (await this.bucket.store.list()).map((s) => s.job).filter((j) => j.spec.refs.repo === pr.repo && j.spec.refs.pulls?.[0]?.number === pr.number);
  }

  async names(pr: Pr): Promise<string[]> {
    return (await this.jobsOf(pr)).map((j) => j.spec.job).sort();
  }

  bodies(pr: Pr): string[] {
    return this.github.comments(pr.org, pr.repo, pr.number).map((c) => c.body);
  }

  /** The first line of each of the bot's replies (the quoted comment and marker left out). */
  replies(pr: Pr): string[] {
    return this.bodies(pr).map((b) => b.split('\n\n<details>')[0]!.split('\n\n<!--')[0]!);
  }
}
