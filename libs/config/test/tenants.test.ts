import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '../src/load.js';
import { ConfigError, formatProblem } from '../src/problems.js';
import { parseAccessEntry, tenantNamed, tenantOf } from '../src/tenants.js';
import { ALL_TENANTS, tenantFilterFromEnv, unknownTenants } from '../src/tenant-filter.js';
import { SettingsError } from '@bowline/observability';

/** The two tenants: payments owns an org and one repository of another; search owns acme. */
const TWO_TENANTS = [
  'presubmits:',
  '  acme-pay/ledger:',
  '  - name: unit',
  '    agent: jenkins',
  '  acme/billing:',
  '  - name: expensive-e2e',
  '    agent: jenkins',
  '    allowed_teams: [acme/billing-admins]',
  '  acme/search:',
  '  - name: unit',
  '    agent: jenkins',
  'periodics:',
  '- name: nightly-ledger',
  '  agent: jenkins',
  '  interval: 24h',
  '  prowjob_defaults: { tenant_id: payments }',
  'bowline:',
  '  tenants:',
  '  - name: payments',
  '    repos: [acme-pay, acme/billing]',
  '    webhook_secret_file: /etc/bowline/tenants/payments/hmac',
  '    github: { token_file: /etc/bowline/tenants/payments/token }',
  '    jenkins:',
  '    - name: payments-ci',
  '      url: https://jenkins.pay.example.com/',
  '      user: bowline',
  '      token_file: /etc/bowline/tenants/payments/jenkins-token',
  '    quotas: { max_concurrency: 20, max_jobs_per_pr: 10 }',
  '    access:',
  '      test: [org-members, collaborators, team:acme-pay/ci, user:alice]',
  '      ok_to_test: [org-members, team:acme-pay/maintainers]',
  '      view: [team:acme-pay/all]',
  '  - name: search',
  '    repos: [acme]',
  '    webhook_secret_file: /etc/bowline/tenants/search/hmac',
  '    github: { app_id: 4242, private_key_file: /etc/bowline/tenants/search/app.pem }',
  '    jenkins:',
  '    - name: search-ci',
  '      url: https://jenkins.search.example.com/',
  '      bearer_token_file: /etc/bowline/tenants/search/jenkins-token',
].join('\n');

