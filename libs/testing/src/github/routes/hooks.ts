import type { FakeRequest, FakeResponse } from '../../http-fake.js';
import type { WebhookDeliveries } from '../deliveries.js';
import { DOCS, notFound, perPage, validationFailed, type Route, type RouteContext } from '../routing.js';
import type { FakeDelivery } from '../types.js';

// The shape of GitHub's delivery cursors (`v1_<delivery id>`), as seen in its Link headers.
const DELIVERY_CURSOR = /^v1_(\d+)$/;
// Documented for `status`: success is a status_code in 200-399, failure one in 400-599. Read
// literally, a delivery that got no answer (status_code 0) is neither.
const DELIVERY_STATUS_RANGES: Record<string, [number, number]> = { success: [200, 399], failure: [400, 599] };

/** The App webhook's deliveries: listing them, one in full, and asking for a redelivery. */
export function hookRoutes(context: Pick<RouteContext, 'url'>, deliveries: WebhookDeliveries): Route[] {
  /**
   * Newest first, paged by cursor as GitHub pages deliveries: no `page`, only a `rel="next"` link
   * whose `cursor` names the first delivery of the next page.
   */
  const listDeliveries = (request: FakeRequest): FakeResponse => {
    const size = perPage(request);
    let newest = deliveries.all().reverse();

    const status = request.query.get('status');
    if (status !== null) {
      const range = DELIVERY_STATUS_RANGES[status];
      if (!range) return validationFailed([{ resource: 'HookDelivery', code: 'invalid', field: 'status', value: status }]);
      newest = newest.filter((d) => d.status_code >= range[0] && d.status_code <= range[1]);
    }
    const cursor = request.query.get('cursor');
    if (cursor !== null && cursor !== '') {
      const from = DELIVERY_CURSOR.exec(cursor);
      if (!from) return { status: 400, body: { message: 'Invalid cursor', documentation_url: DOCS, status: '400' } };
      newest = newest.filter((d) => d.id <= Number(from[1]));
    }

    const page = newest.slice(0, size);
    const next = newest[size];
    const headers: Record<string, string> = {};
    if (next) {
      const query = new URLSearchParams(request.query);
      query.set('cursor', `v1_${next.id}`);
      headers.link = `<${context.url}${request.path}?${query.toString()}>; rel="next"`;
    }
    return { status: 200, body: page.map(summarizeDelivery), headers };
  };

  const getDelivery = ([id]: string[]): FakeResponse => {
    const record = deliveries.find(Number(id));
    if (!record) return notFound();
    return { status: 200, body: record.delivery };
  };

  const redeliver = ([id]: string[]): FakeResponse => (deliveries.redeliver(Number(id)) ? { status: 202, body: {} } : notFound());

  return [
    { method: 'GET', pattern: /^\/app\/hook\/deliveries$/, handle: (q) => listDeliveries(q) },
    { method: 'GET', pattern: /^\/app\/hook\/deliveries\/(\d+)$/, handle: (_q, p) => getDelivery(p) },
    { method: 'POST', pattern: /^\/app\/hook\/deliveries\/(\d+)\/attempts$/, handle: (_q, p) => redeliver(p) },
  ];
}

/** A delivery as the list shows it: no target URL, request or response. */
function summarizeDelivery(delivery: FakeDelivery): Omit<FakeDelivery, 'url' | 'request' | 'response'> {
  const { url: _url, request: _request, response: _response, ...summary } = delivery;
  return summary;
}
