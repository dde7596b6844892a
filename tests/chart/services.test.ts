import { describe, expect, it } from '@jest/globals';
import {
  app,
  containerOf,
  deploymentsOf,
  effectiveValues,
  envOf,
  envOfService,
  find,
  production,
  render,
  renderChart,
  CHART,
  secretValues,
  serviceOf,
  SERVICES,
  token,
  withValues,
  type Manifest,
  type Values,
} from './fixtures.js';

// What single values do to the services: Jenkins and GitHub credentials, the Ingress, config.yaml,
// restarts, images, the refusals that name the value to set, and NOTES.txt.

describe('the chart', () => {
  it('names the default Jenkins master by JENKINS_URL, and mounts the other masters\' Secrets into the operator', () => {
    expect(envOfService(render([token]), 'jenkins-operator')).toMatchObject({
      JENKINS_URL: 'https://jenkins.example.com/',
      JENKINS_USER: 'bowline',
      JENKINS_TOKEN_FILE: '/etc/bowline/jenkins-token/token',
    });
    expect(envOfService(render([production]), 'jenkins-operator')).toMatchObject({ JENKINS_CA_FILE: '/etc/bowline/jenkins-ca/ca.pem' });
    const operator = deploymentsOf(render([app])).find((d) => serviceOf(d) === 'jenkins-operator')!;
    expect(envOf(operator).JENKINS_URL).toBeUndefined();
    expect(containerOf(operator).volumeMounts.map((m) => m.mountPath)).toEqual(expect.arrayContaining(['/etc/bowline/jenkins/ci', '/etc/bowline/jenkins/release']));
    const bearer = withValues(token, { jenkins: { token: { value: '' }, bearerToken: { value: 'bearer-xyz' } } });
    expect(envOfService(render([bearer]), 'jenkins-operator')).toMatchObject({ JENKINS_BEARER_TOKEN_FILE: '/etc/bowline/jenkins-bearer-token/token' });
    expect(envOfService(render([bearer]), 'jenkins-operator').JENKINS_USER).toBeUndefined();
  });

  it('stores each secret given as a value in a Secret of its own, which nothing else contains', () => {
    const manifests = render([token]);
    const secrets = manifests.filter((m) => m.kind === 'Secret') as (Manifest & { data: Record<string, string> })[];
    expect(Object.fromEntries(secrets.map((s) => [s.metadata.name, s.data]))).toEqual({
      'bowline-github-webhook': { hmac: Buffer.from('ci-webhook-secret-6f1c2a').toString('base64') },
      'bowline-github-token': { token: Buffer.from('ghp_ciTokenValue0123456789').toString('base64') },
      'bowline-jenkins-token': { token: Buffer.from('ci-jenkins-api-token-11aa').toString('base64') },
    });
    // What chart.test.ts's "never as an environment value" check looks for.
    expect(secretValues(effectiveValues([token])).sort()).toEqual(['ci-jenkins-api-token-11aa', 'ci-webhook-secret-6f1c2a', 'ghp_ciTokenValue0123456789']);
  });

  it('gives the GitHub App to the hook, planner and reporter', () => {
    const manifests = render([app]);
    for (const service of ['hook', 'planner', 'reporter']) {
      expect(envOfService(manifests, service)).toMatchObject({ GITHUB_APP_ID: '1234567', GITHUB_APP_PRIVATE_KEY_FILE: '/etc/bowline/github-app/app.pem', GITHUB_API_URL: 'https://github.example.com/api/v3' });
    }
    expect(envOfService(manifests, 'planner').GITHUB_TOKEN_FILE).toBeUndefined();
    expect(find(manifests, 'Secret')).toBeUndefined();
  });

  it('routes only POST /hook from the Ingress, to the hook\'s http port', () => {
    const ingress = find(render([token]), 'Ingress') as Manifest & { spec: { rules: { host: string; http: { paths: object[] } }[]; tls: object[] } };
    expect(ingress.spec.rules).toEqual([
      { host: 'prow.example.com', http: { paths: [{ path: '/hook', pathType: 'Exact', backend: { service: { name: 'bowline-hook', port: { name: 'http' } } } }] } },
    ]);
    expect(ingress.spec.tls).toEqual([{ hosts: ['prow.example.com'], secretName: 'prow-example-com-tls' }]);
    expect(find(render([app]), 'Ingress')).toBeUndefined();
  });

  it('puts config.yaml in the ConfigMap as given, and Prow\'s job config beside it', () => {
    const manifests = render([token]);
    const config = find(manifests, 'ConfigMap', 'bowline-config') as Manifest & { data: Record<string, string> };
    expect(config.data['config.yaml']).toBe(token.config);
    const jobs = find(manifests, 'ConfigMap', 'bowline-job-config') as Manifest & { data: Record<string, string> };
    expect(Object.keys(jobs.data)).toEqual(['acme-widgets.yaml']);
    expect(envOfService(manifests, 'planner').BOWLINE_JOB_CONFIG).toBe('/etc/bowline/job-config');
    const existing = render([withValues(token, { existingConfigMap: 'prow-config' })]);
    expect(find(existing, 'ConfigMap', 'bowline-config')).toBeUndefined();
    const planner = deploymentsOf(existing).find((d) => serviceOf(d) === 'planner')!;
    expect(planner.spec.template.spec.volumes.find((v) => v.name === 'config')?.configMap?.name).toBe('prow-config');
  });

  it('restarts pods on a config change only with rollOnConfigChange, since config reloads live', () => {
    const checksum = (values: Values): (string | undefined)[] =>
      deploymentsOf(render([values])).map((d) => d.spec.template.metadata.annotations?.['checksum/config']);
    const before = checksum(token);
    const after = checksum(withValues(token, { config: `${token.config as string}\n# edited\n` }));
    // Every service reads config.yaml, the hook for its tenants' webhook secrets.
    expect(before.every((sum) => /^[0-9a-f]{64}$/.test(sum ?? ''))).toBe(true);
    after.forEach((sum, i) => expect(sum).not.toBe(before[i]));
    expect(checksum(withValues(token, { rollOnConfigChange: false })).every((sum) => sum === undefined)).toBe(true);
  });

  it('restarts the pods reading a chart-made Secret when its value changes', () => {
    const sums = (values: Values): Record<string, string | undefined> =>
      Object.fromEntries(deploymentsOf(render([values])).map((d) => [serviceOf(d), d.spec.template.metadata.annotations?.['checksum/secrets']]));
    const before = sums(token);
    const after = sums(withValues(token, { github: { token: { value: 'ghp_rotated' } } }));
    expect(after.planner).not.toBe(before.planner);
    expect(after.reporter).not.toBe(before.reporter);
    expect(after.hook).toBe(before.hook);
    expect(after['jenkins-operator']).toBe(before['jenkins-operator']);
  });

  it('uses <image.repository>/<service>:<tag>, the appVersion by default, and a service\'s own image when set', () => {
    const images = (values: Values): Record<string, string> =>
      Object.fromEntries(deploymentsOf(render([values])).map((d) => [serviceOf(d), containerOf(d).image]));
    expect(images(withValues(token, { kubeBridge: { enabled: true } }))).toEqual(Object.fromEntries(SERVICES.map((s) => [s, `registry.example.com/ci/bowline/${s}:0.1.0`])));
    expect(images(app).hook).toBe('bowline/hook:0.1.0');
    expect(images(withValues(app, { hook: { image: { repository: 'mirror.example.com/hook', tag: 'dev' } } })).hook).toBe('mirror.example.com/hook:dev');
  });

  it.each([
    ['no webhook secret', { github: { webhookSecret: { value: '' } } }, 'github.webhookSecret'],
    ['no GitHub token nor App', { github: { token: { value: '' } } }, 'a token (github.token) or a GitHub App'],
    ['an App id without its key', { github: { app: { id: '42' } } }, 'github.app.privateKey'],
    ['a Jenkins URL without credentials', { jenkins: { token: { value: '' } } }, 'jenkins.user and jenkins.token'],
    ['both a Jenkins token and a bearer token', { jenkins: { bearerToken: { value: 'b' } } }, 'not both'],
    ['a tenant without its Secret', { tenants: { payments: { existingSecret: '' } } }, 'tenants.payments.existingSecret'],
  ])('refuses to install with %s, saying what to set', (_what, override, message) => {
    expect(() => render([withValues(token, override as Values)])).toThrow(message);
  });

  it('tells in NOTES.txt where GitHub must post, with which secret and events', () => {
    const { notes } = renderChart(CHART, [token]);
    expect(notes).toContain('Payload URL:   https://prow.example.com/hook');
    expect(notes).toContain('Content type:  application/json');
    expect(notes).toContain("kubectl -n ci get secret bowline-github-webhook -o jsonpath='{.data.hmac}' | base64 -d");
    expect(notes).toContain('Pull requests, Issue comments, Pushes');
    const withoutIngress = renderChart(CHART, [app]).notes;
    expect(withoutIngress).toContain('kubectl -n ci port-forward svc/bowline-hook 8888:8888');
    expect(withoutIngress).toContain("get secret bowline-webhook -o jsonpath='{.data.hmac}'");
    expect(withoutIngress).toContain('config.yaml must list the masters under bowline.jenkins');
  });
});
