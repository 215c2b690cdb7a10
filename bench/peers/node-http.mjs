// Peer: node:http + Map. The floor every Node user starts from.
import http from 'node:http';
import { parseFlags, announce } from './common.mjs';
import { handle } from './map-handler.mjs';

const { port, host } = parseFlags(process.argv.slice(2));
const server = http.createServer({ keepAliveTimeout: 60_000 }, handle);
server.listen(port, host, () => announce(host, server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)).closeAllConnections());
process.on('SIGINT', () => process.exit(0));
