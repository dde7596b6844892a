import type { KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { openProwJobBucket } from '@bowline/bus';
import { ProwJobStore } from '@bowline/prowjob';
import { startNats, type NatsServer } from './nats-server.js';

export interface ProwJobBucket {
  nats: NatsServer;
  nc: NatsConnection;
  kv: KV;
  store: ProwJobStore;
  stop(): Promise<void>;
}

/** A real nats-server with the `prowjobs` bucket, as the controllers' tests need it. */
export async function startProwJobBucket(): Promise<ProwJobBucket> {
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  const kv = await openProwJobBucket(nc, { replicas: 1 });
  return {
    nats,
    nc,
    kv,
    store: new ProwJobStore(kv),
    stop: async () => {
      await nc.close();
      await nats.stop();
    },
  };
}
