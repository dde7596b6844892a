import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { listDeadLetters, publishEvent } from '@bowline/bus';
import { pullRequestCommentPayload, startPipeline, waitFor, type Pipeline } from '@bowline/testing';
import { runCli } from '../cli/src/cli.js';

// A payload of the wrong shape that got into EVENTS anyway (an older hook stored it, or someone
// published it by hand) must be put aside once, not redelivered to the planner for ever.
const CONFIG = `
presubmits:
  acme/widgets:
  - name: unit
    agent: jenkins
    always_run: true
    context: ci/jenkins/unit
bowline:
  jenkins_operator:
    resync_period: 1s
`;

describe('an event the planner can never handle', () => {
  let pipeline: Pipeline;
  let nc: NatsConnection;

  beforeAll(async () => {
    pipeline = await startPipeline({ config: CONFIG });
    pipeline.github.addPullRequest({ org: 'acme', repo: 'widgets', number: 7, author: 'alice', headSha: 'a'.repeat(40), baseRef: 'main', baseSha: 'b'.repeat(40), headRef: 'x', title: 't' });
    pipeline.github.addOrgMember('acme', 'alice');
    pipeline.jenkins.addJob('unit');
    nc = await connect({ servers: pipeline.nats.url });
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await pipeline?.stop();
  });

  const comment = (body: string | null) => {
    const payload = pullRequestCommentPayload({ org: 'acme', repo: 'widgets', number: 7, commenter: 'alice', body: '/test all' });
    payload.comment.body = body;
    return payload;
  };
  const rejections = () => pipeline.services.planner.logs.filter((line) => line.includes('message rejected') && line.includes('"deliveryId":"poison"'));

  it('is copied to bowline.deadletter.planner once, counted, and the planner goes on with the next event', async () => {
    await publishEvent(nc, { id: 'poison', event: 'issue_comment', receivedAt: new Date().toISOString(), payload: comment(null) });

    await waitFor('the planner to put it aside', () => rejections().length === 1);
    // Another look a while later: it was not delivered again.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(rejections()).toHaveLength(1);
    const letters = (await listDeadLetters(nc)).filter((l) => l.deliveryId === 'poison');
    expect(letters.map((l) => [l.service, l.reason, l.detail])).toEqual([['planner', 'invalid_payload', 'comment.body: expected string, got null']]);
    const metrics = await (await fetch(`http://127.0.0.1:${pipeline.services.planner.port}/metrics`)).text();
    expect(metrics).toMatch(/^bowline_events_rejected_total\{service="planner",reason="invalid_payload"\} 1$/m);

    expect((await pipeline.deliver('issue_comment', comment('/test all'), 'after-poison')).status).toBe(202);
    await waitFor('the next comment’s build', () => pipeline.jenkins.requestsTo({ method: 'POST', path: '/job/unit/buildWithParameters' }).length === 1);
  });

  it('is listed by bowline events dead-letters with its delivery id and the field that is wrong', async () => {
    let out = '';
    const code = await runCli(['events', 'dead-letters', '--service', 'planner'], (line) => (out += `${line}\n`), { env: { NATS_URL: pipeline.nats.url } });

    expect(code).toBe(0);
    expect(out).toMatch(/^1 +\S+ \S+ +planner +invalid_payload +issue_comment +poison +1 +comment\.body: expected string, got null$/m);
  });
});
