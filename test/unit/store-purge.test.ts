// Prefix purge in the store: bounded steps per stripe that resume exactly, even when other writes
// and deletes move index slots between the steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PurgeProgress, ReadResult, ReadStatus, Store, type StoreOptions } from '../../dist/store/index.js';
import { xorshift } from './store-stress/common.js';

const CT = new TextEncoder().encode('application/octet-stream');
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function has(store: Store, key: Uint8Array): boolean {
  const r = new ReadResult();
  r.wantBody = false;
  return store.get(key, r) === ReadStatus.Hit;
}

/** Runs a purge to its end, `budget` slots a step, calling `between` after every step. */
function purgeAll(store: Store, prefix: Uint8Array, budget: number, between: () => void = () => {}): number {
  const p = new PurgeProgress();
  let purged = 0;
  for (let s = 0; s < p.stripes; s++) {
    p.cursor = 0;
    p.done = false;
    while (!p.done) {
      store.purgePrefix(prefix, s, p.cursor, budget, p);
      assert.ok(p.examined >= 1, 'every step looks at a slot at least');
      purged += p.purged;
      between();
    }
  }
  return purged;
}

test('removes exactly the keys that start with the prefix bytes, in steps of one slot', () => {
  const store = Store.create({ memory: 8 << 20, maxKeys: 4000, stripes: 4, maxValueSize: 1 << 20 });
  const keys: Buffer[] = [];
  for (let i = 0; i < 500; i++)
    keys.push(b(`videos/42/chunk-${i}`), b(`videos/43/chunk-${i}`), b(`videos/4x${i}`));
  keys.push(b('videos/42'), b('videos/42/'), b('videos/'));
  for (const k of keys) store.set(k, k, CT, 0);
  const prefix = b('videos/42/');
  const expected = keys.filter((k) => k.subarray(0, prefix.length).equals(prefix)).length;
  assert.equal(expected, 501);
  assert.equal(purgeAll(store, prefix, 1), expected);
  for (const k of keys)
    assert.equal(has(store, k), !k.subarray(0, prefix.length).equals(prefix), k.toString());
  assert.equal(store.stats().entries, keys.length - expected);
  assert.equal(purgeAll(store, prefix, 1), 0);
});

test('binary prefixes compare bytes: 0x00, 0xff, / and % are ordinary bytes', () => {
  const store = Store.create({ memory: 8 << 20, maxKeys: 1000, stripes: 2, maxValueSize: 1 << 20 });
  const keys = [
    Buffer.from([0xff, 0x00, 0x2f, 1]),
    Buffer.from([0xff, 0x00, 0x2f]),
    Buffer.from([0xff, 0x00]),
    Buffer.from([0xff, 0x01, 0x2f, 1]),
    b('%FF%00/x'), // the escaped spelling is a different key
    Buffer.from([0xfe, 0x00, 0x2f]),
  ];
  for (const k of keys) store.set(k, k, CT, 0);
  assert.equal(purgeAll(store, Buffer.from([0xff, 0x00]), 1024), 3);
  assert.deepEqual(
    keys.map((k) => has(store, k)),
    [false, false, false, true, true, true],
  );
  // A prefix longer than a key never matches it.
  assert.equal(purgeAll(store, Buffer.from([0xff, 0x01, 0x2f, 1, 0]), 1024), 0);
  assert.equal(has(store, keys[3]!), true);
});

test('an expired match is removed as an expiration, not counted as purged', () => {
  const store = Store.create({ memory: 8 << 20, maxKeys: 1000, stripes: 2, maxValueSize: 1 << 20 });
  let now = Date.now();
  store.now = () => now;
  store.set(b('p/live'), b('x'), CT, 0);
  store.set(b('p/short'), b('x'), CT, 1);
  now += 5000;
  const before = store.stats().expirations;
  assert.equal(purgeAll(store, b('p/'), 64), 1);
  assert.equal(store.stats().expirations, before + 1);
  assert.equal(store.stats().entries, 0);
});

test('steps resume exactly while other keys are written and deleted between them (one stripe, crowded index)', () => {
  // One stripe at ~85% index load: long runs of occupied slots, so deletes between steps shift
  // entries backwards across the cursor (the case a naive resume would miss).
  const opts: StoreOptions = { memory: 32 << 20, maxKeys: 4000, stripes: 1, maxValueSize: 1 << 20 };
  for (const seed of [1, 2, 3, 4, 5]) {
    const store = Store.create(opts);
    const rnd = xorshift(seed);
    const victims: Buffer[] = [];
    const others: Buffer[] = [];
    for (let i = 0; i < 2000; i++) victims.push(b(`v/${seed}/${i}`));
    for (let i = 0; i < 2000; i++) others.push(b(`o/${seed}/${i}`));
    for (let i = 0; i < 2000; i++) {
      store.set(victims[i]!, victims[i]!, CT, 0);
      store.set(others[i]!, others[i]!, CT, 0);
    }
    const live = new Set(others.map((_, i) => i));
    let extra = 0;
    const churn = (): void => {
      // delete and re-add other keys: deletes shift slots backwards, inserts fill holes
      for (let k = 0; k < 3; k++) {
        const i = Math.floor(rnd() * others.length);
        if (live.has(i)) {
          assert.equal(store.delete(others[i]!), true);
          live.delete(i);
        } else {
          store.set(others[i]!, others[i]!, CT, 0);
          live.add(i);
        }
      }
      extra++;
    };
    const budget = 1 + Math.floor(rnd() * 16);
    assert.equal(purgeAll(store, b('v/'), budget, churn), victims.length, `seed ${seed}`);
    assert.ok(extra > 100);
    for (const k of victims) assert.equal(has(store, k), false, k.toString());
    for (let i = 0; i < others.length; i++) assert.equal(has(store, others[i]!), live.has(i), `other ${i}`);
    assert.equal(store.stats().entries, live.size);
  }
});

test('a step holds the lock for a bounded run: at least the budget, then up to the next empty slot', () => {
  const store = Store.create({ memory: 16 << 20, maxKeys: 20_000, stripes: 1, maxValueSize: 1 << 20 });
  for (let i = 0; i < 10_000; i++) store.set(b(`k/${i}`), b('x'), CT, 0);
  const p = new PurgeProgress();
  let steps = 0;
  while (!p.done) {
    store.purgePrefix(b('nothing/'), 0, p.cursor, 256, p);
    steps++;
    assert.equal(p.purged, 0);
    assert.ok(p.examined >= 256 || p.done, `step of ${p.examined} slots`);
    assert.ok(p.examined < 256 + 2_000, `step of ${p.examined} slots`);
  }
  assert.ok(steps > 10, `${steps} steps`);
  assert.equal(store.stats().entries, 10_000);
});

test('purgePrefix refuses an empty or over-long prefix and a stripe out of range', () => {
  const store = Store.create({ memory: 8 << 20, maxKeys: 1000, stripes: 2, maxValueSize: 1 << 20 });
  const p = new PurgeProgress();
  assert.throws(() => store.purgePrefix(new Uint8Array(0), 0, 0, 10, p), RangeError);
  assert.throws(() => store.purgePrefix(new Uint8Array(1025), 0, 0, 10, p), RangeError);
  assert.throws(() => store.purgePrefix(b('x'), 2, 0, 10, p), RangeError);
  assert.throws(() => store.purgePrefix(b('x'), -1, 0, 10, p), RangeError);
  store.purgePrefix(b('x'), 1, 0, 10, p);
  assert.equal(p.stripes, 2);
});
