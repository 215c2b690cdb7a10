// issue 9: a store lock timeout thrown between a set's slot allocation and its linking leaked
// the slot (nothing referenced it, and it stayed counted in bytes used forever).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadResult, SetOutcome, Store, StoreLockTimeoutError } from '../../dist/store/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const CT = enc('application/octet-stream');

test('a lock timeout while a big set allocates its pages frees the slot and pages it had', () => {
  const s = Store.create({ memory: 8 << 20, maxKeys: 1000, stripes: 4, maxValueSize: 4 << 20 });
  const base = s.stats().bytesUsed;
  const ev = s.eviction;
  const real = ev.allocPageLocked.bind(ev);
  let calls = 0;
  // the third page allocation times out, as it would when the allocator lock's holder hangs
  ev.allocPageLocked = (stripe: number, owner: number): number => {
    if (++calls === 3) throw new StoreLockTimeoutError('allocator', 2);
    return real(stripe, owner);
  };
  assert.throws(() => s.set(enc('big'), new Uint8Array(300_000), CT, 0), StoreLockTimeoutError);
  ev.allocPageLocked = real;
  assert.equal(s.stats().bytesUsed, base, 'slot and pages freed');
  assert.equal(s.stats().entries, 0);
  const r = new ReadResult();
  assert.equal(s.get(enc('big'), r), 0);
  // the store still works, and the memory is reusable
  assert.equal(s.set(enc('big'), new Uint8Array(300_000).fill(7), CT, 0), SetOutcome.Created);
  s.get(enc('big'), r);
  assert.equal(r.body.length, 300_000);
  assert.equal(r.body[299_999], 7);
  assert.equal(s.delete(enc('big')), true);
  assert.equal(s.stats().bytesUsed, base);
});

test('a free that cannot take the allocator lock is retried by the next free, not leaked', () => {
  const s = Store.create({ memory: 8 << 20, maxKeys: 1000, stripes: 4, maxValueSize: 4 << 20 });
  const base = s.stats().bytesUsed;
  const locks = s.locks;
  const real = locks.lockAllocator.bind(locks);
  let calls = 0;
  // the page allocations succeed; then the set's final page times out, and so does its cleanup
  locks.lockAllocator = (): void => {
    calls++;
    if (calls >= 4 && calls <= 5) throw new StoreLockTimeoutError('allocator', 2);
    real();
  };
  assert.throws(() => s.set(enc('big'), new Uint8Array(300_000), CT, 0), StoreLockTimeoutError);
  locks.lockAllocator = real;
  assert.ok(s.stats().bytesUsed > base, 'the cleanup could not free yet');
  s.set(enc('small'), enc('x'), CT, 0);
  s.delete(enc('small'));
  assert.equal(s.stats().bytesUsed, base, 'the next free released the leftover too');
});
