import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadResult, ReadStatus, SetOutcome, Store } from '../../dist/store/index.js';

const CT = new TextEncoder().encode('text/plain');
const key = (i: number): Uint8Array => new TextEncoder().encode(`key-${i}`);

for (const [maxKeys, stripes] of [
  [1, 1],
  [100, 256],
  [4096, 256],
  [4096, 16],
  [10_000, 1],
] as const) {
  test(`--max-keys ${maxKeys} with ${stripes} stripes: never more entries, no eviction below it`, () => {
    const s = Store.create({ memory: 64 << 20, maxKeys, stripes, maxValueSize: 1 << 20 });
    const value = new Uint8Array(16);
    for (let i = 0; i < maxKeys; i++) {
      assert.equal(s.set(key(i), value, CT, 0), SetOutcome.Created);
    }
    let st = s.stats();
    assert.equal(st.entries, maxKeys, 'every key up to the cap is kept');
    assert.equal(st.evictions, 0, 'nothing evicted below the cap');
    for (let i = maxKeys; i < maxKeys * 3 + 10; i++) {
      assert.equal(s.set(key(i), value, CT, 0), SetOutcome.Created);
      const n = s.stats().entries;
      if (n > maxKeys) assert.fail(`${n} entries after set ${i}, cap ${maxKeys}`);
    }
    st = s.stats();
    assert.equal(st.entries, maxKeys, 'at the cap, each new key evicts exactly one');
    assert.equal(st.evictions, maxKeys * 2 + 10);
    // replacing keys never evicts
    const before = st.evictions;
    const probe = new ReadResult();
    probe.wantBody = false;
    let replaced = 0;
    for (let i = 0; i < maxKeys * 3 + 10; i++) {
      if (s.get(key(i), probe) === ReadStatus.Miss) continue;
      const out = s.set(key(i), value, CT, 0);
      if (out !== SetOutcome.Replaced) assert.fail(`set of an existing key gave ${out}`);
      replaced++;
    }
    assert.equal(replaced, maxKeys);
    assert.equal(s.stats().evictions, before);
    // deleting frees keys: the cap is a count, not a high-water mark
    let deleted = 0;
    for (let i = 0; i < maxKeys * 3 + 10; i++) if (s.delete(key(i)) === true) deleted++;
    assert.equal(deleted, maxKeys);
    assert.equal(s.stats().entries, 0);
    for (let i = 0; i < maxKeys; i++) s.set(key(i), value, CT, 0);
    assert.equal(s.stats().entries, maxKeys);
    assert.equal(s.stats().evictions, before);
  });
}
