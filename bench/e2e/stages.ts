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

/** One comment's time in each stage, in milliseconds; a stage whose marks are missing is undefined. */
export interface CommentStages {
  sent: number;
  hook?: number;
  planner?: number;
  operator?: number;
  reporter?: number;
  toJenkins?: number;
}

/** Every comment's stages, from the marks the tracer and the test servers saw. */
export function commentStages(sentAt: Map<number, number>, times: StageTimes, jenkinsAt: Map<number, number>, pendingAt: Map<number, number>): CommentStages[] {
  const between = (from: number | undefined, to: number | undefined): number | undefined => (from === undefined || to === undefined ? undefined : to - from);
  return [...sentAt].map(([pull, sent]) => {
    const event = times.event.get(pull);
    const prowjob = times.prowjob.get(pull);
    const jenkins = jenkinsAt.get(pull);
    return {
      sent,
      hook: between(sent, event),
      planner: between(event, prowjob),
      operator: between(prowjob, jenkins),
      reporter: between(prowjob, pendingAt.get(pull)),
      toJenkins: between(sent, jenkins),
    };
  });
}

/**
 * The `count` comments slowest to reach Jenkins: when each was sent (seconds into the run) and its
 * time in each stage, so a tail that comes in clusters (a resync every 10 s) shows as one.
 */
export function slowestToJenkins(comments: readonly CommentStages[], startedAt: number, count = 5): string[] {
  const ms = (value: number | undefined): string => (value === undefined ? '-' : value.toFixed(0));
  return comments
    .filter((c) => c.toJenkins !== undefined && c.hook !== undefined && c.planner !== undefined)
    .sort((a, b) => b.toJenkins! - a.toJenkins!)
    .slice(0, count)
    .map((c) => `sent at ${((c.sent - startedAt) / 1000).toFixed(1)} s: ${ms(c.toJenkins)} ms (hook ${ms(c.hook)}, planner ${ms(c.planner)}, operator ${ms(c.operator)})`);
}
