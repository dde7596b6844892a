import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { transition } from '@bowline/prowjob';
import { TenantsHarness, type Pr } from './harness.js';

const MEMBER = 'alice'; // org member of acme-pay, acme and acme-cap; in no team
const PERF = 'paul'; // org member of acme-pay and team acme-pay/perf (one of expensive's allowed_teams)
const OUTSIDER = 'mallory';

describe("a tenant's job rules, GitHub identity and the tenant on its ProwJobs", () => {
  let h: TenantsHarness;

  beforeAll(async () => {
    h = await TenantsHarness.start();
    for (const org of ['acme-pay', 'acme', 'acme-cap']) h.github.addOrgMember(org, MEMBER);
    h.github.addOrgMember('acme-pay', PERF);
    h.github.addTeamMember('acme-pay/perf', PERF);
  });

  afterAll(async () => {
    await h?.stop();
  });

  describe('allowed_teams', () => {
    it('refuses a job named by someone in none of its teams, once however often the comment comes', async () => {
      const pr = h.openPr('acme-pay', 'ledger', MEMBER);
      const asked = h.comment(pr, '/test expensive', MEMBER);
      await h.planner.handle(asked);
      await h.planner.handle(asked);
      expect(h.replies(pr)).toEqual([`@${MEMBER}: these jobs were not started:\n- \`expensive\`: only members of acme-pay/ci, acme-pay/perf may start it`]);
      expect(await h.jobsOf(pr)).toEqual([]);
    });

    it('starts it for a member of any of its teams', async () => {
      const pr = h.openPr('acme-pay', 'ledger', MEMBER);
      await h.planner.handle(h.comment(pr, '/test expensive', PERF));
      expect(await h.names(pr)).toEqual(['expensive']);
      expect(h.bodies(pr)).toEqual([]);
    });

    it('starts the rest of /test all and names the job it left out', async () => {
      const pr = h.openPr('acme-pay', 'ledger', MEMBER);
      await h.planner.handle(h.comment(pr, '/test all', MEMBER));
      expect(await h.names(pr)).toEqual(['unit']);
      expect(h.replies(pr)).toEqual([expect.stringContaining('`expensive`: only members of acme-pay/ci, acme-pay/perf may start it')]);
    });

    it("leaves an always_run job out of a pull request's own run when its author is in none of the teams, without a reply", async () => {
      const pr = h.openPr('acme-pay', 'ledger', MEMBER);
      await h.planner.handle(h.prEvent(pr, 'opened'));
      expect(await h.names(pr)).toEqual(['unit']);
      expect(h.bodies(pr)).toEqual([]);
      const teams = h.openPr('acme-pay', 'ledger', PERF);
      await h.planner.handle(h.prEvent(teams, 'opened'));
      expect(await h.names(teams)).toEqual(['expensive', 'unit']);
    });
  });

  describe('quotas.max_jobs_per_pr (capped: 3)', () => {
    const finishAll = async (pr: Pr) => {
      for (const job of await h.jobsOf(pr)) await h.bucket.store.update(job.metadata.name, (current) => transition(current, 'success', new Date()));
    };

    it('starts /test all up to the limit, required jobs first, and names the rest in one reply, once per event', async () => {
      const pr = h.openPr('acme-cap', 'app', MEMBER);
      const asked = h.comment(pr, '/test all', MEMBER);
      await h.planner.handle(asked);
      await h.planner.handle(asked);
      expect(await h.names(pr)).toEqual(['a', 'c', 'd']);
      expect(h.replies(pr)).toEqual([
        `@${MEMBER}: tenant capped allows at most 3 unfinished jobs per pull request; 0 were unfinished, so 3 started and these did not:\n- \`b-optional\`\n- \`e-optional\`\nAsk for them again with \`/test <job>\` once running jobs have finished.`,
      ]);
    });

    it('counts the unfinished jobs of the pull request, and starts more once they finish', async () => {
      const pr = h.openPr('acme-cap', 'app', MEMBER);
      await h.planner.handle(h.comment(pr, '/test a', MEMBER));
      await h.planner.handle(h.comment(pr, '/test c', MEMBER));
      await h.planner.handle(h.comment(pr, '/test b-optional\n/test e-optional', MEMBER));
      expect(await h.names(pr)).toEqual(['a', 'b-optional', 'c']);
      expect(h.replies(pr)).toEqual([expect.stringContaining('2 were unfinished, so 1 started and these did not:\n- `e-optional`')]);

      await finishAll(pr);
      await h.planner.handle(h.comment(pr, '/test e-optional', MEMBER));
      expect(await h.names(pr)).toEqual(['a', 'b-optional', 'c', 'e-optional']);
      expect(h.replies(pr)).toHaveLength(1);
    });

    it("holds a pull request's own run to the limit too, with a reply naming no one", async () => {
      const pr = h.openPr('acme-cap', 'app', MEMBER);
      await h.planner.handle(h.prEvent(pr, 'opened'));
      expect(await h.names(pr)).toEqual(['a', 'c', 'd']);
      expect(h.replies(pr)).toEqual([expect.stringMatching(/^tenant capped allows at most 3 unfinished jobs per pull request/)]);
    });
  });

  describe("each tenant's GitHub identity", () => {
    /** Every Authorization header sent since `since` (the fake takes all three tokens). */
    const tokensSince = (since: number) => [...new Set(h.github.requests.slice(since).map((r) => String(r.headers.authorization)))];

    it.each([
      ['payments', "payments' token", 'acme-pay', 'ledger', 'token payments-token'],
      ['search', "search's token", 'acme', 'search', 'token search-token'],
      ['capped, which has no identity of its own,', "the service's token", 'acme-cap', 'app', 'token own-token'],
    ])('speaks for %s with %s only, for reads and for replies', async (_tenant, _whose, org, repo, token) => {
      const pr = h.openPr(org, repo, OUTSIDER);
      const since = h.github.requests.length;
      await h.planner.handle(h.prEvent(pr, 'opened'));
      await h.planner.handle(h.comment(pr, '/test all', MEMBER));
      expect(h.github.requests.length).toBeGreaterThan(since + 3);
      expect(tokensSince(since)).toEqual([token]);
    });
  });

  describe('the tenant on each new ProwJob', () => {
    it.each([
      ['acme-pay', 'ledger', 'payments'],
      ['acme', 'search', 'search'],
      ['acme-cap', 'app', 'capped'],
    ])("labels %s/%s's jobs and sets their tenant_id as %s", async (org, repo, tenant) => {
      const pr = h.openPr(org, repo, MEMBER);
      await h.planner.handle(h.prEvent(pr, 'opened'));
      const jobs = await h.jobsOf(pr);
      expect(jobs.length).toBeGreaterThan(0);
      for (const job of jobs) {
        expect(job.metadata.labels['bowline.dev/tenant']).toBe(tenant);
        expect(job.spec.prowjob_defaults).toEqual({ tenant_id: tenant });
      }
      const created = await h.registry.getSingleMetricAsString('bowline_planner_prowjobs_created_total');
      expect(created).toMatch(new RegExp(`bowline_planner_prowjobs_created_total\\{event="pull_request",tenant="${tenant}"\\} [1-9]`));
    });
  });

  it.each([
    ['names another tenant than the one owning its repository', { tenant: 'search' }],
    ['names a tenant the config does not have', { tenant: 'gone' }],
  ])('drops an event that %s, and asks GitHub nothing', async (_what, extra) => {
    const pr = h.openPr('acme-pay', 'ledger', MEMBER);
    const since = h.github.requests.length;
    const outcome = await h.planner.handle(h.comment(pr, '/test unit', MEMBER, extra));
    expect(outcome).toEqual({ kind: 'drop', reason: expect.stringContaining('acme-pay/ledger belongs to tenant payments') });
    expect(h.github.requests.length).toBe(since);
    expect(await h.jobsOf(pr)).toEqual([]);
  });
});
