import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Precondition,
  PreconditionKind,
  ReadResult,
  ReadStatus,
  SetOutcome,
  Store,
  type Reservation,
  type StoreOptions,
} from '../../dist/store/index.js';
import { CT, enc, pattern } from '../helpers/store-data.js';

const opts: StoreOptions = { memory: 32 << 20, maxKeys: 10_000, stripes: 4, maxValueSize: 16 << 20 };

function value(s: Store, key: string): Buffer | null {
  const r = new ReadResult();
  return s.get(enc(key), r) === ReadStatus.Miss ? null : Buffer.from(r.body);
}

function reserve(s: Store, key: string, n: number, ttl = 0): Reservation {
  const r = s.reserve(enc(key), n, CT, ttl);
  if (typeof r === 'number') assert.fail(`reserve gave ${r}`);
  return r;
}

/** Writes `v` into `r` in chunks of `step` bytes. */
function fill(r: Reservation, v: Uint8Array, step: number): void {
  for (let at = 0; at < v.length; at += step) r.write(v.subarray(at, Math.min(v.length, at + step)), at);
}

for (const n of [0, 5, 3000, 65_536, 200_000, 5 << 20]) {
  test(`reserve ${n} bytes, write in chunks, publish: byte-exact, invisible until published`, () => {
    const s = Store.create(opts);
    const base = s.stats().bytesUsed;
    const old = pattern(1000, 9);
    s.set(enc('k'), old, CT, 0);
    const v = pattern(n, n + 1);
    const r = reserve(s, 'k', n);
    assert.equal(s.stats().reservations, 1);
    assert.ok((s.stats().reservedBytes ?? 0) > 0);
    fill(r, v, 16_384 + 3);
    assert.deepEqual(value(s, 'k'), old, 'the old value stays readable and intact meanwhile');
    const back = Buffer.alloc(n);
    r.readInto(0, n, back, 0);
    assert.deepEqual(back, v);
    assert.equal(r.publish(n), SetOutcome.Replaced);
    assert.deepEqual(value(s, 'k'), v);
    const st = s.stats();
    assert.equal(st.reservations, 0);
    assert.equal(st.reservedBytes, 0);
    assert.equal(st.entries, 1);
    assert.equal(st.payloadBytes, 1 + n);
    assert.equal(s.delete(enc('k')), true);
    assert.equal(s.stats().bytesUsed, base, 'bytes used back to the baseline');
  });
}

test('abort frees the reservation and leaves the old value intact', () => {
  const s = Store.create(opts);
  const base = s.stats().bytesUsed;
  const old = pattern(300_000, 3);
  s.set(enc('k'), old, CT, 0);
  const used = s.stats().bytesUsed;
  const r = reserve(s, 'k', 4 << 20);
  fill(r, pattern(1 << 20, 4), 65_536);
  assert.ok(s.stats().bytesUsed > used);
  r.abort();
  r.abort();
  assert.equal(s.stats().bytesUsed, used);
  assert.equal(s.stats().reservations, 0);
  assert.deepEqual(value(s, 'k'), old);
  assert.throws(() => r.write(enc('x'), 0));
  s.delete(enc('k'));
  assert.equal(s.stats().bytesUsed, base);
});

test('writes are bounds-checked; grow keeps the bytes; publish shorter than reserved', () => {
  const s = Store.create(opts);
  const base = s.stats().bytesUsed;
  const r = reserve(s, 'k', 1000);
  assert.throws(() => r.write(new Uint8Array(10), 995), RangeError);
  assert.throws(() => r.write(new Uint8Array(1), -1), RangeError);
  const v = pattern(300_000, 5);
  r.write(v.subarray(0, 1000), 0);
  assert.equal(r.grow(70_000), true);
  r.write(v.subarray(1000, 70_000), 1000);
  assert.equal(r.grow(400_000), true);
  r.write(v.subarray(70_000), 70_000);
  assert.equal(s.stats().reservations, 1);
  assert.equal(r.publish(v.length), SetOutcome.Created);
  assert.deepEqual(value(s, 'k'), v);
  s.delete(enc('k'));
  assert.equal(s.stats().bytesUsed, base);
  assert.equal(s.stats().reservedBytes, 0);
});

