import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { ReadResult, ReadStatus, Store } from '../../dist/store/index.js';
import { holdStripeLockOf, leakAllocation, stripeOfKey } from '../helpers/store-hooks.js';
import type { StressJob, StressReport } from './store-stress/worker.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const CT = enc('text/plain');

test('a worker killed while holding a stripe lock: reclaimOwner resets that stripe only', async () => {
  const store = Store.create({ memory: 64 << 20, maxKeys: 100_000, stripes: 8, maxValueSize: 1 << 20 });
  for (let i = 0; i < 2000; i++) store.set(enc(`pre${i}`), enc(`value-${i}`), CT, 0);
  const victim = enc('pre0');
  const victimStripe = stripeOfKey(store, victim);
  const before = store.stats();

  const holder = new Worker(new URL('./store-stress/holder.js', import.meta.url), {
    workerData: { sab: store.sab, ownerId: 7, victim, leakBytes: 3 << 20 },
  });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('holder never locked')), 10_000);
    holder.once('message', () => {
      clearTimeout(t);
      resolve();
    });
    holder.once('error', reject);
  });
  assert.ok(store.stats().bytesUsed >= before.bytesUsed + (3 << 20), 'leak is visible');

  // another worker keeps working on every stripe, including the locked one
  const ctl = new Int32Array(new SharedArrayBuffer(8));
  Atomics.store(ctl, 1, 1);
  const job: StressJob = {
    sab: store.sab,
    ctl: ctl.buffer as SharedArrayBuffer,
    ownerId: 8,
    seed: 42,
    durationMs: 1500,
    sharedKeys: 500,
    privateKeys: 100,
    expectNoLoss: false,
    largeEvery: 0,
  };
  const other = new Worker(new URL('./store-stress/worker.js', import.meta.url), { workerData: job });
  const report = new Promise<StressReport>((resolve, reject) => {
    other.once('message', resolve);
    other.once('error', reject);
  });

  await new Promise((r) => setTimeout(r, 200));
  await holder.terminate();
  assert.equal(store.reclaimOwner(7), 1);
  assert.equal(store.reclaimOwner(7), 0, 'idempotent');

  const rep = await report;
  await other.terminate();
  assert.deepEqual(rep.errors, []);
  assert.ok(rep.ops > 1000, `other worker kept working: ${rep.ops} ops`);

  const r = new ReadResult();
  let lost = 0;
  for (let i = 0; i < 2000; i++) {
    const key = enc(`pre${i}`);
    const st = store.get(key, r);
    if (stripeOfKey(store, key) === victimStripe) {
      if (st === ReadStatus.Miss) lost++;
      else assert.fail(`key pre${i} of the reset stripe survived`);
    } else {
      assert.equal(st, ReadStatus.Hit, `pre${i} intact`);
      assert.equal(Buffer.from(r.body).toString(), `value-${i}`);
    }
  }
  assert.ok(lost > 0);
  // the leaked memory is back in the budget; the stripe works again
  const after = store.stats();
  assert.ok(after.bytesUsed < before.bytesUsed + (3 << 20), `leak reclaimed: ${after.bytesUsed}`);
  store.set(victim, enc('again'), CT, 0);
  store.get(victim, r);
  assert.equal(Buffer.from(r.body).toString(), 'again');
  // the dead owner's stripe lock is really free: the supervisor can delete in it
  assert.equal(store.delete(victim), true);
});

test('reclaimOwner takes over an allocator lock held by a dead owner and rebuilds', () => {
  const store = Store.create({ memory: 16 << 20, maxKeys: 10_000, stripes: 4, maxValueSize: 1 << 20 });
  for (let i = 0; i < 500; i++) store.set(enc(`k${i}`), new Uint8Array(300).fill(i & 255), CT, 0);
  const used = store.stats().bytesUsed;
  const dead = Store.attach(store.sab, 5);
  const s = holdStripeLockOf(dead, enc('k1'));
  leakAllocation(dead, enc('k1'), 200_000);
  // simulate death inside the allocator: grab its lock word as owner 5
  const i32 = new Int32Array(store.sab);
  assert.equal(Atomics.compareExchange(i32, 32, 0, 6), 0);
  assert.equal(store.reclaimOwner(5), 1);
  assert.equal(Atomics.load(i32, 32), 0);
  assert.ok(store.stats().bytesUsed <= used);
  const r = new ReadResult();
  for (let i = 0; i < 500; i++) {
    const key = enc(`k${i}`);
    const st = store.get(key, r);
    if (stripeOfKey(store, key) === s) assert.equal(st, ReadStatus.Miss);
    else assert.equal(r.body[0], i & 255);
  }
  for (let i = 0; i < 5000; i++) store.set(enc(`n${i}`), new Uint8Array(1000), CT, 0);
  assert.ok(store.stats().bytesUsed <= 16 << 20);
});
