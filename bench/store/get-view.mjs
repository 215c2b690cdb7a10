#!/usr/bin/env node
// Store get hits into a caller target whose offset moves every request (an output arena's, the
// HTTP layer's case), with and without the body view (`ReadResult.wantBodyView`), next to a fixed
// offset (the view memo hits) and a set: interleaved tight loops, best of 21 rounds, so that a
// loaded machine's noise mostly falls out. `--dist DIR` runs another build (a before/after pair).
//   node bench/store/get-view.mjs [--dist dist]
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const i = process.argv.indexOf('--dist');
const dist = path.resolve(i > 0 ? process.argv[i + 1] : new URL('../../dist', import.meta.url).pathname);
const { ReadResult, Store } = await import(pathToFileURL(path.join(dist, 'store/index.js')).href);

const KEYS = 10_000;
const CT = Buffer.from('application/octet-stream');
const store = Store.create({ memory: 256 << 20, maxKeys: 100_000, stripes: 256, maxValueSize: 16 << 20 });
const out = new ReadResult();
const arena = Buffer.allocUnsafe(64 * 1024);
let sink = 0;
const cases = {};
for (const size of [64, 4096]) {
  const value = Buffer.alloc(size, 0x61);
  const keys = Array.from({ length: KEYS }, (_, k) => Buffer.from(`${size}:bench/key-${k}`));
  for (const k of keys) store.set(k, value, CT, 0);
  let at = 0;
  cases[`get ${size} B, fixed target`] = (k) => {
    out.target = arena;
    out.targetOffset = 0;
    store.get(keys[k % KEYS], out);
    sink ^= out.bodyLength;
  };
  cases[`get ${size} B, moving target`] = (k) => {
    out.target = arena;
    out.targetOffset = at = (at + 72) % 32768;
    store.get(keys[k % KEYS], out);
    sink ^= out.body.length;
  };
  cases[`get ${size} B, moving target, wantBodyView false`] = (k) => {
    out.target = arena;
    out.targetOffset = at = (at + 72) % 32768;
    out.wantBodyView = false;
    store.get(keys[k % KEYS], out);
    out.wantBodyView = true;
    sink ^= out.bodyLength;
  };
  cases[`set ${size} B`] = (k) => {
    sink ^= store.set(keys[k % KEYS], value, CT, 0);
  };
}
const best = {};
const N = 100_000;
for (let round = 0; round < 21; round++) {
  for (const [name, fn] of Object.entries(cases)) {
    const t = process.hrtime.bigint();
    for (let k = 0; k < N; k++) fn(k);
    const ns = Number(process.hrtime.bigint() - t) / N;
    best[name] = Math.min(best[name] ?? Infinity, ns);
  }
}
console.log(`${dist} (Node ${process.version}), best of 21 rounds of ${N}:`);
for (const [name, ns] of Object.entries(best)) {
  console.log(`  ${name}: ${ns.toFixed(0)} ns`);
  console.log(
    `BENCH ${JSON.stringify({ name: `store ${name} (ns, best of 21)`, value: Number(ns.toFixed(1)) })}`,
  );
}
if (sink === 0.5) console.log(sink);
