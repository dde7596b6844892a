import { publishEncoded, type BusConnection, type EventEnvelope } from '@bowline/bus';
import { BowlineError } from '@bowline/observability';

/**
 * Publishes with a deadline, and fails at once while NATS is disconnected: the client would
 * otherwise buffer the message and the request would wait out the whole timeout before its 503.
 */
export function durablePublisher(bus: BusConnection, timeoutMs: number) {
  return async (envelope: EventEnvelope<unknown>, encoded: string): Promise<{ duplicate: boolean }> => {
    if (!bus.isConnected()) throw new BowlineError('not connected to NATS', { context: { deliveryId: envelope.id } });
    return publishEncoded(bus.nc, envelope, encoded, { timeoutMs });
  };
}
