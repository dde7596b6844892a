import { createServer } from 'node:http';

// The floor the hook is compared with: node:http alone, reading the whole body (as the hook must
// before it can check the signature) and answering 202. It runs as its own process so that, like
// the hook, it does not share an event loop with the load generator.
const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error('baseline-server: PORT must be set to a free TCP port');
  process.exit(2);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    Buffer.concat(chunks);
    res.writeHead(req.method === 'POST' && req.url === '/hook' ? 202 : 404, { 'content-type': 'text/plain' });
    res.end('accepted\n');
  });
});

server.listen(port, '127.0.0.1');

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
