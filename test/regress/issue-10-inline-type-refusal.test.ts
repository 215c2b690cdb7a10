// issue 10: a reservation (or a set) whose content type is stored inline in its entry (the 64
// shared types taken, or a type carrying the read-through tier's metadata) and whose page
// allocation was refused freed its slot before the key and type were written: the free measured
// the entry from stale bytes and released the wrong pages, corrupting the allocator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadResult, SetOutcome, Store } from '../../dist/store/index.js';

const MiB = 1024 * 1024;
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

for (const how of ['reserve', 'set'] as const) {
  test(`${how}: refused for pages with an inline content type, the store stays consistent`, () => {
    const s = Store.create({ memory: 48 * MiB, maxKeys: 100_000, stripes: 16, maxValueSize: 16 * MiB });
    const base = s.stats().bytesUsed;
    // Unique types with a NUL are never interned: each entry carries its own.
    const type = (i: number): Buffer => b(`application/octet-stream\0${1_700_000_000 + i}\0tag-${i}`);
    const open = [];
    let refused = 0;
    if (how === 'set') {
      // Reservations hold nearly every page, so each set is refused part-way through its pages.
      for (let i = 0; i < 40; i++) {
        const r = s.reserve(b(`hold${i}`), 5 * MiB, type(1000 + i), 0);
        if (typeof r === 'number') break;
        open.push(r);
      }
    }
    for (let i = 0; i < 40; i++) {
      if (how === 'reserve') {
        const r = s.reserve(b(`k${i}`), 5 * MiB, type(i), 0);
        if (typeof r === 'number') refused++;
        else open.push(r);
      } else if (s.set(b(`k${i}`), Buffer.alloc(5 * MiB, i), type(i), 0) !== SetOutcome.Created) {
        refused++;
      }
    }
    assert.ok(refused > 0, 'some were refused for want of pages');
    for (const r of open) r.abort();
    // Everything still works, and the memory is all back once the values are gone.
    for (let i = 0; i < 6; i++) {
      assert.equal(
        s.set(b(`after${i}`), Buffer.alloc(5 * MiB, 7), type(500 + i), 0) <= SetOutcome.Replaced,
        true,
      );
    }
    const r = new ReadResult();
    assert.equal(s.get(b('after5'), r), 1);
    assert.equal(r.body.length, 5 * MiB);
    assert.equal(r.body[5 * MiB - 1], 7);
    for (let i = 0; i < 40; i++) s.delete(b(`k${i}`));
    for (let i = 0; i < 6; i++) s.delete(b(`after${i}`));
    assert.equal(s.stats().bytesUsed, base);
    assert.equal(s.stats().entries, 0);
  });
}
