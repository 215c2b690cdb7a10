// issue 9: eviction was SIEVE per stripe (256 stripes), so a write-only stream evicted some of
// the newest entries (a stripe holding two entries evicts its own older one, however new) while
// keys from the start of the stream survived. One eviction order over the whole store keeps the
// newest values: writing 2,000 values of 64 KiB in order into a 32 MiB store must keep every one
// of the newest 64 (the newest values worth 1/8 of the budget).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadResult, ReadStatus, SetOutcome, Store } from '../../dist/store/index.js';
import { startServer } from '../helpers/server.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const CT = enc('application/octet-stream');
const VALUE = 64 * 1024;
const WRITES = 2000;
const MEMORY = 32 << 20;
const NEWEST = MEMORY / 8 / VALUE; // 64

function valueOf(i: number): Uint8Array {
  const v = new Uint8Array(VALUE);
  for (let k = 0; k < VALUE; k += 251) v[k] = (i + k) & 0xff;
  v[0] = i & 0xff;
  v[VALUE - 1] = (i >>> 8) & 0xff;
  return v;
}

for (const stripes of [256, 16]) {
  test(`store: a write-only stream of 64 KiB values into 32 MiB keeps the newest 1/8 (stripes ${stripes})`, () => {
    const s = Store.create({ memory: MEMORY, maxKeys: 100_000, stripes, maxValueSize: 1 << 20 });
    const base = s.stats().bytesUsed;
    for (let i = 0; i < WRITES; i++) {
      assert.equal(s.set(enc(`stream/${i}`), valueOf(i), CT, 0), SetOutcome.Created);
    }
    const r = new ReadResult();
    const missing: number[] = [];
    for (let i = WRITES - NEWEST; i < WRITES; i++) {
      r.reset();
      if (s.get(enc(`stream/${i}`), r) !== ReadStatus.Hit) missing.push(i);
      else assert.deepEqual(Buffer.from(r.body), Buffer.from(valueOf(i)), `value ${i} intact`);
    }
    assert.deepEqual(missing, [], `the newest ${NEWEST} values are all present`);
    const st = s.stats();
    assert.ok(st.bytesUsed <= MEMORY, 'within the budget');
    // the store stays nearly full: eviction freed what the stream needed, not whole swathes
    assert.ok(st.entries >= (MEMORY * 0.8) / (VALUE + 4096), `store holds ${st.entries} entries`);
    for (let i = 0; i < WRITES; i++) s.delete(enc(`stream/${i}`));
    assert.equal(s.stats().entries, 0);
    assert.equal(s.stats().bytesUsed, base, 'bytes used returns to baseline when everything is deleted');
  });
}

test('store: one more 64 KiB value into a store full of them evicts one value, not its head page neighbours', () => {
  // the old page walk evicted every head sharing the first slab page it met (up to 248 values)
  const s = Store.create({ memory: MEMORY, maxKeys: 100_000, stripes: 256, maxValueSize: 1 << 20 });
  let i = 0;
  while (s.stats().evictions === 0) s.set(enc(`full/${i++}`), valueOf(i), CT, 0);
  const start = s.stats().evictions;
  for (let k = 0; k < 200; k++) {
    const before = s.stats().evictions;
    assert.equal(s.set(enc(`full/${i++}`), valueOf(i), CT, 0), SetOutcome.Created);
    // one value for its page; at most one more when the heads need a fresh slab page
    assert.ok(s.stats().evictions - before <= 2, `set ${k}: ${s.stats().evictions - before} evicted`);
  }
  assert.ok(s.stats().evictions - start <= 205, `${s.stats().evictions - start} evictions for 200 sets`);
});

test('server --threads 2: a write-only stream of 64 KiB values into --memory 32MiB keeps the newest 1/8', async () => {
  const srv = await startServer(['--memory', '32MiB', '--threads', '2', '--max-keys', '100000']);
  try {
    const at = `http://${srv.host}:${srv.port}`;
    const url = (i: number): string => `${at}/store/stream/${i}`;
    for (let i = 0; i < WRITES; i++) {
      const res = await fetch(url(i), {
        method: 'PUT',
        body: valueOf(i),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      assert.ok(res.status === 201 || res.status === 200 || res.status === 204, `PUT ${i}: ${res.status}`);
    }
    const missing: number[] = [];
    for (let i = WRITES - NEWEST; i < WRITES; i++) {
      const res = await fetch(`${at}/get/stream/${i}`, { signal: AbortSignal.timeout(10_000) });
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) missing.push(i);
      else assert.ok(body.equals(Buffer.from(valueOf(i))), `value ${i} intact`);
    }
    assert.deepEqual(missing, [], `the newest ${NEWEST} values are all present`);
  } finally {
    await srv.stop();
  }
});
