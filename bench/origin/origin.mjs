// A scriptable slow origin for the read-through benchmark and the integration tests: a plain
// node:http server that serves deterministic objects of any path, honours single Range requests,
// counts requests per path, and misbehaves on request (delays, trickles, resets, short bodies...).
//
//   node bench/origin/origin.mjs [--port 0] [--host 127.0.0.1] [--size BYTES] [--delay MS]
//                                [--cache-control VALUE]
//
// Prints "origin listening on HOST:PORT" once bound. Every path not starting with /__ is an
// object named by its path (query string excluded); byte i of object `name` is originByte(name, i),
// so a client can check any byte it got without holding a copy. Control endpoints:
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

/** Byte `i` of object `name`: a murmur-style finaliser of (seed, i), so no short period. */
export function originByte(name, i) {
  return byteOf(nameSeed(name), i);
}

function byteOf(seed, i) {
  let x = (seed ^ Math.imul(i, 0x9e3779b1)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x & 0xff;
}

// Objects are generated once per name and grown on demand: the bench serves 10 MiB per request.
const bodies = new Map();
function bodyOf(name, size) {
  const have = bodies.get(name);
  if (have !== undefined && have.length >= size) return have.subarray(0, size);
  const seed = nameSeed(name);
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buf[i] = byteOf(seed, i);
  bodies.set(name, buf);
  return buf;
}

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
    const body = bodyOf(path, size).subarray(start, end + 1);
    if (!b.chunked) headers['Content-Length'] = body.length;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return res.end();

    // How much of the body goes out before the scripted failure, if any.
    let limit = body.length;
    if (b.resetAfter !== undefined) limit = Math.min(limit, b.resetAfter);
    if (b.shortBy !== undefined) limit = Math.max(0, body.length - b.shortBy);
    const step = b.trickle?.bytes ?? limit;
    const interval = b.trickle?.intervalMs ?? 0;
    for (let off = 0; off < limit; off += step) {
      if (res.destroyed) return;
      if (off > 0 && interval > 0) await sleep(interval);
      // The write callback fires once the piece is handed to the kernel, which also paces us.
      await new Promise((r) => res.write(body.subarray(off, Math.min(limit, off + step)), r));
    }
    if (limit < body.length) {
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
