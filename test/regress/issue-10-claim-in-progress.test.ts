import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Claim, FillResult, FillTable, fillSlotBytes } from '../../dist/origin/fill-table.js';

/**
 * Issue 10: a storm for one cold key reached the origin twice on a loaded machine. A thread that
 * found a probed slot mid-claim (another thread descheduled between its compare-exchange and its
 * key store) gave up after 20 ms and claimed the next slot: a second fetch of the same key. Now
 * such a claim answers Busy and the caller asks again; it never claims around a claim in progress.
 */
const WORDS = 8;

function table(): { t: FillTable; w: Int32Array } {
  const t = new FillTable(new SharedArrayBuffer(fillSlotBytes()));
  return { t, w: t.words };
}

test('a slot held mid-claim makes claim answer Busy, never claim the next slot', () => {
  const { t, w } = table();
  const [a, b] = FillTable.tags(Buffer.from('cold-key'));
  assert.equal(t.claim(a, b, 1), Claim.Claimed);
  const slot = t.slot;
  // Freeze the claim half-way, as a descheduled claimer leaves it: the tag word says CLAIMING.
  Atomics.store(w, slot * WORDS, -1);
  assert.equal(t.claim(a, b, 2), Claim.Busy);
  for (let s = 0; s < w.length / WORDS; s++) {
    if (s !== slot) assert.equal(Atomics.load(w, s * WORDS), 0, `slot ${s} stays free`);
  }
  // The claimer goes on: its key shows, and the other thread joins instead of fetching.
  Atomics.store(w, slot * WORDS, a);
  assert.equal(t.claim(a, b, 2), Claim.Joined);
  assert.equal(t.slot, slot);
  t.finish(slot, FillResult.Stored);
  assert.equal(t.claim(a, b, 2), Claim.Claimed);
});

/** Two keys whose probe paths start at the same slot. */
function sameHome(): [Buffer, Buffer] {
  const home = (k: Buffer): number => {
    const [a, b] = FillTable.tags(k);
    return (a ^ (b >>> 7)) & 4095;
  };
  const first = Buffer.from('key-0');
  for (let i = 1; ; i++) {
    const k = Buffer.from(`key-${i}`);
    if (home(k) === home(first)) return [first, k];
  }
}

test("a key's fill past a slot freed by another key's finished fill is joined, not claimed twice", () => {
  const { t } = table();
  const [y, x] = sameHome();
  const [ya, yb] = FillTable.tags(y);
  const [xa, xb] = FillTable.tags(x);
  assert.equal(t.claim(ya, yb, 1), Claim.Claimed);
  const ySlot = t.slot;
  assert.equal(t.claim(xa, xb, 1), Claim.Claimed);
  const xSlot = t.slot;
  assert.notEqual(xSlot, ySlot, 'x sits one step further on the shared probe path');
  // y's fill ends: its slot, on x's path before x's slot, is free again.
  t.finish(ySlot, FillResult.Stored);
  assert.equal(t.claim(xa, xb, 2), Claim.Joined, 'another thread joins x instead of fetching it again');
  assert.equal(t.slot, xSlot);
});
