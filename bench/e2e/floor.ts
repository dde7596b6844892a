import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm, KvWatchInclude } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { JenkinsClient } from '@bowline/jenkins';
import { createLogger } from '@bowline/observability';
import type { Pipeline } from '@bowline/testing';
import { ORG, WebhookSender, type SignedDelivery } from '../pipeline-traffic.js';

/** One pass of the floor: each step's time, in milliseconds. */
export interface FloorSample {
  http: number;
  nats: number;
  github: number;
  kv: number;
  jenkins: number;
  status: number;
}

export const FLOOR_STEPS: Array<[keyof FloorSample, string]> = [
  ['http', 'webhook POST to a bare node:http server (another process)'],
  ['nats', 'JetStream publish with ack, delivered to a consumer'],
  ['github', 'the GitHub GETs the planner makes (membership, then the pull request)'],
  ['kv', 'KV create, delivered to a watcher on another connection'],
  ['jenkins', 'Jenkins queue listing + build listing, then buildWithParameters'],
  ['status', 'one status POST to GitHub'],
];

/**
 * The unavoidable work on the path from a webhook to its build and to its first status, done
 * alone and in order, against the same nats-server and test servers as the pipeline was:
 * webhook → Jenkins is http + nats + github + kv + jenkins, webhook → pending status is http +
 * nats + github + kv + status. Nothing here looks anything up twice, logs, or retries.
 */
export async function measureFloor(
  pipeline: Pipeline,
  options: { samples: number; repo: string; job: string; bareHookUrl: string; delivery: SignedDelivery; pull: number; sha: string },
): Promise<FloorSample[]> {
  const publisher = await connect({ servers: pipeline.nats.url });
  const subscriber = await connect({ servers: pipeline.nats.url });
  const sender = new WebhookSender(options.bareHookUrl);
  const logger = createLogger({ service: 'bench', level: 'warn' });
  const jenkins = new JenkinsClient({ url: pipeline.jenkins.url, auth: { kind: 'basic', user: 'bowline', token: 'jenkins-token' }, logger });
  const auth = { authorization: 'token test-token', accept: 'application/vnd.github+json' };
  const github = pipeline.github.url;
  try {
    const jsm = await jetstreamManager(publisher);
    await jsm.streams.add({ name: 'BENCH_FLOOR', subjects: ['bench.floor.>'] });
    await jsm.consumers.add('BENCH_FLOOR', { durable_name: 'floor', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New });
    const messages = await (await jetstream(subscriber).consumers.get('BENCH_FLOOR', 'floor')).consume({ max_messages: 8 });
    const js = jetstream(publisher);
    const kv = await new Kvm(publisher).create('bench_floor', { history: 1 });
    const watched = await new Kvm(subscriber).open('bench_floor');
    const watch = await watched.watch({ include: KvWatchInclude.UpdatesOnly });

    const delivered = (iterator: AsyncIterator<unknown>) => async (): Promise<void> => {
      await iterator.next();
    };
    const nextMessage = delivered(messages[Symbol.asyncIterator]());
    const nextKey = delivered(watch[Symbol.asyncIterator]());
    const time = async (step: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      await step();
      return performance.now() - started;
    };
    const ok = async (response: Promise<Response>): Promise<void> => {
      const answer = await response;
      await answer.arrayBuffer();
      if (!answer.ok) throw new Error(`floor: ${answer.url} answered ${answer.status}`);
    };

    // A first pass, not kept, so connections and the crumb exist before anything is timed.
    const samples: FloorSample[] = [];
    for (let i = 0; i <= options.samples; i += 1) {
      const sample: FloorSample = {
        http: await time(() => sender.send(options.delivery)),
        nats: await time(async () => {
          const arrival = nextMessage();
          await js.publish(`bench.floor.${i}`, options.delivery.body, { msgID: `floor-${process.pid}-${i}` });
          await arrival;
        }),
        github: await time(async () => {
          await ok(fetch(`${github}/orgs/${ORG}/members/alice`, { headers: auth }));
          await ok(fetch(`${github}/repos/${ORG}/${options.repo}/pulls/${options.pull}`, { headers: auth }));
        }),
        kv: await time(async () => {
          const arrival = nextKey();
          await kv.create(`floor-${i}`, options.delivery.body);
          await arrival;
        }),
        jenkins: await time(async () => {
          await jenkins.listQueue();
          await jenkins.listBuilds(`job/${options.job}`);
          await jenkins.buildWithParameters(`job/${options.job}`, { PROW_JOB_ID: `floor-${i}`, BUILD_ID: String(i) });
        }),
        status: await time(() =>
          ok(
            fetch(`${github}/repos/${ORG}/${options.repo}/statuses/${options.sha}`, {
              method: 'POST',
              headers: { ...auth, 'content-type': 'application/json' },
              body: JSON.stringify({ state: 'pending', context: 'bench/floor', description: 'floor' }),
            }),
          ),
        ),
      };
      if (i > 0) samples.push(sample);
    }
    watch.stop();
    messages.stop();
    return samples;
  } finally {
    sender.close();
    await publisher.close();
    await subscriber.close();
  }
}

export const toJenkins = (s: FloorSample): number => s.http + s.nats + s.github + s.kv + s.jenkins;
export const toPending = (s: FloorSample): number => s.http + s.nats + s.github + s.kv + s.status;
