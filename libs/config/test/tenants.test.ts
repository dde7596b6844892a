import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '../src/load.js';
import { parseAccessEntry, tenantNamed, tenantOf } from '../src/tenants.js';

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
