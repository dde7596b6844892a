import { Counter, Histogram, type Registry } from 'prom-client';

/**
 * Wraps the `fetch` the JenkinsClient is given, so every request it makes is counted by verb and
 * answer (`code` is the status, or `error` when no answer came: refused, reset, timed out) and
 * timed. Each retry is a request of its own, as Jenkins sees it. A streamed answer (a console log)
 * is timed to its headers, not to the end of its body.
 */
export function instrumentJenkinsFetch(inner: typeof fetch, registry: Registry): typeof fetch {
  const requests = new Counter({
    name: 'bowline_jenkins_requests_total',
    help: 'Requests to Jenkins by verb and answer (HTTP status, or error when none came)',
    labelNames: ['verb', 'code'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'bowline_jenkins_request_seconds',
    help: 'Time Jenkins took to answer a request, to its headers',
    labelNames: ['verb'],
    // Up to the client's 30 s timeout.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return async (input, init) => {
    const verb = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const stopTimer = seconds.startTimer({ verb });
    let code = 'error';
    try {
      const response = await inner(input, init);
      code = String(response.status);
      return response;
    } finally {
      stopTimer();
      requests.inc({ verb, code });
    }
  };
}
