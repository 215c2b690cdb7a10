import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GetSelector } from '../../dist/http/conditional.js';
import { RangeKind } from '../../dist/http/range.js';
import {
  Precondition,
  PreconditionKind,
  ReadResult,
  ReadStatus,
  Store,
  type StoreOptions,
} from '../../dist/store/index.js';
import { CT, enc, pattern } from '../helpers/store-data.js';

const MiB = 1 << 20;
const opts: StoreOptions = { memory: 48 * MiB, maxKeys: 10_000, stripes: 8, maxValueSize: 16 * MiB };

function pinned(s: Store, key: string, setup?: (r: ReadResult) => void): ReadResult {
  const r = new ReadResult();
  r.wantView = true;
  setup?.(r);
  assert.notEqual(s.get(enc(key), r), ReadStatus.Miss);
  return r;
}

const joined = (r: ReadResult): Buffer => Buffer.concat(r.views.map((v) => Buffer.from(v)));

test('a large value leaves as pinned views; overwrite and delete unlink it, the last unpin frees it', () => {
  const s = Store.create(opts);
  const base = s.stats().bytesUsed;
  const v1 = pattern(10 * MiB + 123, 1);
  s.set(enc('k'), v1, CT, 0);
  const r = pinned(s, 'k');
  assert.ok(r.pin > 0);
  assert.equal(r.body.length, 0);
  assert.ok(r.views.every((x) => x.buffer === s.sab));
  assert.ok(joined(r).equals(v1));
  const second = pinned(s, 'k');
  const v2 = pattern(10 * MiB, 2);
  s.set(enc('k'), v2, CT, 0);
  assert.ok(joined(r).equals(v1), 'the version being sent is intact after an overwrite');
  assert.ok(Buffer.from(pinned(s, 'k', (x) => (x.wantView = false)).body).equals(v2));
  const usedWithPin = s.stats().bytesUsed;
  assert.ok(usedWithPin >= base + 20 * MiB, 'pinned bytes count in bytes used');
  s.delete(enc('k'));
  assert.ok(joined(r).equals(v1));
  s.unpin(r.pin);
  assert.ok(joined(second).equals(v1), 'still pinned once more');
  assert.ok(s.stats().bytesUsed > base + 10 * MiB);
  s.unpin(second.pin);
  assert.equal(s.stats().bytesUsed, base, 'memory returns after the last unpin');
  assert.throws(() => s.unpin(second.pin), RangeError);
});

test('eviction and expiry of a pinned value keep its bytes until unpinned', () => {
  const s = Store.create(opts);
  let now = Date.now();
  s.now = () => now;
  const base = s.stats().bytesUsed;
  const v = pattern(8 * MiB, 3);
  s.set(enc('k'), v, CT, 1);
  const r = pinned(s, 'k');
  now += 2000;
  assert.equal(s.get(enc('k'), new ReadResult()), ReadStatus.Miss, 'expired');
  const r2 = (s.set(enc('e'), v, CT, 0), pinned(s, 'e'));
  // Eviction samples stripes at random and spares a visited entry once, so how many values it
  // takes to evict 'e' varies from store to store: write until it goes, bounded.
  let written = 0;
  // (asked with an If-Match: * check, which is not a hit: a get would mark it visited again)
  const exists = new Precondition();
  exists.kind = PreconditionKind.IfMatchAny;
  while (written < 200 && (written < 20 || s.check(enc('e'), exists))) {
    s.set(enc(`f${written}`), pattern(4 * MiB, written + 10), CT, 0);
    written++;
  }
  assert.ok(s.stats().evictions > 0);
  assert.equal(s.get(enc('e'), new ReadResult()), ReadStatus.Miss, `evicted (after ${written} values)`);
  assert.ok(joined(r).equals(v));
  assert.ok(joined(r2).equals(v));
  assert.ok(s.stats().bytesUsed <= s.stats().memoryBudget);
  s.unpin(r.pin);
  s.unpin(r2.pin);
  for (let i = 0; i < written; i++) s.delete(enc(`f${i}`));
  assert.equal(s.stats().bytesUsed, base);
});

test('small values are copied, never pinned; a range pins only its span', () => {
  const s = Store.create(opts);
  s.set(enc('small'), pattern(60_000, 4), CT, 0);
  const r = pinned(s, 'small');
  assert.equal(r.pin, 0);
  assert.equal(r.views.length, 0);
  assert.ok(Buffer.from(r.body).equals(pattern(60_000, 4)));
  const v = pattern(3 * MiB, 5);
  s.set(enc('big'), v, CT, 0);
  const sel = new GetSelector();
  sel.range.kind = RangeKind.FromTo;
  sel.range.a = 100_000;
  sel.range.b = 2_000_000;
  const p = pinned(s, 'big', (x) => (x.select = sel));
  assert.equal(p.status, ReadStatus.Partial);
  assert.ok(joined(p).equals(v.subarray(100_000, 2_000_001)));
  s.unpin(p.pin);
});

test('reclaimOwner drops a dead thread’s pins and frees what only they kept', () => {
  const sup = Store.create(opts);
  const dead = Store.attach(sup.sab, 5);
  const live = Store.attach(sup.sab, 6);
  const base = sup.stats().bytesUsed;
  const v = pattern(5 * MiB, 6);
  live.set(enc('a'), v, CT, 0);
  live.set(enc('b'), v, CT, 0);
  const rd = new ReadResult();
  rd.wantView = true;
  dead.get(enc('a'), rd);
  const rl = pinned(live, 'b');
  const rd2 = new ReadResult();
  rd2.wantView = true;
  dead.get(enc('b'), rd2);
  assert.ok(rd.pin > 0 && rd2.pin > 0);
  live.delete(enc('a'));
  live.delete(enc('b'));
  sup.reclaimOwner(5);
  assert.ok(joined(rl).equals(v), 'a live thread’s pin is untouched');
  assert.ok(sup.stats().bytesUsed < base + 10 * MiB, "'a' freed: only the dead thread pinned it");
  live.unpin(rl.pin);
  assert.equal(sup.stats().bytesUsed, base);
});
