import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { ReadResult, ReadStatus, Store, type StoreOptions } from '../../dist/store/index.js';
import type { StressJob, StressReport } from './store-stress/worker.js';
import { verify } from './store-stress/common.js';

const WORKER = new URL('./store-stress/worker.js', import.meta.url);
const THREADS = 3;

function runWorker(job: StressJob): { worker: Worker; done: Promise<StressReport> } {
  const worker = new Worker(WORKER, { workerData: job });
  const done = new Promise<StressReport>((resolve, reject) => {
    worker.once('message', (m: StressReport) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited ${code} without a report`)));
  });
  return { worker, done };
}

async function barrier(ctl: Int32Array, n: number): Promise<void> {
  const until = Date.now() + 20_000;
  while (Atomics.load(ctl, 0) < n) {
    if (Date.now() > until) throw new Error('workers did not reach the barrier');
    await new Promise((r) => setTimeout(r, 5));
  }
  Atomics.store(ctl, 1, 1);
  Atomics.notify(ctl, 1);
}

/** Sums what every possible key holds and checks it against stats (run with no writers). */
function auditStore(store: Store, sharedKeys: number, privateKeys: number): void {
  const r = new ReadResult();
  const enc = new TextEncoder();
  let entries = 0;
  let payload = 0;
  const ids: number[] = [];
  for (let i = 0; i < sharedKeys; i++) ids.push(i);
  for (let w = 1; w <= THREADS; w++) for (let i = 0; i < privateKeys; i++) ids.push(w * 1_000_000 + i);
  for (const id of ids) {
    const key = enc.encode(`k${id}`);
    if (store.get(key, r) === ReadStatus.Hit) {
      entries++;
      payload += key.length + r.totalLength;
      assert.equal(verify(r.body, id), null);
    }
  }
  const st = store.stats();
  assert.equal(st.entries, entries, 'entries match a full scan');
  assert.equal(st.payloadBytes, payload, 'payload bytes match a full scan');
  assert.ok(st.bytesUsed <= st.memoryBudget);
}

async function stress(
  opts: StoreOptions,
  expectNoLoss: boolean,
  largeEvery: number,
  seed: number,
): Promise<void> {
  const store = Store.create(opts);
  const baseline = store.stats().bytesUsed;
  const ctl = new Int32Array(new SharedArrayBuffer(8));
  const sharedKeys = 300;
  const privateKeys = 200;
  const runs = [];
  for (let w = 1; w <= THREADS; w++) {
    runs.push(
      runWorker({
        sab: store.sab,
        ctl: ctl.buffer as SharedArrayBuffer,
        ownerId: w,
        seed: seed * 7919 + w,
        durationMs: 1200,
        sharedKeys,
        privateKeys,
        expectNoLoss,
        largeEvery,
      }),
    );
  }
  let maxUsed = 0;
  let reports: StressReport[] = [];
  const poll = setInterval(() => {
    maxUsed = Math.max(maxUsed, store.stats().bytesUsed);
  }, 10);
  try {
    await barrier(ctl, THREADS);
    reports = await Promise.all(runs.map((r) => r.done));
    for (const rep of reports) {
      assert.deepEqual(rep.errors, [], `worker errors (stripes ${opts.stripes})`);
      // progress from every thread, not a throughput floor: a loaded machine may run a thread
      // for only a few of its 1.2 s, but a thread stuck on a lock or crashed makes none
      assert.ok(rep.ops > 0, `worker ${reports.indexOf(rep) + 1} made no progress`);
    }
    assert.ok(reports.reduce((n, r) => n + r.hits, 0) > 0, 'some reads hit');
  } finally {
    clearInterval(poll);
    for (const r of runs) await r.worker.terminate();
  }
  assert.ok(maxUsed <= opts.memory, `budget exceeded: ${maxUsed}`);
  const st = store.stats();
  if (expectNoLoss) assert.equal(st.evictions, 0, 'no evictions with a big budget');
  else assert.ok(st.evictions > 0, 'small budget evicts');
  auditStore(store, sharedKeys, privateKeys);
  const total = (k: keyof StressReport): number => reports.reduce((n, r) => n + (r[k] as number), 0);
  if (opts.memory > 64 << 20) {
    assert.ok(total('pinned') > 0, 'pinned reads happened');
    assert.ok(total('reserved') > 0 && total('aborted') > 0, 'reservations happened');
  }
  // no leaks: deleting every key brings bytes used back to the empty store's
  const enc = new TextEncoder();
  for (let i = 0; i < sharedKeys; i++) store.delete(enc.encode(`k${i}`));
  for (let w = 1; w <= THREADS; w++)
    for (let i = 0; i < privateKeys; i++) store.delete(enc.encode(`k${w * 1_000_000 + i}`));
  const after = store.stats();
  assert.equal(after.entries, 0);
  assert.equal(after.reservations, 0);
  assert.equal(after.bytesUsed, baseline, 'bytes used back to its baseline');
}

for (const stripes of [1, 2, 256]) {
  test(`stress: ${THREADS} threads, stripes ${stripes}, big budget: no torn reads, no lost keys`, async () => {
    await stress({ memory: 128 << 20, maxKeys: 100_000, stripes, maxValueSize: 1 << 20 }, true, 50, stripes);
  });
}

test(`stress: ${THREADS} threads, stripes 2, small budget with large values: evicts, never torn`, async () => {
  await stress({ memory: 12 << 20, maxKeys: 100_000, stripes: 2, maxValueSize: 1 << 20 }, false, 10, 99);
});

test(`stress: ${THREADS} threads, stripes 256, tiny budget: evicts across stripes, never torn`, async () => {
  await stress({ memory: 8 << 20, maxKeys: 20_000, stripes: 256, maxValueSize: 1 << 20 }, false, 5, 7);
});
