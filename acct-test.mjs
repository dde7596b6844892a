import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
const as = (user) => connect({ servers: 'nats://127.0.0.1:14777', user, pass: user });
const pay = await as('payments'), search = await as('search'), hook = await as('hook');
for (const nc of [pay, search]) await (await jetstreamManager(nc)).streams.add({ name: 'EVENTS', subjects: ['bowline.events.>'] });
// The hook's own EVENTS stream, as startRuntime's ensureEventsStream would make it.
const hookStream = process.argv[2] === 'local';
if (hookStream) await (await jetstreamManager(hook)).streams.add({ name: 'EVENTS', subjects: ['bowline.events.>'] });
const js = jetstream(hook);
for (const [subject, id] of [['bowline.events.payments.github.push', 'p1'], ['bowline.events.search.github.push', 's1']]) {
  try { const ack = await js.publish(subject, '{}', { msgID: id, timeout: 2000 }); console.log(subject, 'ack', ack.stream, ack.seq); } catch (e) { console.log(subject, 'failed', e.message); }
}
try { const ack = await js.publish('bowline.events.other.github.push', '{}', { timeout: 1000 }); console.log('other ack', ack.stream); } catch (e) { console.log('other failed', e.message); }
for (const [name, nc] of [['payments', pay], ['search', search], ['hook', hook]]) {
  try { const info = await (await jetstreamManager(nc)).streams.info('EVENTS'); console.log(name, 'EVENTS messages', info.state.messages); } catch (e) { console.log(name, 'no EVENTS', e.message); }
}
await Promise.all([pay, search, hook].map((nc) => nc.close()));
