// The shared negative cache (src/origin/negative.ts): remembered until the deadline, the same
// answer through any view of the buffer, and a full probe window reuses the slot expiring first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NEGATIVE_BYTES, NegativeCache } from '../../dist/origin/negative.js';

const key = (s: string): Uint8Array => Buffer.from(s, 'latin1');

test('a key is remembered until its deadline, by every view of the shared buffer', () => {
  const sab = new SharedArrayBuffer(64 + NEGATIVE_BYTES);
  const a = new NegativeCache(sab, 64);
  const b = new NegativeCache(sab, 64);
  a.remember(key('gone'), 10_000, 1_000);
  assert.equal(b.has(key('gone'), 9_999), true);
  assert.equal(b.has(key('gone'), 10_000), false, 'expired at the deadline');
  assert.equal(b.has(key('other'), 5_000), false);
  // Remembered again: the same slot, a later deadline.
  b.remember(key('gone'), 20_000, 12_000);
  assert.equal(a.has(key('gone'), 15_000), true);
});

test('many keys: recent ones are kept, and a forgotten one is only ever forgotten, never confused', () => {
  const sab = new SharedArrayBuffer(NEGATIVE_BYTES);
  const c = new NegativeCache(sab, 0);
  const n = 40_000; // more than the table holds
  for (let i = 0; i < n; i++) c.remember(key(`k${i}`), 1_000_000 + i, 0);
  let kept = 0;
  for (let i = 0; i < n; i++) if (c.has(key(`k${i}`), 1)) kept++;
  assert.ok(kept > 10_000, `kept ${kept}`);
  for (let i = 0; i < 1000; i++) assert.equal(c.has(key(`never${i}`), 1), false);
  // The newest keys replaced the slots expiring first: the last one written is there.
  assert.equal(c.has(key(`k${n - 1}`), 1), true);
});
