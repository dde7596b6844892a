import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNats, waitFor, type NatsServer } from '@bowline/testing';
import { connectOnce, readStream } from '../src/read-stream.js';

describe('readStream', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let between: Date;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    await (await jetstreamManager(nc)).streams.add({ name: 'NOTES', subjects: ['notes.>'] });
    const js = jetstream(nc);
    for (const [subject, text] of [['notes.a', 'one'], ['notes.b', 'two'], ['notes.a', 'three']]) await js.publish(subject!, text!);
    const last = Date.now();
    await waitFor('the clock to move on', () => Date.now() > last + 5);
    between = new Date();
    await waitFor('the clock to move on', () => Date.now() > between.getTime() + 5);
    for (const [subject, text] of [['notes.b', 'four'], ['notes.a', 'five']]) await js.publish(subject!, text!);
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('reads every message in stream order', async () => {
    expect((await readStream(nc, 'NOTES')).map((m) => [m.subject, m.seq, m.text])).toEqual([
      ['notes.a', 1, 'one'],
      ['notes.b', 2, 'two'],
      ['notes.a', 3, 'three'],
      ['notes.b', 4, 'four'],
      ['notes.a', 5, 'five'],
    ]);
  });

  it('reads only the subject asked for', async () => {
    expect((await readStream(nc, 'NOTES', { filterSubject: 'notes.a' })).map((m) => m.text)).toEqual(['one', 'three', 'five']);
  });

  it('starts at a time, the server seeking to it', async () => {
    expect((await readStream(nc, 'NOTES', { since: between })).map((m) => m.text)).toEqual(['four', 'five']);
    expect((await readStream(nc, 'NOTES', { since: between, filterSubject: 'notes.b' })).map((m) => m.text)).toEqual(['four']);
  });

  it('reads nothing from a subject without messages, or a stream that does not exist', async () => {
    expect(await readStream(nc, 'NOTES', { filterSubject: 'notes.c' })).toEqual([]);
    expect(await readStream(nc, 'NOWHERE')).toEqual([]);
  });

  it('leaves no consumer behind', async () => {
    await readStream(nc, 'NOTES');

    expect((await (await jetstreamManager(nc)).streams.info('NOTES')).state.consumer_count).toBe(0);
  });

  it('reads more messages than one batch holds', async () => {
    const js = jetstream(nc);
    await (await jetstreamManager(nc)).streams.add({ name: 'MANY', subjects: ['many.>'] });
    // Published in awaited batches: 2,500 publishes in flight at once wait longer for their
    // acknowledgements than the client's timeout on a loaded 2-core machine.
    for (let batch = 0; batch < 2500; batch += 250) {
      await Promise.all(Array.from({ length: 250 }, (_, i) => js.publish('many.x', String(batch + i))));
    }
    await js.publish('many.x', 'last');

    const read = await readStream(nc, 'MANY');

    expect(read).toHaveLength(2501);
    expect(read.at(-1)!.text).toBe('last');
  });
});

describe('connectOnce', () => {
  it('fails at once, naming the server and how to name another', async () => {
    await expect(connectOnce('nats://127.0.0.1:9', { name: 'test' })).rejects.toThrow(
      /^cannot connect to NATS at nats:\/\/127\.0\.0\.1:9: .* \(set --nats or NATS_URL\)$/,
    );
  });
});
