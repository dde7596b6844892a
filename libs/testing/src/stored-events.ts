import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { EVENTS_STREAM } from '@bowline/bus';

/** The delivery ids (`Nats-Msg-Id`) of every event in the EVENTS stream, in stream order. */
export async function storedEventIds(nc: NatsConnection): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(EVENTS_STREAM);
  const ids: string[] = [];
  for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq += 1) {
    const message = await jsm.streams.getMessage(EVENTS_STREAM, { seq });
    if (message) ids.push(message.header?.get('Nats-Msg-Id') ?? '');
  }
  return ids;
}
