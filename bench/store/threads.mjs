#!/usr/bin/env node
// Two-thread throughput of the shared Store: 80% get / 20% set of 64 B values over 10,000 keys,
// each thread on its own event loop, --stripes 1 (one global lock, the baseline) against 256,
// interleaved in the same run. Reads the built dist/: `npm run build`, then
//   node bench/store/threads.mjs [--threads 2] [--seconds 2] [--repeat 3]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ReadResult, Store } from '../../dist/store/index.js';

const KEYS = 10_000;
const keyOf = (i) => Buffer.from(`bench/key-${String(i).padStart(6, '0')}`);

if (!isMainThread) {
  const { sab, ownerId, ctl, ms, seed } = workerData;
  const store = Store.attach(sab, ownerId);
  const keys = Array.from({ length: KEYS }, (_, i) => keyOf(i));
  const value = Buffer.alloc(64, 0x62);
  const ct = Buffer.from('application/octet-stream');
  const out = new ReadResult();
  const arena = Buffer.allocUnsafe(65536);
  const c = new Int32Array(ctl);
  let x = seed;
  Atomics.add(c, 0, 1);
  while (Atomics.load(c, 1) === 0) Atomics.wait(c, 1, 0, 50);
  let ops = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (let i = 0; i < 256; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const k = keys[(x >>> 0) % KEYS];
      if ((x & 1023) < 205) store.set(k, value, ct, 0);
      else {
        out.target = arena;
        out.targetOffset = 0;
        store.get(k, out);
      }
    }
    ops += 256;
  }
  parentPort.postMessage({ ops, contended: store.contendedLocks });
} else {
  const arg = (name, d) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  const threads = arg('--threads', 2);
  const seconds = arg('--seconds', 2);
  const repeat = arg('--repeat', 3);

  async function run(stripes, nThreads = threads) {
    const store = Store.create({ memory: 256 << 20, maxKeys: 100_000, stripes, maxValueSize: 1 << 20 });
    const v = Buffer.alloc(64, 0x61);
    const ct = Buffer.from('application/octet-stream');
    for (let i = 0; i < KEYS; i++) store.set(keyOf(i), v, ct, 0);
    const ctl = new SharedArrayBuffer(8);
    const c = new Int32Array(ctl);
    const ws = [];
    for (let t = 1; t <= nThreads; t++) {
      const w = new Worker(new URL(import.meta.url), {
        workerData: { sab: store.sab, ownerId: t, ctl, ms: seconds * 1000, seed: 0x9e3779b9 ^ t },
      });
      ws.push(new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject))));
    }
    while (Atomics.load(c, 0) < nThreads) await new Promise((r) => setTimeout(r, 5));
    const t0 = process.hrtime.bigint();
    Atomics.store(c, 1, 1);
    Atomics.notify(c, 1);
    const reports = await Promise.all(ws);
    const ops = reports.reduce((a, b) => a + b.ops, 0);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    contended[stripes === 1 ? 1 : nThreads === 1 ? 'single' : 256] +=
      reports.reduce((a, b) => a + b.contended, 0) / ops;
    return ops / s;
  }

  const res = { 1: [], 256: [], single: [] };
  const contended = { 1: 0, 256: 0, single: 0 };
  for (let r = 0; r < repeat; r++) {
    for (const stripes of r % 2 ? [256, 1, 'single'] : ['single', 1, 256]) {
      const v = stripes === 'single' ? await run(256, 1) : await run(stripes);
      res[stripes].push(v);
      const what = stripes === 'single' ? '1 thread, stripes 256' : `${threads} threads, stripes ${stripes}`;
      console.log(`repeat ${r + 1} ${what}: ${(v / 1e6).toFixed(3)} M ops/s`);
    }
  }
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const m1 = median(res[1]);
  const m256 = median(res[256]);
  console.log(
    `BENCH ${JSON.stringify({ name: `store ${threads} threads 80/20 64 B, stripes 1 (M ops/s)`, value: Number((m1 / 1e6).toFixed(3)) })}`,
  );
  console.log(
    `BENCH ${JSON.stringify({ name: `store ${threads} threads 80/20 64 B, stripes 256 (M ops/s)`, value: Number((m256 / 1e6).toFixed(3)) })}`,
  );
  console.log(
    `BENCH ${JSON.stringify({ name: 'stripes 256 / stripes 1 throughput', value: Number((m256 / m1).toFixed(2)) })}`,
  );
  for (const k of [1, 256]) {
    console.log(
      `BENCH ${JSON.stringify({ name: `${threads} threads stripes ${k}: lock acquisitions that had to spin or wait (%)`, value: Number(((contended[k] / repeat) * 100).toFixed(3)) })}`,
    );
  }
  const m0 = median(res.single);
  console.log(
    `BENCH ${JSON.stringify({ name: 'store 1 thread 80/20 64 B (M ops/s)', value: Number((m0 / 1e6).toFixed(3)) })}`,
  );
  console.log(
    `BENCH ${JSON.stringify({ name: `${threads} threads stripes 256 / 1 thread`, value: Number((m256 / m0).toFixed(2)) })}`,
  );
}
