import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NEEDS_OK_TO_TEST_LABEL, OK_TO_TEST_LABEL } from '../../src/messages.js';
import { TenantsHarness } from './harness.js';

// payments' rules: access.test [org-members, collaborators, team:acme-pay/ci, user:zed],
// access.ok_to_test [team:acme-pay/maintainers]. search has none: Prow's trust rules.
const MEMBER = 'alice'; // org member of acme-pay and of acme
const COLLABORATOR = 'carol'; // collaborator on acme-pay/ledger
const CI_TEAM = 'tina'; // team acme-pay/ci only
const INVITED = 'pete'; // invited to acme-pay/ci, not yet a member
const NAMED = 'zed'; // listed by login
const MAINTAINER = 'mia'; // team acme-pay/maintainers only
const OUTSIDER = 'mallory';

const TEST_RULES = 'org-members of acme-pay, collaborators of acme-pay/ledger, team acme-pay/ci, user zed';

describe("a tenant's access rules for /test, /retest and /ok-to-test", () => {
  let h: TenantsHarness;

  beforeAll(async () => {
    h = await TenantsHarness.start();
    h.github.addOrgMember('acme-pay', MEMBER);
    h.github.addOrgMember('acme', MEMBER);
    h.github.addCollaborator('acme-pay/ledger', COLLABORATOR);
    h.github.addTeamMember('acme-pay/ci', CI_TEAM);
    h.github.addTeamMember('acme-pay/ci', INVITED, 'pending');
    h.github.addTeamMember('acme-pay/maintainers', MAINTAINER);
  });

  afterAll(async () => {
    await h?.stop();
  });

  it.each([
    ['an org member (org-members)', MEMBER],
    ['a collaborator of the repository (collaborators)', COLLABORATOR],
    ['a member of the team (team:acme-pay/ci)', CI_TEAM],
    ['the user named (user:zed)', NAMED],
  ])("lets %s /test on an outsider's pull request", async (_who, commenter) => {
    const pr = h.openPr('acme-pay', 'ledger', OUTSIDER);
    await h.planner.handle(h.comment(pr, '/test e2e', commenter));
    expect(await h.names(pr)).toEqual(['e2e']);
    expect(h.bodies(pr)).toEqual([]);
  });

  it.each([
    ['an outsider', OUTSIDER, '/test e2e'],
    ['someone only invited to the team', INVITED, '/retest'],
    ['a maintainer who may approve but not test', MAINTAINER, '/test all'],
  ])('refuses %s once, naming who may, and starts nothing however often the comment comes', async (_who, commenter, body) => {
    // A member's pull request: under Prow's rules anyone's /test would run on it.
    const pr = h.openPr('acme-pay', 'ledger', MEMBER);
    const asked = h.comment(pr, body, commenter);
    await h.planner.handle(asked);
    await h.planner.handle(asked);
    expect(h.replies(pr)).toEqual([`@${commenter}: you are not allowed to /test in acme-pay/ledger: tenant payments allows ${TEST_RULES}.`]);
    expect(await h.jobsOf(pr)).toEqual([]);
  });

  it('refuses /ok-to-test from a member who may test but not approve, and lets a maintainer approve', async () => {
    const pr = h.openPr('acme-pay', 'ledger', OUTSIDER, [NEEDS_OK_TO_TEST_LABEL]);
    await h.planner.handle(h.comment(pr, '/ok-to-test', MEMBER));
    expect(h.replies(pr)).toEqual([`@${MEMBER}: you are not allowed to /ok-to-test in acme-pay/ledger: tenant payments allows team acme-pay/maintainers.`]);
    expect(h.github.labels(pr.org, pr.repo, pr.number)).toEqual([NEEDS_OK_TO_TEST_LABEL]);
    expect(await h.jobsOf(pr)).toEqual([]);

    await h.planner.handle(h.comment(pr, '/ok-to-test', MAINTAINER));
    expect(h.github.labels(pr.org, pr.repo, pr.number)).toEqual([OK_TO_TEST_LABEL]);
    // The default set, less the job limited to teams the maintainer is in none of.
    expect(await h.names(pr)).toEqual(['unit']);
  });

  it('names both refusals in one reply when a comment asks for both', async () => {
    const pr = h.openPr('acme-pay', 'ledger', OUTSIDER);
    await h.planner.handle(h.comment(pr, '/ok-to-test\n/test e2e', OUTSIDER));
    expect(h.replies(pr)).toEqual([
      `@${OUTSIDER}: you are not allowed to /test in acme-pay/ledger: tenant payments allows ${TEST_RULES}.\nyou are not allowed to /ok-to-test in acme-pay/ledger: tenant payments allows team acme-pay/maintainers.`,
    ]);
  });

  it('refuses /ok-to-test cancel from someone the ok_to_test rules leave out', async () => {
    const pr = h.openPr('acme-pay', 'ledger', OUTSIDER, [OK_TO_TEST_LABEL]);
    await h.planner.handle(h.comment(pr, '/ok-to-test cancel', CI_TEAM));
    expect(h.replies(pr)[0]).toMatch(/^@tina: you are not allowed to \/ok-to-test in acme-pay\/ledger/);
    expect(h.github.labels(pr.org, pr.repo, pr.number)).toEqual([OK_TO_TEST_LABEL]);
  });

  it.each([
    ['a team member the test rules list, not an org member', CI_TEAM, ['unit', 'expensive'].sort(), []],
    ['an org member', MEMBER, ['unit'], []],
    ['an outsider', OUTSIDER, [], [NEEDS_OK_TO_TEST_LABEL]],
  ])("runs a pull request's tests on their own when its author is %s", async (_who, author, expected, labels) => {
    const pr = h.openPr('acme-pay', 'ledger', author);
    await h.planner.handle(h.prEvent(pr, 'opened'));
    expect(await h.names(pr)).toEqual(expected);
    expect(h.github.labels(pr.org, pr.repo, pr.number)).toEqual(labels);
  });

  it("keeps Prow's trust rules in a tenant without access rules: an outsider's /test on a member's pull request runs", async () => {
    const pr = h.openPr('acme', 'search', MEMBER);
    await h.planner.handle(h.comment(pr, '/test all', OUTSIDER));
    expect(await h.names(pr)).toEqual(['search-unit']);
    const outsiders = h.openPr('acme', 'search', OUTSIDER);
    await h.planner.handle(h.comment(outsiders, '/test all', OUTSIDER));
    expect(h.replies(outsiders)).toEqual([expect.stringContaining('Cannot trigger testing until a trusted user reviews the PR')]);
  });

  it('counts each refusal by tenant and reason', async () => {
    const text = await h.registry.getSingleMetricAsString('bowline_planner_refusals_total');
    expect(text).toMatch(/bowline_planner_refusals_total\{tenant="payments",reason="access-test"\} [1-9]/);
    expect(text).toMatch(/bowline_planner_refusals_total\{tenant="payments",reason="access-ok-to-test"\} [1-9]/);
  });
});
