// Peer: uWebSockets.js + Map, the fastest HTTP server a Node process can host.
// The npm package silently falls back to a slow pure-JS server when its native addon fails to
// load, which would make this yardstick meaningless, so the addon is loaded by path here and the
// peer refuses to start (exit 3, with the reason) when it cannot be loaded.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { parseFlags, parseRange, nextEtag, announce, HELLO, DEFAULT_TYPE } from './common.mjs';

const require = createRequire(import.meta.url);
let uws;
try {
  const pkgDir = require
    .resolve('@trufflesuite/uws-js-unofficial/package.json')
    .replace(/package\.json$/, '');
  const file = `${pkgDir}binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  if (!existsSync(file)) throw new Error(`no native build for this platform/ABI: ${file}`);
  uws = require(file);
  if (typeof uws.App !== 'function') throw new Error(`${file} does not export App`);
} catch (e) {
  process.stderr.write(`uws peer: native uWebSockets.js addon unavailable: ${e.message}\n`);
  process.exit(3);
}

const { port, host } = parseFlags(process.argv.slice(2));
const store = new Map();
const app = uws.App();

app.get('/', (res) => {
  res.cork(() => res.writeHeader('content-type', 'text/plain').end(HELLO));
});

app.get('/get/*', (res, req) => {
  const key = decodeURIComponent(req.getUrl().slice(5));
  const e = store.get(key);
  if (e === undefined) {
    res.cork(() =>
      res.writeStatus('404 Not Found').writeHeader('content-type', 'text/plain').end('not found\n'),
    );
    return;
  }
  if (req.getHeader('if-none-match') === e.etag) {
    res.cork(() => res.writeStatus('304 Not Modified').writeHeader('etag', e.etag).endWithoutBody());
    return;
  }
  const range = req.getHeader('range');
  const r = parseRange(range === '' ? undefined : range, e.body.length);
  res.cork(() => {
    if (r === -1) {
      res
        .writeStatus('416 Range Not Satisfiable')
        .writeHeader('content-range', `bytes */${e.body.length}`)
        .end();
    } else if (r === null) {
      res.writeHeader('content-type', e.type).writeHeader('etag', e.etag).end(e.body);
    } else {
      res
        .writeStatus('206 Partial Content')
        .writeHeader('content-type', e.type)
        .writeHeader('etag', e.etag)
        .writeHeader('content-range', `bytes ${r[0]}-${r[1]}/${e.body.length}`)
        .end(e.body.subarray(r[0], r[1] + 1));
    }
  });
});

function store_(res, req) {
  const key = decodeURIComponent(req.getUrl().slice(7));
  const type = req.getHeader('content-type') || DEFAULT_TYPE;
  const chunks = [];
  let aborted = false;
  res.onAborted(() => (aborted = true));
  res.onData((ab, isLast) => {
    // uWS reuses the ArrayBuffer after the callback returns: copy.
    chunks.push(Buffer.from(Buffer.from(ab)));
    if (!isLast || aborted) return;
    const existed = store.has(key);
    store.set(key, {
      body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
      type,
      etag: nextEtag(),
    });
    res.cork(() =>
      res
        .writeStatus(existed ? '200 OK' : '201 Created')
        .writeHeader('content-type', 'text/plain')
        .end(existed ? 'replaced\n' : 'created\n'),
    );
  });
}
app.post('/store/*', store_);
app.put('/store/*', store_);
app.any('/*', (res) => {
  res.cork(() => res.writeStatus('404 Not Found').end('unknown path\n'));
});

app.listen(host, port, (listenSocket) => {
  if (!listenSocket) {
    process.stderr.write(`uws peer: cannot listen on ${host}:${port}\n`);
    process.exit(1);
  }
  announce(host, uws.us_socket_local_port(listenSocket));
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
