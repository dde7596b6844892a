import { describe, expect, it } from '@jest/globals';
import { CHART, envOfService, find, render, renderChart, token, withValues, type Manifest } from './fixtures.js';

// The deck in the chart: its optional Ingress (pages only), the jenkins-operator it reads logs
// from, and NOTES.txt saying where to open it.
const published = withValues(token, { deck: { ingress: { enabled: true, host: 'deck.example.com', tls: { secretName: 'deck-example-com-tls' } } } });

interface IngressManifest extends Manifest {
  spec: { rules: { host?: string; http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }[] } }[]; tls?: object[] };
}

describe('the deck in the chart', () => {
  it('makes no deck Ingress unless asked', () => {
    expect(find(render([token]), 'Ingress', 'bowline-deck')).toBeUndefined();
  });

  it('routes the deck’s pages from its Ingress to its http port, and not /metrics or the probes', () => {
    const ingress = find(render([published]), 'Ingress', 'bowline-deck') as IngressManifest;
    expect(ingress.spec.tls).toEqual([{ hosts: ['deck.example.com'], secretName: 'deck-example-com-tls' }]);
    const [rule] = ingress.spec.rules;
    expect(rule!.host).toBe('deck.example.com');
    const paths = rule!.http.paths.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['/', '/pr', '/job-history', '/log', '/command-help', '/configured-jobs', '/badge.svg', '/prowjobs.js', '/static', '/events', '/auth', '/rerun', '/abort']));
    expect(rule!.http.paths.find((p) => p.path === '/')!.pathType).toBe('Exact');
    expect(paths.some((path) => ['/metrics', '/healthz', '/readyz'].some((inside) => inside.startsWith(path) && path !== '/'))).toBe(false);
    for (const p of rule!.http.paths) expect(p.backend).toEqual({ service: { name: 'bowline-deck', port: { name: 'http' } } });
  });

  it('refuses TLS without a host, naming the value to set', () => {
    expect(() => render([withValues(token, { deck: { ingress: { enabled: true, tls: { secretName: 'x' } } } })])).toThrow('deck.ingress.host is needed for TLS');
  });

  it('points the deck at the jenkins-operator’s Service for build logs', () => {
    expect(envOfService(render([token]), 'deck')).toMatchObject({ DECK_OPERATOR_URL: 'http://bowline-jenkins-operator:8082', BOWLINE_CONFIG: '/etc/bowline/config/config.yaml' });
  });

  it('tells the deck’s address in NOTES.txt: its Ingress host, or how to port-forward to it', () => {
    expect(renderChart(CHART, [published]).notes).toContain('https://deck.example.com/');
    const { notes } = renderChart(CHART, [token]);
    expect(notes).toContain('kubectl -n ci port-forward svc/bowline-deck 8085:8085');
    expect(notes).toContain('http://127.0.0.1:8085/');
    expect(renderChart(CHART, [withValues(token, { deck: { enabled: false } })]).notes).not.toContain('Deck');
  });
});