test('publish checks the precondition under the lock; a failure frees the reservation', () => {
  const s = Store.create(opts);
  s.set(enc('k'), enc('old'), CT, 0);
  const used = s.stats().bytesUsed;
  const p = new Precondition();
  p.kind = PreconditionKind.IfNoneMatchAny;
  const r = reserve(s, 'k', 100_000);
  fill(r, pattern(100_000, 1), 10_000);
  assert.equal(r.publish(100_000, p), SetOutcome.PreconditionFailed);
  assert.equal(value(s, 'k')?.toString(), 'old');
  assert.equal(s.stats().bytesUsed, used);
  assert.equal(s.stats().reservations, 0);
});

test('TTL counts from publish; ETag changes; openReservation reads another handle', () => {
  const s = Store.create(opts);
  let now = Date.now();
  s.now = () => now;
  const r = reserve(s, 'k', 2000, 1);
  const v = pattern(2000, 8);
  r.write(v, 0);
  const other = s.openReservation(r.id);
  assert.ok(other !== null);
  const back = Buffer.alloc(2000);
  other.readInto(0, 2000, back, 0);
  assert.deepEqual(back, v);
  assert.throws(() => other.write(enc('x'), 0));
  now += 5000;
  assert.equal(r.publish(2000), SetOutcome.Created);
  assert.equal(s.openReservation(r.id === 0 ? other.id : r.id), null, 'published: no longer open');
  assert.deepEqual(value(s, 'k'), v);
  now += 1100;
  assert.equal(value(s, 'k'), null);
  assert.equal(s.openReservation(12345), null);
});

test('reserve evicts published entries but never another reservation; full of reservations: Busy', () => {
  const s = Store.create({ memory: 8 << 20, maxKeys: 1000, stripes: 4, maxValueSize: 8 << 20 });
  for (let i = 0; i < 40; i++) s.set(enc(`f${i}`), pattern(100_000, i + 1), CT, 0);
  const a = reserve(s, 'a', 3 << 20);
  const b = reserve(s, 'b', 3 << 20);
  assert.ok(s.stats().evictions > 0);
  const c = s.reserve(enc('c'), 3 << 20, CT, 0);
  assert.equal(c, SetOutcome.Busy, 'reservations in flight hold the budget');
  assert.equal(s.reserve(enc('d'), 8 << 20, CT, 0), SetOutcome.TooLarge, 'more pages than exist');
  a.abort();
  const c2 = reserve(s, 'c', 3 << 20);
  c2.write(pattern(3 << 20, 77), 0);
  b.write(pattern(3 << 20, 78), 0);
  assert.equal(c2.publish(3 << 20), SetOutcome.Created);
  assert.equal(b.publish(3 << 20), SetOutcome.Created);
  assert.deepEqual(value(s, 'c'), pattern(3 << 20, 77));
  assert.deepEqual(value(s, 'b'), pattern(3 << 20, 78));
  assert.ok(s.stats().bytesUsed <= s.stats().memoryBudget);
});

test('reclaimOwner frees a dead owner’s reservations, not the live ones', () => {
  const sup = Store.create(opts);
  const dead = Store.attach(sup.sab, 5);
  const live = Store.attach(sup.sab, 6);
  const base = sup.stats().bytesUsed;
  const d1 = dead.reserve(enc('x'), 1 << 20, CT, 0);
  const d2 = dead.reserve(enc('y'), 300, CT, 0);
  const l1 = live.reserve(enc('z'), 200_000, CT, 0);
  assert.ok(typeof d1 !== 'number' && typeof d2 !== 'number' && typeof l1 !== 'number');
  assert.equal(sup.stats().reservations, 3);
  sup.reclaimOwner(5);
  assert.equal(sup.stats().reservations, 1);
  const v = pattern(200_000, 2);
  l1.write(v, 0);
  assert.equal(l1.publish(200_000), SetOutcome.Created);
  assert.deepEqual(value(sup, 'z'), v);
  assert.equal(sup.stats().reservedBytes, 0);
  live.delete(enc('z'));
  assert.equal(sup.stats().bytesUsed, base);
});
