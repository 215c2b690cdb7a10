import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GetSelector } from '../../dist/http/conditional.js';
import { RangeKind } from '../../dist/http/range.js';
import { ReadResult, ReadStatus, SetOutcome, Store, type StoreOptions } from '../../dist/store/index.js';
import { CT, enc, pattern } from '../helpers/store-data.js';

// The store's copies pick a method by length and by how source and destination are aligned
// (word loops, unaligned word stores, Buffer#copy or TypedArray#set, a bounce buffer): every
// length around the thresholds, at every destination skew, in and out, must give the same bytes.

const opts: StoreOptions = { memory: 32 << 20, maxKeys: 4096, stripes: 4, maxValueSize: 1 << 20 };
const LENGTHS = [
  0, 1, 3, 4, 7, 8, 9, 15, 16, 31, 32, 33, 63, 64, 65, 127, 255, 256, 511, 512, 513, 1000, 4095, 4096, 4097,
  16384, 65535, 65536, 65537, 200_001,
];

function stored(o: SetOutcome): void {
  assert.ok(o === SetOutcome.Created || o === SetOutcome.Replaced, `set: outcome ${o}`);
}

test('values of every copy path read back intact at every destination skew', () => {
  const store = Store.create(opts);
  // three destinations in turn: the copier caches views of the last two it saw
  const targets = [Buffer.allocUnsafeSlow(300_000), Buffer.allocUnsafe(300_000), new Uint8Array(300_000)];
  const r = new ReadResult();
  r.wantBodyView = true;
  let round = 0;
  for (const n of LENGTHS) {
    const key = enc(`k${n}`);
    const value = pattern(n, n + 7);
    stored(store.set(key, value, CT, 0));
    for (let skew = 0; skew < 8; skew++) {
      const t = targets[round++ % targets.length]!;
      r.reset();
      r.wantBodyView = true;
      r.target = t;
      r.targetOffset = 8 + skew;
      assert.equal(store.get(key, r), ReadStatus.Hit, `n=${n}`);
      assert.equal(r.bodyInTarget, n !== 0);
      assert.equal(r.bodyLength, n);
      assert.ok(Buffer.from(t.subarray(8 + skew, 8 + skew + n)).equals(value), `n=${n} skew=${skew}`);
    }
    // and into a fresh Buffer (no target)
    r.reset();
    r.target = null;
    assert.equal(store.get(key, r), ReadStatus.Hit);
    assert.ok(Buffer.from(r.body).equals(value), `n=${n} fresh`);
  }
});

test('uploads from misaligned views and ranges from misaligned offsets copy exactly', () => {
  const store = Store.create(opts);
  const big = pattern(300_000, 99);
  const r = new ReadResult();
  const t = Buffer.allocUnsafeSlow(300_000);
  for (const n of LENGTHS) {
    for (const srcSkew of [0, 1, 3, 4, 5]) {
      const key = enc(`u${n}-${srcSkew}`);
      const value = big.subarray(srcSkew, srcSkew + n);
      stored(store.set(key, value, CT, 0));
      for (const [a, dstSkew] of [
        [0, 1],
        [1, 0],
        [3, 2],
        [5, 5],
      ] as const) {
        if (a >= n) continue;
        const sel = new GetSelector();
        sel.range.kind = RangeKind.FromTo;
        sel.range.a = a;
        sel.range.b = n - 1;
        r.reset();
        r.select = sel;
        r.target = t;
        r.targetOffset = 16 + dstSkew;
        const st = store.get(key, r);
        assert.ok(st === ReadStatus.Hit || st === ReadStatus.Partial, `n=${n} a=${a}: ${st}`);
        assert.equal(r.bodyLength, n - a);
        assert.ok(
          Buffer.from(t.subarray(16 + dstSkew, 16 + dstSkew + n - a)).equals(value.subarray(a)),
          `n=${n} srcSkew=${srcSkew} a=${a} dstSkew=${dstSkew}`,
        );
      }
      store.delete(key);
    }
  }
});
