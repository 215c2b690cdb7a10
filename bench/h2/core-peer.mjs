// Floor: bare node:http2 with the core 'stream' API over a Map, GET only (what node:http2 itself
// costs per request, with no HTTP semantics beyond a 200 or a 404). Not a peer a user would ship.
import http2 from 'node:http2';
import { parseFlags, announce, DEFAULT_TYPE } from '../peers/common.mjs';

const { port, host } = parseFlags(process.argv.slice(2));
const store = new Map();

const server = http2.createServer({ settings: { maxConcurrentStreams: 128 } });
server.on('stream', (stream, headers) => {
  stream.on('error', () => {});
  const path = headers[':path'];
  if (headers[':method'] === 'PUT') {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      store.set(path.slice(7), Buffer.concat(chunks));
      stream.respond({ ':status': 201 }, { endStream: true });
    });
    return;
  }
  const v = store.get(path.slice(5));
  if (v === undefined) return stream.respond({ ':status': 404 }, { endStream: true });
  stream.respond({ ':status': 200, 'content-type': DEFAULT_TYPE, 'content-length': v.length });
  stream.end(v);
});
server.listen(port, host, () => announce(host, server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => process.exit(0));
