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
