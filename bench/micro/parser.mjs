#!/usr/bin/env node
// Parser micro benchmark (benchmark.js): stripecache's zero-copy llhttp binding against the
// `llhttp-wasm` npm wrapper (1.0.3) on the same inputs, in the same run: a GET head with 3
// headers and a POST with a 1 KiB body. Target for the binding: at most 0.4 µs per GET head.
//
// llhttp-wasm is not a dependency of the product. Install it outside the root package, e.g.
//   npm install --prefix /tmp/llhttp-peer llhttp-wasm@1.0.3
//   LLHTTP_WASM_DIR=/tmp/llhttp-peer/node_modules/llhttp-wasm node bench/micro/parser.mjs
// (bench/peers/node_modules/llhttp-wasm is found too). Without it the comparison is skipped.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Benchmark from 'benchmark';
import { instantiate } from '../../dist/parser/llhttp.js';
import { ParserEngine } from '../../dist/parser/engine.js';
import { HttpParser, Next } from '../../dist/parser/parser.js';

const require = createRequire(import.meta.url);
const DIR = path.dirname(fileURLToPath(import.meta.url));

function loadPeer() {
  const candidates = [
    process.env.LLHTTP_WASM_DIR,
    path.resolve(DIR, '../peers/node_modules/llhttp-wasm'),
    'llhttp-wasm',
  ].filter(Boolean);
  for (const c of candidates) {
    try {
      return require(c);
    } catch {
      // next
    }
  }
  return null;
}

const GET = Buffer.from(
  'GET /get/videos/42/chunk-0007 HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n\r\n',
  'latin1',
);
const POST = Buffer.concat([
  Buffer.from(
    'POST /store/videos/42/chunk-0007 HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nContent-Type: application/octet-stream\r\nContent-Length: 1024\r\n\r\n',
    'latin1',
  ),
  Buffer.alloc(1024, 0x61),
]);

let requests = 0;
const engine = new ParserEngine(16 * 1024 * 1024);
const ours = new HttpParser(engine, {
  onHead: () => 0,
  onRequest: (head) => {
    requests += head.urlLen > 0 ? 1 : 0;
    return Next;
  },
  onError: (code) => {
    throw new Error(`parse error ${code}`);
  },
});

// Sanity: each input is exactly one request for both parsers.
ours.feed(GET);
ours.feed(POST);
if (requests !== 2) throw new Error('binding did not see the requests');

// The floor for any binding of this wasm: copy the head into wasm memory and run llhttp_execute
// with callbacks that do nothing. What the binding costs above it is its own work.
const noop = () => 0;
const bare = instantiate({
  wasm_on_message_begin: noop,
  wasm_on_url: noop,
  wasm_on_status: noop,
  wasm_on_header_field: noop,
  wasm_on_header_value: noop,
  wasm_on_headers_complete: noop,
  wasm_on_body: noop,
  wasm_on_message_complete: noop,
});
const bareParser = bare.llhttp_alloc(1);
const bareInput = bare.malloc(4096);
const bareMem = new Uint8Array(bare.memory.buffer);
function bareGet() {
  bareMem.set(GET, bareInput);
  if (bare.llhttp_execute(bareParser, bareInput, GET.length) !== 0)
    throw new Error('bare llhttp refused the GET');
}
bareGet();

const peerMod = loadPeer();
let peer = null;
let peerDone = 0;
if (peerMod) {
  peer = peerMod.createParser(peerMod.TYPE.REQUEST);
  peer.onMessageComplete = () => {
    peerDone++;
    return 0;
  };
  peer.onBody = () => 0;
  peer.onHeadersComplete = () => 0;
  peer.execute(GET);
  peer.execute(POST);
  if (peerDone !== 2) throw new Error('llhttp-wasm did not see the requests');
} else {
  console.log('SKIP llhttp-wasm comparison: package not found (see the header of this file to install it)');
}

const suite = new Benchmark.Suite('parser');
suite.add('binding GET head (3 headers)', () => ours.feed(GET));
suite.add('floor: bare llhttp_execute GET (no-op callbacks)', bareGet);
if (peer) suite.add('llhttp-wasm GET head (3 headers)', () => peer.execute(GET));
suite.add('binding POST 1 KiB body', () => ours.feed(POST));
if (peer) suite.add('llhttp-wasm POST 1 KiB body', () => peer.execute(POST));

suite
  .on('cycle', (event) => {
    const t = event.target;
    console.log(String(t));
    console.log(
      `BENCH ${JSON.stringify({ name: `${t.name} µs/op`, value: Number((1e6 / t.hz).toFixed(4)) })}`,
    );
  })
  .on('complete', function () {
    const hz = Object.fromEntries(this.map((b) => [b.name, b.hz]));
    const get = 1e6 / hz['binding GET head (3 headers)'];
    const floor = 1e6 / hz['floor: bare llhttp_execute GET (no-op callbacks)'];
    console.log(`binding: ${get.toFixed(3)} µs per GET head (target <= 0.4)`);
    console.log(
      `floor: ${floor.toFixed(3)} µs per GET head; binding's own work ${(get - floor).toFixed(3)} µs (${((get / floor - 1) * 100).toFixed(0)}% over the floor)`,
    );
    if (peer) {
      console.log(
        `ratio GET: llhttp-wasm / binding = ${(hz['binding GET head (3 headers)'] / hz['llhttp-wasm GET head (3 headers)']).toFixed(2)}x`,
      );
      console.log(
        `ratio POST: llhttp-wasm / binding = ${(hz['binding POST 1 KiB body'] / hz['llhttp-wasm POST 1 KiB body']).toFixed(2)}x`,
      );
    }
  })
  .run();