describe('tenants in config.yaml', () => {
  it('reads two tenants with their repositories, secrets, credentials, masters, quotas and access rules', () => {
    const config = parseConfig(TWO_TENANTS, 'config.yaml');
    expect(config.bowline.tenants.map((t) => t.name)).toEqual(['payments', 'search']);
    const payments = tenantNamed(config, 'payments')!;
    expect(payments).toMatchObject({
      repos: ['acme-pay', 'acme/billing'],
      webhookSecretFile: '/etc/bowline/tenants/payments/hmac',
      github: { tokenFile: '/etc/bowline/tenants/payments/token' },
      quotas: { maxConcurrency: 20, maxJobsPerPr: 10 },
      access: {
        test: [{ kind: 'org-members' }, { kind: 'collaborators' }, { kind: 'team', org: 'acme-pay', team: 'ci' }, { kind: 'user', login: 'alice' }],
        okToTest: [{ kind: 'org-members' }, { kind: 'team', org: 'acme-pay', team: 'maintainers' }],
        view: [{ kind: 'team', org: 'acme-pay', team: 'all' }],
      },
      implicit: false,
      source: { file: 'config.yaml', line: 19 },
    });
    expect(payments.jenkins).toEqual([expect.objectContaining({ name: 'payments-ci', url: 'https://jenkins.pay.example.com/', user: 'bowline', tokenFile: '/etc/bowline/tenants/payments/jenkins-token' })]);
    const search = tenantNamed(config, 'search')!;
    // An App id written as a number is read as the text GitHub's JWT carries.
    expect(search.github).toEqual({ appId: '4242', privateKeyFile: '/etc/bowline/tenants/search/app.pem' });
    expect(search.quotas).toEqual({ maxConcurrency: 0, maxJobsPerPr: 0 });
    expect(search.access).toEqual({});
    expect(search.jenkins.map((m) => [m.name, m.bearerTokenFile])).toEqual([['search-ci', '/etc/bowline/tenants/search/jenkins-token']]);
    expect(config.bowline.jenkins).toEqual([]);
    expect(tenantNamed(config, 'default')).toBeUndefined();
  });

  it('gives each job its tenant: by repository, and by prowjob_defaults.tenant_id for periodics', () => {
    const config = parseConfig(TWO_TENANTS, 'config.yaml');
    expect(config.presubmits['acme-pay/ledger']![0]!.tenant).toBe('payments');
    expect(config.presubmits['acme/billing']![0]).toMatchObject({ tenant: 'payments', allowedTeams: ['acme/billing-admins'] });
    expect(config.presubmits['acme/search']![0]).toMatchObject({ tenant: 'search', allowedTeams: [] });
    expect(config.periodics[0]!.tenant).toBe('payments');
  });

  it.each([
    ['a repository listed by itself, over its org listed by another tenant', 'acme', 'billing', 'payments'],
    ['the rest of that org', 'acme', 'search', 'search'],
    ['a repository of a whole org', 'acme-pay', 'anything', 'payments'],
    ['names as GitHub spells them, whatever their case', 'ACME', 'Billing', 'payments'],
    ['a repository no tenant lists', 'globex', 'widgets', undefined],
    ['an org that only starts like a listed one', 'acme-payments', 'x', undefined],
  ])('tenantOf finds %s', (_case, org, repo, expected) => {
    expect(tenantOf(parseConfig(TWO_TENANTS, 'config.yaml'), org, repo)?.name).toBe(expected);
  });

  it('makes a config without tenants one implicit tenant, default, owning every repository with bowline.jenkins', () => {
    const config = parseConfig(
      [
        'presubmits:',
        '  o/r:',
        '  - name: unit',
        '    agent: jenkins',
        'periodics:',
        '- name: nightly',
        '  agent: jenkins',
        '  interval: 24h',
        // Prow's Deck filter value a real config may carry: not a Bowline tenant.
        '  prowjob_defaults: { tenant_id: some-deck-tenant }',
        'bowline:',
        '  jenkins:',
        '  - name: ci',
        '    url: https://ci.example.com/',
      ].join('\n'),
      'config.yaml',
    );
    expect(config.bowline.tenants).toEqual([
      {
        name: 'default',
        repos: [],
        jenkins: config.bowline.jenkins,
        quotas: { maxConcurrency: 0, maxJobsPerPr: 0 },
        access: {},
        implicit: true,
        source: { file: 'config.yaml', line: 11 },
      },
    ]);
    expect(config.bowline.jenkins.map((m) => m.name)).toEqual(['ci']);
    expect(tenantOf(config, 'any', 'repo')?.name).toBe('default');
    expect(tenantNamed(config, 'default')?.implicit).toBe(true);
    expect(config.presubmits['o/r']![0]!.tenant).toBe('default');
    expect(config.periodics[0]!.tenant).toBe('default');
  });

  it('has the implicit tenant in an empty config too', () => {
    expect(parseConfig('', 'config.yaml').bowline.tenants.map((t) => [t.name, t.implicit])).toEqual([['default', true]]);
  });

  it.each([
    ['org-members', { kind: 'org-members' }],
    ['collaborators', { kind: 'collaborators' }],
    ['team:acme/ci', { kind: 'team', org: 'acme', team: 'ci' }],
    ['user:alice', { kind: 'user', login: 'alice' }],
    ['team:acme', undefined],
    ['members', undefined],
    ['user:', undefined],
  ])('reads the access entry %s', (text, expected) => {
    expect(parseAccessEntry(text)).toEqual(expected);
  });
});

function outcome(text: string): { errors: string[]; warnings: string[] } {
  try {
    return { errors: [], warnings: parseConfig(text, 'config.yaml').warnings.map(formatProblem) };
  } catch (error) {
    if (error instanceof ConfigError) return { errors: error.problems.map(formatProblem), warnings: [] };
    throw error;
  }
}

