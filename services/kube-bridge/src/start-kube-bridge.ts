import type { NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import { KUBE_BRIDGE_LEASE, Lease, openLeaseBucket, openProwJobBucket, type StreamSettings } from '@bowline/bus';
import type { ConfigSource } from '@bowline/config';
import type { Logger } from '@bowline/observability';
import { ProwJobStore } from '@bowline/prowjob';
import { KubeBridge, type KubeBridgeOptions } from './bridge.js';
import type { ProwJobApi } from './kube-api.js';

export interface StartKubeBridgeOptions {
  nc: NatsConnection;
  streams: StreamSettings;
  config: ConfigSource;
  /** The ProwJob API of a namespace (client-node's in production). */
  connect: (namespace: string) => ProwJobApi;
  logger: Logger;
  registry: Registry;
  /** How often the config is looked at for `bowline.kubernetes` being turned on, off or moved. */
  checkEveryMs?: number;
  lease?: { holder?: string; ttlMs?: number; renewEveryMs?: number; bucket?: string };
  bridge?: Pick<KubeBridgeOptions, 'resyncEveryMs' | 'reconnectEveryMs' | 'maxBackoffMs' | 'now'>;
}

export interface RunningKubeBridge {
  lease: Lease;
  /** The bridge at work, while this replica holds the lease and the config enables it. */
  current(): KubeBridge | undefined;
  stop(): Promise<void>;
}

/**
 * kube-bridge as one replica among several: the holder of the `kube-bridge` lease runs the bridge
 * while `bowline.kubernetes.enabled` is true, in `bowline.kubernetes.namespace`; the others stand
 * by. Only one replica writes to the cluster, as only one Prow controller of a kind acts.
 */
export async function startKubeBridge(options: StartKubeBridgeOptions): Promise<RunningKubeBridge> {
  const { nc, streams, config, logger, registry } = options;
  const store = new ProwJobStore(await openProwJobBucket(nc, streams));
  const leases = await openLeaseBucket(nc, { replicas: streams.replicas, ttlMs: options.lease?.ttlMs, bucket: options.lease?.bucket });
  const lease = new Lease({ kv: leases, name: KUBE_BRIDGE_LEASE, holder: options.lease?.holder, renewEveryMs: options.lease?.renewEveryMs, connection: nc, logger, registry });

  let bridge: KubeBridge | undefined;
  let namespace: string | undefined;
  let stopping = false;
  let announcedOff = false;
  // Starts and stops happen in order, one at a time, however fast the lease or the config changes.
  let steps = Promise.resolve();
  const follow = (): void => {
    steps = steps
      .then(async () => {
        const wanted = config.get().bowline.kubernetes;
        const run = !stopping && lease.isHeld() && wanted.enabled;
        if (bridge && (!run || namespace !== wanted.namespace)) {
          await bridge.stop();
          bridge = undefined;
          logger.info({ namespace }, 'kube-bridge stopped');
        }
        if (!wanted.enabled && !announcedOff) logger.info('bowline.kubernetes.enabled is false: kube-bridge stands idle');
        announcedOff = !wanted.enabled;
        if (!run || bridge) return;
        namespace = wanted.namespace;
        bridge = new KubeBridge({
          ...options.bridge,
          bucket: store,
          api: options.connect(namespace),
          namespace,
          importEnabled: () => config.get().bowline.kubernetes.import,
          logger: logger.child({ namespace }),
          registry,
        });
        await bridge.start();
      })
      .catch(async (error: unknown) => {
        logger.error({ err: error }, 'cannot start or stop the bridge: trying again at the next look');
        const failed = bridge;
        bridge = undefined;
        await failed?.stop().catch(() => undefined);
      });
  };
  await lease.start({ onAcquired: follow, onLost: follow });
  const timer = setInterval(follow, options.checkEveryMs ?? 5000);
  timer.unref();
  follow();

  return {
    lease,
    current: () => bridge,
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      follow();
      await steps;
      await lease.stop();
    },
  };
}
