import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

// The deck's baseline: the same bytes the deck answered, served from files by bare node:http in its
// own process, as the deck is. `/` is index.html, `/prowjobs.js` is prowjobs.json.
const port = Number(process.env.PORT);
const dir = process.env.STATIC_DIR ?? '.';
const files: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/prowjobs.js': ['prowjobs.json', 'application/json'],
  '/static/deck.css': ['deck.css', 'text/css'],
  '/static/deck.js': ['deck.js', 'text/javascript'],
};

createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  // deck.js asks for live updates; 204 tells EventSource not to reconnect, so the copy stays static.
  if (path === '/events') return void res.writeHead(204).end();
  const file = files[path];
  if (!file) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': file[1] });
  createReadStream(join(dir, file[0])).pipe(res);
}).listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
