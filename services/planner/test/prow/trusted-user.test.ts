/**
 * Prow's TestTrustedUser (pkg/plugins/trigger/trigger_test.go), case by case, driven through the
 * planner: the user of each case opens a pull request. A trusted author's pull request runs its
 * jobs; anyone else's is welcomed instead, and the planner's log line says why, in Prow's words
 * (Prow's TrustedUserResponse.Reason).
 *
 * As in Prow's test: `test` is a member of `kubernetes`, and `test-collaborator` a collaborator
 * of every repository. Prow's single `trusted_org` is Bowline's `trusted_orgs` list with one entry.
 * The two cases about the bot name no repository; they use `org/repo`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { configOf, PlannerHarness } from './harness.js';

const NOT_MEMBER = 'User is not a member of the org. ';
const NOT_COLLABORATOR = 'User is not a collaborator. ';
const NOT_SECONDARY_MEMBER = 'User is not a member of the trusted secondary org. ';
const SATISFY = 'Satisfy at least one of these conditions to make the user trusted.';
const REPOSITORIES = ['kubernetes/kubernetes', 'kubernetes-sigs/test', 'org/repo'];

interface Case {
  name: string;
  onlyOrgMembers?: boolean;
  trustedApps?: string[];
  trustedOrg?: string;
  user: string;
  org?: string;
  repo?: string;
  expectedTrusted: boolean;
  expectedReason?: string;
}

const CASES: Case[] = [
  { name: 'user is member of trusted org', user: 'test', org: 'kubernetes', repo: 'kubernetes', expectedTrusted: true },
  { name: 'user is member of trusted org (only org members enabled)', onlyOrgMembers: true, user: 'test', org: 'kubernetes', repo: 'kubernetes', expectedTrusted: true },
  { name: 'user is collaborator', user: 'test-collaborator', org: 'kubernetes', repo: 'kubernetes', expectedTrusted: true },
  {
    name: 'user is collaborator (only org members enabled)',
    onlyOrgMembers: true,
    user: 'test-collaborator',
    org: 'kubernetes',
    repo: 'kubernetes',
    expectedTrusted: false,
    expectedReason: NOT_MEMBER + SATISFY,
  },
  { name: 'user is trusted org member', trustedOrg: 'kubernetes', user: 'test', org: 'kubernetes-sigs', repo: 'test', expectedTrusted: true },
  { name: 'user is not org member', user: 'test-2', org: 'kubernetes', repo: 'kubernetes', expectedTrusted: false, expectedReason: NOT_MEMBER + NOT_COLLABORATOR + SATISFY },
  {
    name: 'user is not org member or trusted org member',
    trustedOrg: 'kubernetes-sigs',
    user: 'test-2',
    org: 'kubernetes',
    repo: 'kubernetes',
    expectedTrusted: false,
    expectedReason: NOT_MEMBER + NOT_COLLABORATOR + NOT_SECONDARY_MEMBER + SATISFY,
  },
  {
    name: 'user is not org member or trusted org member, onlyOrgMembers true',
    onlyOrgMembers: true,
    trustedOrg: 'kubernetes-sigs',
    user: 'test-2',
    org: 'kubernetes',
    repo: 'kubernetes',
    expectedTrusted: false,
    expectedReason: NOT_MEMBER + NOT_SECONDARY_MEMBER + SATISFY,
  },
  { name: 'Self as bot is trusted', user: PlannerHarness.BOT, expectedTrusted: true },
  { name: 'Self as app is trusted', user: `${PlannerHarness.BOT}[bot]`, expectedTrusted: true },
  { name: 'github-app[bot] is in trusted list', user: 'github-app[bot]', trustedApps: ['github-app'], expectedTrusted: true },
  { name: 'github-app[bot] is not in trusted list', user: 'github-app[bot]', trustedApps: ['other-app'], expectedTrusted: false, expectedReason: NOT_MEMBER + NOT_COLLABORATOR + SATISFY },
  {
    name: 'github-app (no bot suffix) matches trusted app name, should not be trusted',
    user: 'github-app',
    trustedApps: ['github-app'],
    expectedTrusted: false,
    expectedReason: NOT_MEMBER + NOT_COLLABORATOR + SATISFY,
  },
  {
    name: 'github-app[bot]suffix (bot not as suffix) matches trusted app name, should not be trusted',
    user: 'github-app[bot]suffix',
    trustedApps: ['github-app'],
    expectedTrusted: false,
    expectedReason: NOT_MEMBER + NOT_COLLABORATOR + SATISFY,
  },
];

describe("Prow's TestTrustedUser, through the planner", () => {
  let harness: PlannerHarness;

  beforeAll(async () => {
    harness = await PlannerHarness.start();
    harness.github.addOrgMember('kubernetes', 'test');
    for (const repository of REPOSITORIES) harness.github.addCollaborator(repository, 'test-collaborator');
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('ports every case of the table', () => {
    expect(CASES).toHaveLength(14);
  });

  it.each(CASES)('TestTrustedUser: $name', async (tc) => {
    const trust = { only_org_members: tc.onlyOrgMembers ?? false, trusted_apps: tc.trustedApps ?? [], trusted_orgs: tc.trustedOrg ? [tc.trustedOrg] : [] };
    const jobs = Object.fromEntries(REPOSITORIES.map((repository) => [repository, [{ name: 'unit', always_run: true }]]));
    const logs: Record<string, unknown>[] = [];
    const planner = harness.planner(configOf({ presubmits: jobs }, { trust }), logs);
    const pr = harness.openPr({ org: tc.org ?? 'org', repo: tc.repo ?? 'repo', author: tc.user });

    await planner.handle(harness.pullRequestEvent(pr, 'opened'));

    expect((await harness.jobsOf(pr)).length > 0).toBe(tc.expectedTrusted);
    const refusal = logs.find((line) => line.msg === 'author not trusted: welcomed, waiting for /ok-to-test');
    expect(refusal?.reason).toBe(tc.expectedReason);
    expect(harness.labelsAdded(pr)).toEqual(tc.expectedTrusted ? [] : ['needs-ok-to-test']);
  });
});