/** A valid tenant entry; `extra` lines replace the fields they name. */
function tenant(name: string, fields: Record<string, string> = {}): string {
  const all: Record<string, string> = {
    repos: `[${name}-org]`,
    webhook_secret_file: `/etc/bowline/tenants/${name}/hmac`,
    jenkins: `[{ name: ${name}-ci, url: "https://${name}.example.com/" }]`,
    ...fields,
  };
  const lines = Object.entries(all).filter(([, v]) => v !== '').map(([k, v]) => `    ${k}: ${v}`);
  return [`  - name: ${name}`, ...lines].join('\n');
}

const tenants = (...entries: string[]): string => ['bowline:', '  tenants:', ...entries].join('\n');
const jobsThen = (jobs: string, ...entries: string[]): string => `${jobs}\n${tenants(...entries)}`;

describe('checkconfig on tenants', () => {
  it.each([
    ['a repository in two tenants', tenants(tenant('a', { repos: '[acme/x]' }), tenant('b', { repos: '[acme/x]' })), 'bowline.tenants[1].repos[0]: "acme/x" is in tenants "a" and "b"', tenants(tenant('a', { repos: '[acme/x]' }), tenant('b', { repos: '[acme]' }))],
    ['an org in two tenants, however spelt', tenants(tenant('a', { repos: '[Acme]' }), tenant('b', { repos: '[acme]' })), 'bowline.tenants[1].repos[0]: "acme" is in tenants "a" and "b"', tenants(tenant('a', { repos: '[acme]' }), tenant('b', { repos: '[globex]' }))],
    ['a Jenkins job whose repository is in no tenant', jobsThen('presubmits:\n  globex/w:\n  - name: unit\n    agent: jenkins', tenant('a')), 'presubmits.globex/w[0]: job "unit": globex/w is in no tenant', jobsThen('presubmits:\n  a-org/w:\n  - name: unit\n    agent: jenkins', tenant('a'))],
    ['a postsubmit whose repository is in no tenant', jobsThen('postsubmits:\n  globex/w:\n  - name: publish\n    agent: jenkins', tenant('a')), 'postsubmits.globex/w[0]: job "publish": globex/w is in no tenant', jobsThen('postsubmits:\n  globex/w:\n  - name: publish\n    agent: jenkins', tenant('a', { repos: '[a-org, globex/w]' }))],
    ['a presubmit whose tenant_id names another tenant', jobsThen('presubmits:\n  a-org/w:\n  - name: unit\n    agent: jenkins\n    prowjob_defaults: { tenant_id: b }', tenant('a'), tenant('b')), 'presubmits.a-org/w[0].prowjob_defaults.tenant_id: job "unit": tenant_id "b" is not a-org/w\'s tenant, "a"', jobsThen('presubmits:\n  a-org/w:\n  - name: unit\n    agent: jenkins\n    prowjob_defaults: { tenant_id: a }', tenant('a'), tenant('b'))],
    ['a Jenkins periodic naming no tenant', jobsThen('periodics:\n- name: nightly\n  agent: jenkins\n  interval: 24h', tenant('a')), 'periodics[0]: periodic "nightly": name its tenant in prowjob_defaults.tenant_id (one of a)', jobsThen('periodics:\n- name: nightly\n  agent: jenkins\n  interval: 24h\n  prowjob_defaults: { tenant_id: a }', tenant('a'))],
    ['a periodic naming a tenant that does not exist', jobsThen('periodics:\n- name: nightly\n  agent: jenkins\n  interval: 24h\n  prowjob_defaults: { tenant_id: z }', tenant('a')), 'periodics[0].prowjob_defaults.tenant_id: periodic "nightly": there is no tenant "z"', jobsThen('periodics:\n- name: nightly\n  agent: jenkins\n  interval: 24h\n  prowjob_defaults: { tenant_id: a }', tenant('a'))],
    ['a tenant without a Jenkins master', tenants(tenant('a', { jenkins: '' })), 'bowline.tenants[0].jenkins: tenant "a" needs at least one Jenkins master', tenants(tenant('a'))],
    ['a tenant with an empty Jenkins list', tenants(tenant('a', { jenkins: '[]' })), 'bowline.tenants[0].jenkins: tenant "a" needs at least one Jenkins master', tenants(tenant('a'))],
    ['a tenant without webhook_secret_file', tenants(tenant('a', { webhook_secret_file: '' })), 'bowline.tenants[0].webhook_secret_file: tenant "a" needs a webhook_secret_file', tenants(tenant('a'))],
    ['a tenant name with capitals', tenants(tenant('Payments')), 'bowline.tenants[0].name: must be lower-case letters, digits and -, not "Payments"', tenants(tenant('payments'))],
    ['a tenant name with a dot (NATS subjects are split on dots)', tenants(tenant('pay.ments')), 'bowline.tenants[0].name: must be lower-case letters, digits and -', tenants(tenant('pay-ments'))],
    ['two tenants of one name', tenants(tenant('a'), tenant('a', { repos: '[other]' })), 'bowline.tenants[1].name: tenant "a" is listed twice (also bowline.tenants[0])', tenants(tenant('a'), tenant('b', { repos: '[other]', jenkins: '[{ name: b-ci, url: "https://b.example.com/" }]' }))],
    ['a tenant without repos', tenants('  - name: a\n    webhook_secret_file: /s\n    jenkins: [{ name: c, url: "https://c/" }]'), 'bowline.tenants[0].repos: is required', tenants(tenant('a'))],
    ['a tenant with an empty repos list', tenants(tenant('a', { repos: '[]' })), 'bowline.tenants[0].repos: tenant "a" lists no repository or org', tenants(tenant('a'))],
    ['a repos entry that is neither org nor org/repo', tenants(tenant('a', { repos: '[acme/x/y]' })), 'bowline.tenants[0].repos[0]: must be an org or org/repo', tenants(tenant('a', { repos: '[acme/x]' }))],
    ['an unknown access entry', tenants(tenant('a', { access: '{ test: [members] }' })), 'bowline.tenants[0].access.test[0]: must be org-members, collaborators, team:ORG/TEAM or user:LOGIN, not "members"', tenants(tenant('a', { access: '{ test: [org-members] }' }))],
    ['a team entry without its org', tenants(tenant('a', { access: '{ ok_to_test: ["team:maintainers"] }' })), 'bowline.tenants[0].access.ok_to_test[0]: must be org-members', tenants(tenant('a', { access: '{ ok_to_test: ["team:acme/maintainers"] }' }))],
    ['a user entry with an org', tenants(tenant('a', { access: '{ view: ["user:acme/alice"] }' })), 'bowline.tenants[0].access.view[0]: must be org-members', tenants(tenant('a', { access: '{ view: ["user:alice"] }' }))],
    ['an unknown access list', tenants(tenant('a', { access: '{ admin: [org-members] }' })), 'bowline.tenants[0].access.admin: unknown field "admin"', tenants(tenant('a', { access: '{ view: [org-members] }' }))],
    ['an allowed_teams entry that is not org/team', jobsThen('presubmits:\n  a-org/w:\n  - name: e2e\n    agent: jenkins\n    allowed_teams: [admins]', tenant('a')), 'presubmits.a-org/w[0].allowed_teams[0]: must be a team written org/team, not "admins"', jobsThen('presubmits:\n  a-org/w:\n  - name: e2e\n    agent: jenkins\n    allowed_teams: [a-org/admins]', tenant('a'))],
    ['an allowed_teams entry written as an access entry', 'presubmits:\n  o/r:\n  - name: e2e\n    agent: jenkins\n    allowed_teams: ["team:o/admins"]', 'presubmits.o/r[0].allowed_teams[0]: must be a team written org/team', 'presubmits:\n  o/r:\n  - name: e2e\n    agent: jenkins\n    allowed_teams: [o/admins]'],
    ['GitHub credentials of both kinds', tenants(tenant('a', { github: '{ token_file: /t, app_id: 1, private_key_file: /k }' })), 'bowline.tenants[0].github: tenant "a": set either token_file or app_id + private_key_file', tenants(tenant('a', { github: '{ app_id: 1, private_key_file: /k }' }))],
    ['an App id without its key', tenants(tenant('a', { github: '{ app_id: 1 }' })), 'bowline.tenants[0].github.private_key_file: tenant "a": app_id and private_key_file go together', tenants(tenant('a', { github: '{ token_file: /t }' }))],
    ['bowline.jenkins beside tenants', `bowline:\n  jenkins:\n  - name: ci\n    url: https://ci/\n  tenants:\n${tenant('a')}`, 'bowline.jenkins: with bowline.tenants, list each tenant’s Jenkins masters under its own jenkins', tenants(tenant('a'))],
    ['one Jenkins master name in two tenants', tenants(tenant('a'), tenant('b', { jenkins: '[{ name: a-ci, url: "https://b/" }]' })), 'bowline.tenants[1].jenkins[0].name: Jenkins master "a-ci" is also tenant "a"\'s', tenants(tenant('a'), tenant('b'))],
    ['a tenant Jenkins master with a user but no token', tenants(tenant('a', { jenkins: '[{ name: c, url: "https://c/", user: bot }]' })), 'bowline.tenants[0].jenkins[0].token_file: Jenkins master "c": user and token_file go together', tenants(tenant('a', { jenkins: '[{ name: c, url: "https://c/", user: bot, token_file: /t }]' }))],
    ['a negative quota', tenants(tenant('a', { quotas: '{ max_jobs_per_pr: -1 }' })), 'bowline.tenants[0].quotas.max_jobs_per_pr: must not be negative', tenants(tenant('a', { quotas: '{ max_jobs_per_pr: 0 }' }))],
  ])('refuses %s with file:line and field, and accepts the corrected config', (_rule, bad, expected, good) => {
    const refused = outcome(bad);
    expect(refused.errors).toContainEqual(expect.stringContaining(expected));
    expect(refused.errors.every((e) => /^config\.yaml:\d+:\d+: /.test(e))).toBe(true);
    expect(outcome(good).errors).toEqual([]);
  });

  it("accepts jobs of other agents in repositories no tenant lists: they are Prow's, not Bowline's", () => {
    expect(outcome(jobsThen('presubmits:\n  kubernetes/k:\n  - name: unit\nperiodics:\n- name: p\n  interval: 1h', tenant('a'))).errors).toEqual([]);
  });

  it("warns about a Jenkins job that no master of its own tenant takes, even when another tenant's would", () => {
    const config = jobsThen(
      'presubmits:\n  a-org/w:\n  - name: unit\n    agent: jenkins\n    labels: { master: b }',
      tenant('a', { jenkins: '[{ name: a-ci, url: "https://a/", label_selector: master=a }]' }),
      tenant('b', { jenkins: '[{ name: b-ci, url: "https://b/", label_selector: master=b }]' }),
    );
    expect(outcome(config)).toEqual({ errors: [], warnings: [expect.stringContaining('presubmits.a-org/w[0].labels: job "unit": no Jenkins master\'s label_selector matches')] });
  });

  it('points at the line of the second tenant listing a repository', () => {
    const text = tenants(tenant('a', { repos: '[acme/x]' }), tenant('b', { repos: '[acme/x]' }));
    expect(outcome(text).errors).toEqual(['config.yaml:8:13: bowline.tenants[1].repos[0]: "acme/x" is in tenants "a" and "b": each repository or org belongs to one tenant']);
  });
});

