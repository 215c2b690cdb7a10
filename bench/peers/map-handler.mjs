// The request handler the node:http-style peers share (node-http.mjs and node-http2-compat.mjs):
// the benchmarked routes over a Map, through the (req, res) API both modules offer.
import { parseRange, nextEtag, HELLO, DEFAULT_TYPE } from './common.mjs';

const store = new Map();

function reply(res, status, body, type = 'text/plain') {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function get(req, res, key) {
  const e = store.get(key);
  if (e === undefined) return reply(res, 404, 'not found\n');
  if (req.headers['if-none-match'] === e.etag) {
    res.writeHead(304, { etag: e.etag });
    return res.end();
  }
  const r = parseRange(req.headers.range, e.body.length);
  if (r === -1) {
    res.writeHead(416, { 'content-range': `bytes */${e.body.length}`, 'content-length': 0 });
    return res.end();
  }
  if (r === null) {
    res.writeHead(200, { 'content-type': e.type, 'content-length': e.body.length, etag: e.etag });
    // node:http drops a HEAD's body itself; the http2 compat API does not.
    return res.end(req.method === 'HEAD' ? undefined : e.body);
  }
  res.writeHead(206, {
    'content-type': e.type,
    'content-length': r[1] - r[0] + 1,
    'content-range': `bytes ${r[0]}-${r[1]}/${e.body.length}`,
    etag: e.etag,
  });
  res.end(e.body.subarray(r[0], r[1] + 1));
}

function store_(req, res, key) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const existed = store.has(key);
    store.set(key, {
      body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
      type: req.headers['content-type'] ?? DEFAULT_TYPE,
      etag: nextEtag(),
    });
    reply(res, existed ? 200 : 201, existed ? 'replaced\n' : 'created\n');
  });
}

export function handle(req, res) {
  const url = req.url;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path.startsWith('/get/') && (req.method === 'GET' || req.method === 'HEAD')) {
    return get(req, res, decodeURIComponent(path.slice(5)));
  }
  if (path.startsWith('/store/') && (req.method === 'POST' || req.method === 'PUT')) {
    return store_(req, res, decodeURIComponent(path.slice(7)));
  }
  if (path === '/') return reply(res, 200, HELLO);
  reply(res, 404, 'unknown path\n');
}
