// The non-reading pipeliner, a raw-socket client (slowhttptest has no such mode): each connection
// writes --depth pipelined `GET --path` requests at once and never reads a byte of the answers,
// so responses pile up in the kernel's buffers and, unless the server stops, in the server.
// Runs as its own process on the client core. Connections open --batch at a time; the whole run
// ends by itself after --seconds. Prints one JSON summary line on stdout when done.
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    connections: { type: 'string', default: '200' },
    depth: { type: 'string', default: '50' },
    path: { type: 'string', default: '/store/big' },
    seconds: { type: 'string', default: '40' },
    batch: { type: 'string', default: '50' },
  },
});
const port = Number(values.port);
const connections = Number(values.connections);
const depth = Number(values.depth);
const seconds = Number(values.seconds);
const batch = Number(values.batch);
if (![port, connections, depth, seconds, batch].every((n) => Number.isInteger(n) && n > 0)) {
  console.error(
    'pipeline-client: --port, --connections, --depth, --seconds, --batch must be positive integers',
  );
  process.exit(2);
}
const one = `GET ${values.path} HTTP/1.1\r\nHost: ${values.host}:${port}\r\n\r\n`;
const burst = Buffer.from(one.repeat(depth));
const t0 = performance.now();
const sockets = new Set();
const stats = {
  opened: 0,
  connected: 0,
  written: 0,
  errors: 0,
  closedByServer: 0,
  maxOpen: 0,
  errorCodes: {},
};
let finished = false;

function open() {
  stats.opened++;
  const s = net.connect({ host: values.host, port });
  sockets.add(s);
  s.on('connect', () => {
    // Stop reading before anything can arrive: the kernel receive buffer fills, then the window closes.
    s.pause();
    stats.connected++;
    stats.maxOpen = Math.max(stats.maxOpen, sockets.size);
    s.write(burst, (err) => {
      if (!err) stats.written++;
    });
  });
  s.on('error', (err) => {
    stats.errors++;
    stats.errorCodes[err.code ?? 'other'] = (stats.errorCodes[err.code ?? 'other'] ?? 0) + 1;
  });
  s.on('close', () => {
    sockets.delete(s);
    if (!finished) stats.closedByServer++;
  });
}

function openBatch() {
  if (finished) return;
  for (let i = 0; i < batch && stats.opened < connections; i++) open();
  if (stats.opened < connections) setTimeout(openBatch, 50);
}

function finish() {
  if (finished) return;
  finished = true;
  const stillOpen = sockets.size;
  for (const s of sockets) s.destroy();
  console.log(
    JSON.stringify({ ...stats, stillOpenAtEnd: stillOpen, ranSeconds: (performance.now() - t0) / 1000 }),
  );
  setTimeout(() => process.exit(0), 100);
}

process.on('SIGTERM', finish);
process.on('SIGINT', finish);
setTimeout(finish, seconds * 1000);
openBatch();
