import { connect, type NatsConnection } from '@nats-io/transport-node';

// Where a comment's time goes: the bench listens, as a plain NATS subscriber beside the services,
// for the event the hook stores and the ProwJob the planner creates, so each comment's path splits
// into hook (webhook → event stored), planner (event → ProwJob created) and the two legs after it
// (ProwJob → Jenkins, ProwJob → pending status). Issue 21 asks where the tail comes from; this
// says which service holds it.

export interface StageTimes {
  event: Map<number, number>;
  prowjob: Map<number, number>;
}

/** `pullOfDelivery` maps the envelope's delivery id back to its pull request. */
export async function traceStages(natsUrl: string, pullOfDelivery: (id: string) => number | undefined): Promise<{ times: StageTimes; close: () => Promise<void> }> {
  const nc: NatsConnection = await connect({ servers: natsUrl });
  const times: StageTimes = { event: new Map(), prowjob: new Map() };
  const decoder = new TextDecoder();
  nc.subscribe('bowline.events.>', {
    callback: (error, msg) => {
      if (error) return;
      const at = performance.now();
      const id = /"id":"([^"]+)"/.exec(decoder.decode(msg.data.subarray(0, 200)))?.[1];
      const pull = id === undefined ? undefined : pullOfDelivery(id);
      if (pull !== undefined && !times.event.has(pull)) times.event.set(pull, at);
    },
  });
  nc.subscribe('$KV.prowjobs.>', {
    callback: (error, msg) => {
      if (error || msg.data.length === 0) return;
      const at = performance.now();
      try {
        const job = JSON.parse(decoder.decode(msg.data)) as { spec?: { refs?: { pulls?: Array<{ number?: number }> } } };
        const pull = job.spec?.refs?.pulls?.[0]?.number;
        if (pull !== undefined && !times.prowjob.has(pull)) times.prowjob.set(pull, at);
      } catch {
        // Not a ProwJob (a purge marker): not a stage.
      }
    },
  });
  await nc.flush();
  return { times, close: () => nc.close() };
}

/** Each comment's time in each stage, in milliseconds; comments missing a mark are left out. */
export function stageLatencies(
  sentAt: Map<number, number>,
  times: StageTimes,
  jenkinsAt: Map<number, number>,
  pendingAt: Map<number, number>,
): Record<'hook' | 'planner' | 'operator' | 'reporter', number[]> {
  const out = { hook: [] as number[], planner: [] as number[], operator: [] as number[], reporter: [] as number[] };
  for (const [pull, sent] of sentAt) {
    const event = times.event.get(pull);
    const prowjob = times.prowjob.get(pull);
    if (event !== undefined) out.hook.push(event - sent);
    if (event !== undefined && prowjob !== undefined) out.planner.push(prowjob - event);
    const jenkins = jenkinsAt.get(pull);
    const pending = pendingAt.get(pull);
    if (prowjob !== undefined && jenkins !== undefined) out.operator.push(jenkins - prowjob);
    if (prowjob !== undefined && pending !== undefined) out.reporter.push(pending - prowjob);
  }
  return out;
}

/**
 * The `count` comments slowest to reach Jenkins: when each was sent (seconds into the run) and its
 * time in each stage, so a tail that comes in clusters (a resync every 10 s) shows as one.
 */
export function slowestToJenkins(
  sentAt: Map<number, number>,
  times: StageTimes,
  jenkinsAt: Map<number, number>,
  startedAt: number,
  count = 5,
): string[] {
  const rows: Array<{ total: number; text: string }> = [];
  for (const [pull, sent] of sentAt) {
    const event = times.event.get(pull);
    const prowjob = times.prowjob.get(pull);
    const jenkins = jenkinsAt.get(pull);
    if (event === undefined || prowjob === undefined || jenkins === undefined) continue;
    const ms = (value: number): string => value.toFixed(0);
    rows.push({
      total: jenkins - sent,
      text: `sent at ${((sent - startedAt) / 1000).toFixed(1)} s: ${ms(jenkins - sent)} ms (hook ${ms(event - sent)}, planner ${ms(prowjob - event)}, operator ${ms(jenkins - prowjob)})`,
    });
  }
  return rows.sort((a, b) => b.total - a.total).slice(0, count).map((row) => row.text);
}
