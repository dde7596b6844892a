import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '@bowline/config';
import { tenantOfProwJob } from '../src/history.js';
import { newPeriodicJob, newPostsubmitJob, newPresubmitJob, PROW_DEFAULT_TENANT_ID } from '../src/prowjob.js';
import type { ProwJob } from '../src/types.js';

const NOW = new Date('2026-02-03T04:05:06.000Z');
const refs = { org: 'acme-pay', repo: 'ledger', base_ref: 'main', base_sha: 'c'.repeat(40), pulls: [{ number: 3, author: 'alice', sha: 'a'.repeat(40) }] };
const cause = { event: 'issue_comment', deliveryId: 'd-1' };

const tenants = parseConfig(
  `
presubmits:
  acme-pay/ledger:
  - {name: unit, agent: jenkins}
postsubmits:
  acme-pay/ledger:
  - {name: publish, agent: jenkins}
periodics:
- {name: nightly, agent: jenkins, interval: 24h, prowjob_defaults: {tenant_id: payments}}
bowline:
  tenants:
  - name: payments
    repos: [acme-pay]
    webhook_secret_file: /s/payments
    jenkins: [{ name: payments-ci, url: "https://payments/" }]
`,
  'config.yaml',
);

const implicit = parseConfig(
  `
presubmits:
  acme/widgets:
  - {name: unit, agent: jenkins}
  - {name: tagged, agent: jenkins, prowjob_defaults: {tenant_id: widgets-team}}
`,
  'config.yaml',
);

/** The tenant as Prow keeps it (`spec.prowjob_defaults.tenant_id`) and as Bowline labels it. */
const tenantFields = (job: ProwJob) => ({ tenant_id: job.spec.prowjob_defaults?.tenant_id, label: job.metadata.labels['bowline.dev/tenant'], read: tenantOfProwJob(job) });

describe('the tenant on a new ProwJob', () => {
  it.each([
    ['a presubmit of a tenant’s repository', () => newPresubmitJob(tenants.presubmits['acme-pay/ledger']![0]!, { name: 'pj-1', refs, now: NOW, cause }), 'payments', 'payments'],
    [
      'a postsubmit of a tenant’s repository',
      () => newPostsubmitJob(tenants.postsubmits['acme-pay/ledger']![0]!, { name: 'pj-2', refs: { ...refs, pulls: undefined }, now: NOW, cause: { event: 'push', deliveryId: 'd-2' } }),
      'payments',
      'payments',
    ],
    [
      'a periodic naming its tenant in prowjob_defaults.tenant_id',
      () => newPeriodicJob(tenants.periodics[0]!, { name: 'pj-3', now: NOW, cause: { scheduledFor: NOW, schedule: '@every 24h' } }),
      'payments',
      'payments',
    ],
    ['a job of a config without tenants (Prow’s default tenant id, so Prow’s Deck shows it without --tenant-id)', () => newPresubmitJob(implicit.presubmits['acme/widgets']![0]!, { name: 'pj-4', refs, now: NOW, cause }), PROW_DEFAULT_TENANT_ID, 'default'],
    ['a job of a config without tenants that sets its own tenant_id for Prow’s Deck', () => newPresubmitJob(implicit.presubmits['acme/widgets']![1]!, { name: 'pj-5', refs, now: NOW, cause }), 'widgets-team', 'default'],
  ])('%s carries tenant_id %s and the label %s', (_what, make, tenantId, label) => {
    expect(tenantFields(make())).toEqual({ tenant_id: tenantId, label, read: label });
  });

  it('writes the label over a bowline.dev/tenant the job’s own labels set', () => {
    const config = parseConfig(`presubmits:\n  acme/widgets:\n  - {name: unit, agent: jenkins, labels: {bowline.dev/tenant: someone-else}}\n`, 'config.yaml');
    const job = newPresubmitJob(config.presubmits['acme/widgets']![0]!, { name: 'pj-6', refs, now: NOW, cause });
    expect(job.metadata.labels['bowline.dev/tenant']).toBe('default');
  });
});