describe('BOWLINE_TENANTS', () => {
  it.each([
    ['unset', undefined, undefined],
    ['empty', '  ', undefined],
    ['one tenant', 'payments', ['payments']],
    ['several, with spaces and a repeat', 'payments, search,payments,', ['payments', 'search']],
  ])('reads %s', (_case, value, names) => {
    const filter = tenantFilterFromEnv(value === undefined ? {} : { BOWLINE_TENANTS: value });
    expect(filter.names).toEqual(names);
    expect(filter.includes('payments')).toBe(true);
    expect(filter.includes('other')).toBe(names === undefined);
  });

  it('refuses a name no tenant can have, naming the variable', () => {
    expect(() => tenantFilterFromEnv({ BOWLINE_TENANTS: 'payments,Search Team' })).toThrow(new SettingsError('BOWLINE_TENANTS names "Search Team": tenant names are lower-case letters, digits and -, separated by commas'));
  });

  it("names the filter's tenants that the config lacks", () => {
    const config = parseConfig(TWO_TENANTS, 'config.yaml');
    expect(unknownTenants(tenantFilterFromEnv({ BOWLINE_TENANTS: 'payments,serach' }), config)).toEqual(['serach']);
    expect(unknownTenants(ALL_TENANTS, config)).toEqual([]);
  });
});
