#!/usr/bin/env node
// The engine's CPU per request without the socket layer (benchmark.js): parse a request, route
// it, read a 64 B value from the real shared store, build the answer in the output arena and
// hand the batch to a socket stub. One GET per batch, and 16 pipelined GETs per batch.
//   node bench/micro/response.mjs
import Benchmark from 'benchmark';
import { ParserEngine } from '../../dist/parser/engine.js';
import { HttpParser, Next } from '../../dist/parser/parser.js';
import { Responder } from '../../dist/http/responder.js';
import { Metrics, httpSharedBytes } from '../../dist/http/metrics.js';
import { Store } from '../../dist/store/store.js';

const store = Store.create({
  memory: 64 * 1024 * 1024,
  maxKeys: 100000,
  stripes: 256,
  maxValueSize: 1 << 20,
});
const value = Buffer.alloc(64, 0x61);
const type = Buffer.from('application/octet-stream');
for (let i = 0; i < 10000; i++) store.set(Buffer.from(`k64-${i}`), value, type, 0);

const metrics = new Metrics(new SharedArrayBuffer(httpSharedBytes(1)), 0);
const responder = new Responder(store, metrics, 1 << 20, 1);
const engine = new ParserEngine(1 << 20);
let bytesOut = 0;
const socket = {
  write(b) {
    bytesOut += b.length;
    return true;
  },
  cork() {},
  uncork() {},
};
const parser = new HttpParser(engine, {
  onHead: (head) => responder.onHead(head),
  onRequest: (head) => {
    responder.answer(head, 0);
    return Next;
  },
  onError: (code) => {
    throw new Error(`error ${code}`);
  },
});

const one = (i) => `GET /get/k64-${i} HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n\r\n`;
const singles = Array.from({ length: 64 }, (_, i) => Buffer.from(one(i * 97)));
const batches = Array.from({ length: 64 }, (_, b) =>
  Buffer.from(Array.from({ length: 16 }, (_, i) => one((b * 16 + i) * 13)).join('')),
);
let n = 0;
function single() {
  parser.feed(singles[n++ & 63]);
  responder.out.flush(socket);
}
function pipelined() {
  parser.feed(batches[n++ & 63]);
  responder.out.flush(socket);
}
single();
pipelined();
if (bytesOut === 0) throw new Error('nothing answered');

new Benchmark.Suite('response')
  .add('GET 64 B: parse+route+store+answer (1 per batch)', single)
  .add('GET 64 B: parse+route+store+answer (16 per batch)', pipelined)
  .on('cycle', (event) => {
    const t = event.target;
    const perRequest = t.name.includes('16 per') ? 16 : 1;
    console.log(String(t));
    console.log(
      `BENCH ${JSON.stringify({ name: `${t.name} µs/request`, value: Number((1e6 / t.hz / perRequest).toFixed(4)) })}`,
    );
  })
  .run();
