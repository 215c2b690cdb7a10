// Peer: node:http2 over cleartext (prior knowledge) with the compatibility request/response API
// over a Map: the HTTP/2 server a Node user would write first (the http2 twin of node-http.mjs).
import http2 from 'node:http2';
import { parseFlags, announce } from './common.mjs';
import { handle } from './map-handler.mjs';

const { port, host } = parseFlags(process.argv.slice(2));
// Windows raised as for stripecache, so large values are not held to 64 KiB per round trip.
const server = http2.createServer(
  { settings: { maxConcurrentStreams: 128, initialWindowSize: 4 * 1024 * 1024 } },
  handle,
);
server.on('session', (s) => s.setLocalWindowSize(32 * 1024 * 1024));
server.listen(port, host, () => announce(host, server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => process.exit(0));
