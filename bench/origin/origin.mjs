// A scriptable slow origin for the read-through benchmark and the integration tests: a plain
// node:http server that serves deterministic objects of any path, honours single Range requests,
// counts requests per path, and misbehaves on request (delays, trickles, resets, short bodies...).
//
//   node bench/origin/origin.mjs [--port 0] [--host 127.0.0.1] [--size BYTES] [--delay MS]
//                                [--cache-control VALUE]
//
// Prints "origin listening on HOST:PORT" once bound. Every path not starting with /__ is an
// object named by its path (query string excluded); byte i of object `name` is originByte(name, i),
// so a client can check any byte it got without holding a copy, and bodies are generated as
// they are sent (the origin keeps nothing per object). Control endpoints:
//   GET    /__stats            {"total": n, "paths": {"/a": {"requests": n, "ranges": ["bytes=0-9", ...],
//                               "inFlight": n, "maxInFlight": n, "lastHeaders": {...}}}}
//   POST   /__reset            zero the counters
//   POST   /__script           body {"path": "/a" | "*", ...behaviour}: replaces that path's behaviour
//   DELETE /__script           forget every scripted behaviour (CLI defaults stay)
// Behaviour fields (all optional): size, delayMs (before the status line), status, trickle
// {bytes, intervalMs}, resetAfter (bytes of body, then a TCP RST), shortBy (Content-Length claims
// this many bytes more than are sent, then the connection closes), chunked (no Content-Length),
// cacheControl, etag, headers (object of extra headers).
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** FNV-1a of the name: the per-object seed of the content function. */
function nameSeed(name) {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Word `w` (bytes 4w..4w+3) of the object seeded `seed`: a murmur-style finaliser of (seed, w). */
function wordOf(seed, w) {
  let x = (seed ^ Math.imul(w, 0x9e3779b1)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Byte `i` of object `name`: byte i % 4 (little-endian) of word i / 4, so no short period. */
export function originByte(name, i) {
  return (wordOf(nameSeed(name), Math.floor(i / 4)) >>> ((i % 4) * 8)) & 0xff;
}

/**
 * Fills `out` with bytes [start, start + out.length) of the object seeded `seed`. One hash per
 * four bytes: the origin computes every body as it sends it (nothing is kept per object, so a
 * test can ask for hundreds of 10 MiB objects), and that must stay cheap next to the cache.
 */
export function fillOriginBytes(seed, start, out) {
  const end = start + out.length;
  let i = start;
  let j = 0;
  while (i < end && i % 4 !== 0) out[j++] = (wordOf(seed, Math.floor(i / 4)) >>> ((i++ % 4) * 8)) & 0xff;
  for (; i + 4 <= end; i += 4) {
    const x = wordOf(seed, i / 4);
    out[j] = x & 0xff;
    out[j + 1] = (x >>> 8) & 0xff;
    out[j + 2] = (x >>> 16) & 0xff;
    out[j + 3] = x >>> 24;
    j += 4;
  }
  for (; i < end; i++) out[j++] = (wordOf(seed, Math.floor(i / 4)) >>> ((i % 4) * 8)) & 0xff;
  return out;
}

export { nameSeed };

// Bodies are generated piece by piece as they are written, at most this much at a time.
const PIECE = 64 * 1024;

function parseArgs(argv) {
  const o = { port: 0, host: '127.0.0.1', size: 1024, delay: 0, cacheControl: undefined };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--port':
        o.port = Number(v);
        break;
      case '--host':
        o.host = v;
        break;
      case '--size':
        o.size = Number(v);
        break;
      case '--delay':
        o.delay = Number(v);
        break;
      case '--cache-control':
        o.cacheControl = v;
        break;
      default:
        process.stderr.write(`origin: unknown argument ${argv[i]}\n`);
        process.exit(2);
    }
    i++;
  }
  return o;
}

/** "bytes=a-b" | "bytes=a-" | "bytes=-n" against `size`: [start, end] inclusive, 'bad', or null. */
function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null) return null; // multi-range or malformed: RFC 9110 lets us ignore it (200)
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'bad';
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'bad';
  return [start, end];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const defaults = { size: opts.size, delayMs: opts.delay, cacheControl: opts.cacheControl };
  const scripts = new Map();
  let stats = { total: 0, paths: {} };

  function behaviourFor(path) {
    return { ...defaults, ...scripts.get('*'), ...scripts.get(path) };
  }

  function control(req, res, path, body) {
    const send = (status, obj) => {
      const text = JSON.stringify(obj);
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (path === '/__stats' && req.method === 'GET') return send(200, stats);
    if (path === '/__reset' && req.method === 'POST') {
      stats = { total: 0, paths: {} };
      return send(200, { ok: true });
    }
    if (path === '/__script' && req.method === 'POST') {
      let s;
      try {
        s = JSON.parse(body);
      } catch (e) {
        return send(400, { error: String(e) });
      }
      if (typeof s.path !== 'string') return send(400, { error: 'path missing' });
      const { path: p, ...b } = s;
      scripts.set(p, b);
      return send(200, { ok: true });
    }
    if (path === '/__script' && req.method === 'DELETE') {
      scripts.clear();
      return send(200, { ok: true });
    }
    return send(404, { error: 'no such control endpoint' });
  }

  async function object(req, res, path) {
    const entry = (stats.paths[path] ??= {
      requests: 0,
      ranges: [],
      inFlight: 0,
      maxInFlight: 0,
      lastHeaders: {},
    });
    entry.requests++;
    stats.total++;
    // Concurrency per path: a cache that coalesces misses never has two fetches of one object open.
    entry.inFlight++;
    entry.maxInFlight = Math.max(entry.maxInFlight, entry.inFlight);
    res.once('close', () => entry.inFlight--);
    entry.lastHeaders = req.headers;
    if (req.headers.range !== undefined && entry.ranges.length < 1000) entry.ranges.push(req.headers.range);

    const b = behaviourFor(path);
    if (b.delayMs > 0) await sleep(b.delayMs);
    if (res.destroyed) return;

    const headers = { ...b.headers };
    if (b.cacheControl !== undefined) headers['Cache-Control'] = b.cacheControl;
    if (b.etag !== undefined) headers.ETag = b.etag;

    if (b.status !== undefined && b.status !== 200) {
      const text = `${b.status} from origin\n`;
      res.writeHead(b.status, { ...headers, 'Content-Type': 'text/plain', 'Content-Length': text.length });
      return res.end(req.method === 'HEAD' ? undefined : text);
    }
    if (b.etag !== undefined && req.headers['if-none-match'] === b.etag) {
      res.writeHead(304, headers);
      return res.end();
    }

    const size = b.size;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = req.headers.range === undefined ? null : parseRange(req.headers.range, size);
    if (range === 'bad') {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
      return res.end();
    }
    if (range !== null) {
      [start, end] = range;
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['Accept-Ranges'] = 'bytes';
    headers['Content-Type'] = 'application/octet-stream';
    const bodyLength = end + 1 - start;
    if (!b.chunked) headers['Content-Length'] = bodyLength;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return res.end();

    // How much of the body goes out before the scripted failure, if any.
    let limit = bodyLength;
    if (b.resetAfter !== undefined) limit = Math.min(limit, b.resetAfter);
    if (b.shortBy !== undefined) limit = Math.max(0, bodyLength - b.shortBy);
    const step = b.trickle?.bytes ?? limit;
    const interval = b.trickle?.intervalMs ?? 0;
    const seed = nameSeed(path);
    for (let off = 0; off < limit; off += step) {
      if (off > 0 && interval > 0) await sleep(interval);
      // A trickle step goes out in pieces of at most PIECE, each generated just before its write;
      // the write callback fires once the piece is handed to the kernel, which also paces us.
      const stepEnd = Math.min(limit, off + step);
      for (let p = off; p < stepEnd; p += PIECE) {
        if (res.destroyed) return;
        const piece = fillOriginBytes(seed, start + p, Buffer.allocUnsafe(Math.min(PIECE, stepEnd - p)));
        await new Promise((r) => res.write(piece, r));
      }
    }
    if (limit < bodyLength) {
      // What was written is in the kernel; give it a moment on the wire, then fail the connection.
      const sock = res.socket;
      await sleep(20);
      if (sock === null) return;
      if (b.resetAfter !== undefined) sock.resetAndDestroy();
      else sock.destroy();
      return;
    }
    res.end();
  }

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path.startsWith('/__')) {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => (body += d));
      req.on('end', () => control(req, res, path, body));
      return;
    }
    req.resume();
    object(req, res, path).catch((e) => {
      process.stderr.write(`origin: ${e.stack ?? e}\n`);
      res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.requestTimeout = 0;
  server.listen(opts.port, opts.host, () => {
    const a = server.address();
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    process.stdout.write(`origin listening on ${host}:${a.port}\n`);
  });
  const stop = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// Importable for originByte (the bench client checks bytes with it); runs only as a script.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) main();
