// Peer: Bun.serve + Map (run by the bun binary from the `bun` npm package).
/* global Bun */
import { parseFlags, parseRange, nextEtag, announce, HELLO, DEFAULT_TYPE } from './common.mjs';

const { port, host } = parseFlags(process.argv.slice(2));
const store = new Map();
const text = { 'content-type': 'text/plain' };

const server = Bun.serve({
  port,
  hostname: host,
  maxRequestBodySize: 64 * 1024 * 1024,
  async fetch(req) {
    const url = req.url;
    // req.url is absolute: skip "http://host:port".
    const pathStart = url.indexOf('/', url.indexOf('//') + 2);
    const q = url.indexOf('?', pathStart);
    const path = q === -1 ? url.slice(pathStart) : url.slice(pathStart, q);
    if (path.startsWith('/get/') && (req.method === 'GET' || req.method === 'HEAD')) {
      const e = store.get(decodeURIComponent(path.slice(5)));
      if (e === undefined) return new Response('not found\n', { status: 404, headers: text });
      if (req.headers.get('if-none-match') === e.etag)
        return new Response(null, { status: 304, headers: { etag: e.etag } });
      const r = parseRange(req.headers.get('range'), e.body.length);
      if (r === -1)
        return new Response(null, { status: 416, headers: { 'content-range': `bytes */${e.body.length}` } });
      if (r === null) return new Response(e.body, { headers: { 'content-type': e.type, etag: e.etag } });
      return new Response(e.body.subarray(r[0], r[1] + 1), {
        status: 206,
        headers: {
          'content-type': e.type,
          etag: e.etag,
          'content-range': `bytes ${r[0]}-${r[1]}/${e.body.length}`,
        },
      });
    }
    if (path.startsWith('/store/') && (req.method === 'POST' || req.method === 'PUT')) {
      const key = decodeURIComponent(path.slice(7));
      const body = new Uint8Array(await req.arrayBuffer());
      const existed = store.has(key);
      store.set(key, { body, type: req.headers.get('content-type') ?? DEFAULT_TYPE, etag: nextEtag() });
      return new Response(existed ? 'replaced\n' : 'created\n', {
        status: existed ? 200 : 201,
        headers: text,
      });
    }
    if (path === '/') return new Response(HELLO, { headers: text });
    return new Response('unknown path\n', { status: 404, headers: text });
  },
});
announce(host, server.port);
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
