import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { encodeEnvelope, ensureEventsStream, EVENTS_STREAM } from '@bowline/bus';

// The hook's true floor (issue 21): only the work a webhook cannot do without, in the same process
// model as the hook (one Node process): read the body, check its HMAC, parse it, publish it to
// JetStream and wait for the ack, answer 202. No metrics, no logging, no schema checks, no
// redelivery bookkeeping.
const port = Number(process.env.PORT);
const secret = readFileSync(process.env.GITHUB_WEBHOOK_SECRET_FILE ?? '', 'utf8').trim();
const nc = await connect({ servers: process.env.NATS_URL });
await ensureEventsStream(nc, { replicas: 1 });
const js = jetstream(nc);
// A subject of its own under the EVENTS stream's (`<prefix>.>`): the floor needs the stream's write,
// not the hook's naming of subjects, which gains a tenant token with issue 17.
const [streamSubjects] = (await (await jetstreamManager(nc)).streams.info(EVENTS_STREAM)).config.subjects;
const prefix = streamSubjects!.replace(/\.>$/, '');
const subject = (event: string): string => `${prefix}.bench.github.${event}`;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/hook') {
      res.writeHead(req.url === '/readyz' ? 200 : 404).end();
      return;
    }
    const body = Buffer.concat(chunks);
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
    const given = Buffer.from(String(req.headers['x-hub-signature-256'] ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.writeHead(401).end();
      return;
    }
    const text = body.toString('utf8');
    JSON.parse(text);
    const id = String(req.headers['x-github-delivery']);
    const event = String(req.headers['x-github-event']);
    js.publish(subject(event), encodeEnvelope({ id, event, receivedAt: new Date().toISOString() }, text), { msgID: id }).then(
      () => res.writeHead(202).end('accepted\n'),
      () => res.writeHead(503).end(),
    );
  });
});
server.listen(port, '127.0.0.1');

process.on('SIGTERM', () => {
  server.close(() => void nc.close().then(() => process.exit(0)));
  server.closeAllConnections();
});
