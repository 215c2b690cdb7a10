import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GetSelector } from '../../dist/http/conditional.js';
import { RangeKind } from '../../dist/http/range.js';
import {
  MAX_KEY_BYTES,
  ReadResult,
  ReadStatus,
  SetOutcome,
  Store,
  type StoreOptions,
} from '../../dist/store/index.js';
import { CT, enc, pattern } from '../helpers/store-data.js';

const small: StoreOptions = { memory: 16 << 20, maxKeys: 10_000, stripes: 4, maxValueSize: 4 << 20 };

/** A get with the HTTP layer's selector (If-None-Match, Range) set up by `setup`, if given. */
function read(store: Store, key: Uint8Array, setup?: (r: ReadResult, sel: GetSelector) => void): ReadResult {
  const r = new ReadResult();
  if (setup) {
    const sel = new GetSelector();
    r.select = sel;
    setup(r, sel);
  }
  store.get(key, r);
  return r;
}

test('bytesFor equals memory and rejects bad options with a human message', () => {
  assert.equal(Store.bytesFor(small), small.memory);
  assert.equal(
    Store.bytesFor({ memory: 2 ** 30, maxKeys: 1_000_000, stripes: 256, maxValueSize: 16 << 20 }),
    2 ** 30,
  );
  assert.throws(() => Store.bytesFor({ ...small, stripes: 3 }), /power of two/);
  assert.throws(() => Store.bytesFor({ ...small, stripes: 0 }), RangeError);
  assert.throws(() => Store.bytesFor({ ...small, maxKeys: 0 }), RangeError);
  assert.throws(() => Store.bytesFor({ ...small, memory: 1.5 }), RangeError);
  assert.throws(
    () => Store.bytesFor({ ...small, memory: 1 << 20, maxKeys: 1_000_000 }),
    /too small.*--max-keys/,
  );
  assert.throws(() => Store.bytesFor({ ...small, maxValueSize: -1 }), RangeError);
});

test('set, get, replace, delete', () => {
  const s = Store.create(small);
  assert.equal(s.set(enc('a'), enc('one'), CT, 0), SetOutcome.Created);
  let r = read(s, enc('a'));
  assert.equal(r.status, ReadStatus.Hit);
  assert.equal(Buffer.from(r.body).toString(), 'one');
  assert.equal(r.totalLength, 3);
  assert.equal(
    Buffer.from(r.contentType.subarray(0, r.contentTypeLength)).toString(),
    'application/octet-stream',
  );
  assert.equal(s.set(enc('a'), [enc('tw'), enc(''), enc('o!')], enc('text/plain'), 0), SetOutcome.Replaced);
  r = read(s, enc('a'));
  assert.equal(Buffer.from(r.body).toString(), 'two!');
  assert.equal(Buffer.from(r.contentType.subarray(0, r.contentTypeLength)).toString(), 'text/plain');
  assert.equal(s.delete(enc('a')), true);
  assert.equal(s.delete(enc('a')), false);
  assert.equal(read(s, enc('a')).status, ReadStatus.Miss);
  const st = s.stats();
  assert.equal(st.entries, 0);
  assert.equal(st.payloadBytes, 0);
  assert.equal(st.sets, 2);
  assert.equal(st.deletes, 1);
  assert.equal(st.hits, 2);
  assert.equal(st.misses, 1);
});

test('binary keys and values, empty value, empty and long content types', () => {
  const s = Store.create(small);
  const key = Uint8Array.from({ length: 256 }, (_, i) => i);
  const val = pattern(3000, 7);
  s.set(key, val, CT, 0);
  s.set(Uint8Array.of(0xff), new Uint8Array(0), new Uint8Array(0), 0);
  const longCt = new Uint8Array(255).fill(0x61);
  s.set(Uint8Array.of(0), val.subarray(0, 10), longCt, 0);
  let r = read(s, key);
  assert.deepEqual(Buffer.from(r.body), val);
  r = read(s, Uint8Array.of(0xff));
  assert.equal(r.status, ReadStatus.Hit);
  assert.equal(r.totalLength, 0);
  assert.equal(r.body.length, 0);
  assert.equal(r.contentTypeLength, 0);
  r = read(s, Uint8Array.of(0));
  assert.deepEqual(Buffer.from(r.contentType.subarray(0, r.contentTypeLength)), Buffer.from(longCt));
  assert.deepEqual(Buffer.from(r.body), val.subarray(0, 10));
  // many distinct content types: past the intern table they are stored inline
  for (let i = 0; i < 100; i++) s.set(enc(`ct${i}`), enc('x'), enc(`type/${i}`), 0);
  for (let i = 0; i < 100; i++) {
    r = read(s, enc(`ct${i}`));
    assert.equal(Buffer.from(r.contentType.subarray(0, r.contentTypeLength)).toString(), `type/${i}`);
  }
});

test('maximum key and value sizes; RangeError for invalid input', () => {
  const s = Store.create(small);
  const maxKey = new Uint8Array(MAX_KEY_BYTES).fill(0x6b);
  const maxVal = pattern(small.maxValueSize, 3);
  assert.equal(s.set(maxKey, maxVal, CT, 0), SetOutcome.Created);
  assert.deepEqual(Buffer.from(read(s, maxKey).body), maxVal);
  assert.throws(() => s.set(new Uint8Array(MAX_KEY_BYTES + 1), enc('x'), CT, 0), RangeError);
  assert.throws(() => s.set(new Uint8Array(0), enc('x'), CT, 0), RangeError);
  assert.throws(() => s.set(enc('k'), new Uint8Array(small.maxValueSize + 1), CT, 0), RangeError);
  assert.throws(() => s.set(enc('k'), enc('x'), new Uint8Array(256), 0), RangeError);
  assert.throws(() => s.set(enc('k'), enc('x'), CT, -1), RangeError);
  assert.equal(s.delete(new Uint8Array(0)), false);
});

test('a 10 MiB value stores and reads back with default flags', () => {
  const s = Store.create({ memory: 2 ** 30, maxKeys: 1_000_000, stripes: 256, maxValueSize: 16 << 20 });
  const v = pattern(10 << 20, 11);
  assert.equal(s.set(enc('big'), v, CT, 0), SetOutcome.Created);
  const r = read(s, enc('big'));
  assert.equal(r.status, ReadStatus.Hit);
  assert.ok(Buffer.from(r.body).equals(v));
  // a 4 KiB range in the middle copies only 4 KiB
  const rr = read(s, enc('big'), (_x, sel) => {
    sel.range.kind = RangeKind.FromTo;
    sel.range.a = 5_000_000;
    sel.range.b = 5_004_095;
  });
  assert.equal(rr.status, ReadStatus.Partial);
  assert.equal(rr.body.length, 4096);
  assert.ok(Buffer.from(rr.body).equals(v.subarray(5_000_000, 5_004_096)));
  assert.ok(s.stats().bytesUsed <= s.stats().memoryBudget);
  assert.equal(s.delete(enc('big')), true);
});

test('every Range edge case', () => {
  const s = Store.create(small);
  const v = enc('0123456789');
  s.set(enc('r'), v, CT, 0);
  s.set(enc('e'), new Uint8Array(0), CT, 0);
  const cases: [RangeKind, number, number, ReadStatus, number, number][] = [
    [RangeKind.None, 0, 0, ReadStatus.Hit, 0, 10],
    [RangeKind.FromTo, 0, 0, ReadStatus.Partial, 0, 1],
    [RangeKind.FromTo, 2, 5, ReadStatus.Partial, 2, 4],
    [RangeKind.FromTo, 9, 9, ReadStatus.Partial, 9, 1],
    [RangeKind.FromTo, 5, 100, ReadStatus.Partial, 5, 5],
    [RangeKind.FromTo, 0, 9, ReadStatus.Partial, 0, 10],
    [RangeKind.FromTo, 10, 12, ReadStatus.RangeNotSatisfiable, 0, 0],
    [RangeKind.FromTo, 6, 3, ReadStatus.Hit, 0, 10],
    [RangeKind.From, 0, 0, ReadStatus.Partial, 0, 10],
    [RangeKind.From, 3, 0, ReadStatus.Partial, 3, 7],
    [RangeKind.From, 9, 0, ReadStatus.Partial, 9, 1],
    [RangeKind.From, 10, 0, ReadStatus.RangeNotSatisfiable, 0, 0],
    [RangeKind.Suffix, 3, 0, ReadStatus.Partial, 7, 3],
    [RangeKind.Suffix, 10, 0, ReadStatus.Partial, 0, 10],
    [RangeKind.Suffix, 20, 0, ReadStatus.Partial, 0, 10],
    [RangeKind.Suffix, 0, 0, ReadStatus.RangeNotSatisfiable, 0, 0],
  ];
  for (const [kind, a, b, status, start, len] of cases) {
    const r = read(s, enc('r'), (_x, sel) => {
      sel.range.kind = kind;
      sel.range.a = a;
      sel.range.b = b;
    });
    const what = `kind ${kind} ${a}-${b}`;
    assert.equal(r.status, status, what);
    assert.equal(r.totalLength, 10, what);
    if (status === ReadStatus.RangeNotSatisfiable) {
      assert.equal(r.body.length, 0, what);
      continue;
    }
    assert.equal(r.bodyStart, start, what);
    assert.equal(r.bodyLength, len, what);
    assert.deepEqual(Buffer.from(r.body), Buffer.from(v.subarray(start, start + len)), what);
  }
  for (const kind of [RangeKind.FromTo, RangeKind.From, RangeKind.Suffix]) {
    const r = read(s, enc('e'), (_x, sel) => {
      sel.range.kind = kind;
      sel.range.a = 0;
      sel.range.b = 0;
    });
    assert.equal(r.status, ReadStatus.RangeNotSatisfiable, `empty value, kind ${kind}`);
    assert.equal(r.totalLength, 0);
  }
  assert.equal(read(s, enc('e')).status, ReadStatus.Hit);
  // HEAD: metadata only
  const h = read(s, enc('r'), (x, sel) => {
    x.wantBody = false;
    sel.range.kind = RangeKind.FromTo;
    sel.range.a = 1;
    sel.range.b = 2;
  });
  assert.equal(h.status, ReadStatus.Partial);
  assert.equal(h.bodyLength, 2);
  assert.equal(h.body.length, 0);
});

test('ranges across page boundaries and the in-slot tail of large values', () => {
  const s = Store.create({ ...small, maxValueSize: 8 << 20 });
  const sizes = [65536 - 100, 65536, 65536 + 1, 3 * 65536 + 777, 2 * 65536 - 10, 1_000_003];
  for (const n of sizes) {
    const v = pattern(n, n);
    s.set(enc(`v${n}`), v, CT, 0);
    const full = read(s, enc(`v${n}`));
    assert.ok(Buffer.from(full.body).equals(v), `size ${n}`);
    for (const [a, b] of [
      [0, 0],
      [65530, 65545],
      [n - 5, n + 5],
      [n - 1, n - 1],
      [65536, 131071],
      [1, n - 2],
    ] as const) {
      if (a >= n || a < 0) continue;
      const r = read(s, enc(`v${n}`), (_x, sel) => {
        sel.range.kind = RangeKind.FromTo;
        sel.range.a = a;
        sel.range.b = b;
      });
      const end = Math.min(b, n - 1) + 1;
      assert.ok(Buffer.from(r.body).equals(v.subarray(a, end)), `size ${n} range ${a}-${b}`);
    }
  }
});

test('get copies into the caller target when it fits, else allocates exactly', () => {
  const s = Store.create(small);
  s.set(enc('t'), enc('hello world'), CT, 0);
  const target = new Uint8Array(64);
  const r = read(s, enc('t'), (x) => {
    x.target = target;
    x.targetOffset = 10;
  });
  assert.equal(r.body.buffer, target.buffer);
  assert.equal(r.body.byteOffset, 10);
  assert.equal(Buffer.from(target.subarray(10, 21)).toString(), 'hello world');
  const tiny = new Uint8Array(4);
  const r2 = read(s, enc('t'), (x) => {
    x.target = tiny;
    x.targetOffset = 0;
  });
  assert.notEqual(r2.body.buffer, tiny.buffer);
  assert.equal(r2.body.length, 11);
  assert.equal(r2.bodyInTarget, false);
});

test('wantBodyView false: the bytes land in the target with no body view; a fresh Buffer is still the body', () => {
  const s = Store.create(small);
  s.set(enc('t'), enc('hello world'), CT, 0);
  s.set(enc('u'), enc('other bytes!'), CT, 0);
  const target = new Uint8Array(64);
  const r = new ReadResult();
  for (const [key, at, text] of [
    ['t', 10, 'hello world'],
    ['u', 3, 'other bytes!'],
    ['t', 40, 'hello world'],
  ] as const) {
    r.reset();
    r.target = target;
    r.targetOffset = at;
    r.wantBodyView = false;
    assert.equal(s.get(enc(key), r), ReadStatus.Hit);
    assert.equal(r.bodyInTarget, true);
    assert.equal(r.body.length, 0, 'no view made');
    assert.equal(r.bodyLength, text.length);
    assert.equal(Buffer.from(target.subarray(at, at + text.length)).toString(), text);
  }
  // the default (reset) makes the view again, and a miss or a too-small target clears the flag
  r.reset();
  r.target = target;
  r.targetOffset = 5;
  s.get(enc('t'), r);
  assert.equal(r.bodyInTarget, true);
  assert.equal(r.body.byteOffset, 5);
  assert.equal(Buffer.from(r.body).toString(), 'hello world');
  r.target = new Uint8Array(4);
  r.targetOffset = 0;
  r.wantBodyView = false;
  s.get(enc('t'), r);
  assert.equal(r.bodyInTarget, false);
  assert.equal(Buffer.from(r.body).toString(), 'hello world', 'a fresh Buffer is always the body');
  assert.equal(s.get(enc('absent'), r), ReadStatus.Miss);
  assert.equal(r.bodyInTarget, false);
});

test('If-None-Match: strong tag, changes on replace, stable across attached instances', () => {
  const s = Store.create(small);
  s.set(enc('k'), enc('v1'), CT, 0);
  const first = read(s, enc('k'));
  const other = Store.attach(s.sab, 3);
  const again = read(other, enc('k'));
  assert.equal(again.etagHi, first.etagHi);
  assert.equal(again.etagLo, first.etagLo);
  const nm = read(other, enc('k'), (_x, sel) => {
    sel.inm.count = 2;
    sel.inm.tags[0] = 1;
    sel.inm.tags[1] = 2;
    sel.inm.tags[2] = first.etagHi;
    sel.inm.tags[3] = first.etagLo;
  });
  assert.equal(nm.status, ReadStatus.NotModified);
  assert.equal(nm.body.length, 0);
  const any = read(s, enc('k'), (_x, sel) => {
    sel.inm.any = true;
  });
  assert.equal(any.status, ReadStatus.NotModified);
  assert.equal(read(s, enc('missing'), (_x, sel) => (sel.inm.any = true)).status, ReadStatus.Miss);
  s.set(enc('k'), enc('v1'), CT, 0);
  const after = read(s, enc('k'), (_x, sel) => {
    sel.inm.count = 1;
    sel.inm.tags[0] = first.etagHi;
    sel.inm.tags[1] = first.etagLo;
  });
  assert.equal(after.status, ReadStatus.Hit);
  assert.ok(after.etagHi !== first.etagHi || after.etagLo !== first.etagLo);
  // a fresh store (a process restart) never reissues the old tag
  const fresh = Store.create(small);
  fresh.set(enc('k'), enc('v1'), CT, 0);
  const f = read(fresh, enc('k'));
  assert.ok(f.etagHi !== first.etagHi || f.etagLo !== first.etagLo);
});

test('TTL: expiry on read with an injected clock, and sweep returns bytes to the budget', () => {
  const s = Store.create({ ...small, stripes: 8 });
  let now = Date.now();
  s.now = () => now;
  const base = s.stats().bytesUsed;
  s.set(enc('short'), enc('x'), CT, 10);
  s.set(enc('forever'), enc('y'), CT, 0);
  now += 9_900;
  assert.equal(read(s, enc('short')).status, ReadStatus.Hit);
  now += 200;
  assert.equal(read(s, enc('short')).status, ReadStatus.Miss);
  assert.equal(read(s, enc('forever')).status, ReadStatus.Hit);
  assert.equal(s.stats().expirations, 1);
  // expired key: set counts as Created, delete as false
  s.set(enc('d'), enc('x'), CT, 1);
  now += 1_100;
  assert.equal(s.delete(enc('d')), false);
  s.set(enc('c'), enc('x'), CT, 1);
  now += 1_100;
  assert.equal(s.set(enc('c'), enc('z'), CT, 0), SetOutcome.Created);
  s.delete(enc('c'));
  s.delete(enc('forever'));
  assert.equal(s.stats().bytesUsed, base);
  const v = pattern(2000);
  for (let i = 0; i < 3000; i++) s.set(enc(`t${i}`), v, CT, 5);
  const big = pattern(300_000);
  s.set(enc('bigttl'), big, CT, 5);
  assert.ok(s.stats().bytesUsed > base + 6_000_000);
  now += 4_000;
  assert.equal(s.sweepExpired(8), 0);
  now += 1_100;
  let swept = 0;
  for (let i = 0; i < 4; i++) swept += s.sweepExpired(2);
  assert.equal(swept, 3001);
  const st = s.stats();
  assert.equal(st.entries, 0);
  assert.equal(st.bytesUsed, base);
});

test('TTL with the real clock (short, bounded wait)', async () => {
  const s = Store.create(small);
  s.set(enc('k'), enc('v'), CT, 1);
  assert.equal(read(s, enc('k')).status, ReadStatus.Hit);
  await new Promise((r) => setTimeout(r, 1_150));
  assert.equal(read(s, enc('k')).status, ReadStatus.Miss);
});

test('eviction keeps the budget and prefers recently hit keys (SIEVE)', () => {
  const opts: StoreOptions = { memory: 8 << 20, maxKeys: 100_000, stripes: 4, maxValueSize: 1 << 20 };
  const s = Store.create(opts);
  const v = pattern(1000);
  const hot = 200;
  let i = 0;
  for (; i < hot; i++) s.set(enc(`k${i}`), v, CT, 0);
  const r = new ReadResult();
  for (; i < 50_000; i++) {
    s.set(enc(`k${i}`), v, CT, 0);
    if (i % 10 === 0) for (let h = 0; h < hot; h += 7) s.get(enc(`k${h}`), r);
    const st = s.stats();
    assert.ok(st.bytesUsed <= opts.memory);
  }
  const st = s.stats();
  assert.ok(st.evictions > 40_000, `evictions ${st.evictions}`);
  let hotKept = 0;
  let hotTotal = 0;
  for (let h = 0; h < hot; h += 7, hotTotal++) if (s.get(enc(`k${h}`), r) === ReadStatus.Hit) hotKept++;
  let coldKept = 0;
  for (let c = 1; c < hot; c += 7) if (c % 7 !== 0 && s.get(enc(`k${c}`), r) === ReadStatus.Hit) coldKept++;
  assert.equal(hotKept, hotTotal, `hot keys kept ${hotKept}/${hotTotal}`);
  assert.equal(coldKept, 0);
  // data integrity of what is left
  for (let k = 49_000; k < 50_000; k++) {
    if (s.get(enc(`k${k}`), r) === ReadStatus.Hit) assert.ok(Buffer.from(r.body).equals(v));
  }
});

test('TooLarge when a value can never fit; big values evict small ones to fit', () => {
  const s = Store.create({ memory: 4 << 20, maxKeys: 1000, stripes: 2, maxValueSize: 16 << 20 });
  assert.equal(s.set(enc('huge'), new Uint8Array(5 << 20), CT, 0), SetOutcome.TooLarge);
  assert.equal(s.set(enc('huge'), new Uint8Array(0), CT, 0), SetOutcome.Created);
  const m = Store.create({ memory: 24 << 20, maxKeys: 200_000, stripes: 16, maxValueSize: 16 << 20 });
  const v = pattern(100);
  for (let i = 0; i < 200_000; i++) m.set(enc(`s${i}`), v, CT, 0);
  assert.ok(m.stats().evictions > 0);
  const big = pattern(10 << 20, 5);
  assert.equal(m.set(enc('big'), big, CT, 0), SetOutcome.Created);
  assert.ok(Buffer.from(read(m, enc('big')).body).equals(big));
  assert.ok(m.stats().bytesUsed <= 24 << 20);
  // and small values can come back afterwards, evicting pieces of the big one only when needed
  for (let i = 0; i < 20_000; i++) m.set(enc(`t${i}`), v, CT, 0);
  assert.equal(read(m, enc('t19999')).status, ReadStatus.Hit);
  const st = m.stats();
  assert.ok(st.bytesUsed <= st.memoryBudget);
});

test('replace in place (same slot class) updates value, type, TTL, tag and accounting', () => {
  const s = Store.create(small);
  let now = Date.now();
  s.now = () => now;
  s.set(enc('k'), enc('aaaa'), enc('text/a'), 1);
  const t1 = read(s, enc('k'));
  const used = s.stats().bytesUsed;
  assert.equal(s.set(enc('k'), enc('bbbbb'), enc('text/b'), 0), SetOutcome.Replaced);
  const t2 = read(s, enc('k'));
  assert.equal(Buffer.from(t2.body).toString(), 'bbbbb');
  assert.equal(Buffer.from(t2.contentType.subarray(0, t2.contentTypeLength)).toString(), 'text/b');
  assert.ok(t2.etagLo !== t1.etagLo || t2.etagHi !== t1.etagHi);
  now += 5_000;
  assert.equal(read(s, enc('k')).status, ReadStatus.Hit, 'TTL cleared by the replace');
  const st = s.stats();
  assert.equal(st.bytesUsed, used);
  assert.equal(st.payloadBytes, 1 + 5);
  assert.equal(st.entries, 1);
  // inline (non-interned) content types too: fill the intern table first
  for (let i = 0; i < 70; i++) s.set(enc(`f${i}`), enc('x'), enc(`fill/${i}`), 0);
  s.set(enc('k'), enc('cc'), enc('zz/inline-type'), 0);
  s.set(enc('k'), enc('dd'), enc('yy/other-type-2'), 0);
  const t3 = read(s, enc('k'));
  assert.equal(Buffer.from(t3.body).toString(), 'dd');
  assert.equal(Buffer.from(t3.contentType.subarray(0, t3.contentTypeLength)).toString(), 'yy/other-type-2');
});

test('sweep visits a bounded slice per call and resumes, even across deletions', () => {
  const s = Store.create({ ...small, stripes: 1 });
  let now = Date.now();
  s.now = () => now;
  const base = s.stats().bytesUsed;
  for (let i = 0; i < 5000; i++) s.set(enc(`e${i}`), enc('v'), CT, i % 5 === 0 ? 0 : 2);
  now += 3_000;
  const first = s.sweepExpired(1);
  assert.ok(first > 0 && first <= 2048, `first slice ${first}`);
  // delete around the resume point, then finish the pass
  for (let i = 2000; i < 2600; i += 3) if (i % 5 !== 0) s.delete(enc(`e${i}`));
  let total = first;
  for (let k = 0; k < 10; k++) total += s.sweepExpired(1);
  const st = s.stats();
  assert.equal(st.entries, 1000, 'only the entries without TTL are left');
  assert.ok(total > 3700 && total <= 4000, `swept ${total}`);
  for (let i = 0; i < 5000; i += 5) s.delete(enc(`e${i}`));
  assert.equal(s.stats().bytesUsed, base);
});

test('copies are exact for every destination alignment, length and target kind', () => {
  const s = Store.create(small);
  const values: Buffer[] = [];
  for (let n = 0; n <= 600; n += 7) {
    values.push(pattern(n, n + 1));
    s.set(enc(`a${n}`), values[values.length - 1]!, enc(`t/${n % 3}`), 0);
  }
  const arenas = [Buffer.alloc(2048), new Uint8Array(2048), new Uint8Array(new SharedArrayBuffer(2048))];
  const r = new ReadResult();
  for (let round = 0; round < 2; round++) {
    for (let vi = 0; vi < values.length; vi++) {
      const v = values[vi]!;
      for (const arena of arenas) {
        for (let off = 0; off < 8; off++) {
          r.reset();
          r.target = (off & 1) === 0 ? arena : arena.subarray(3);
          r.targetOffset = off;
          s.get(enc(`a${vi * 7}`), r);
          assert.ok(Buffer.from(r.body).equals(v), `len ${v.length} off ${off}`);
          assert.equal(
            Buffer.from(r.contentType.subarray(0, r.contentTypeLength)).toString(),
            `t/${(vi * 7) % 3}`,
          );
        }
      }
      r.reset();
      s.get(enc(`a${vi * 7}`), r);
      assert.ok(Buffer.from(r.body).equals(v));
    }
  }
});

test('bulk copies are exact whatever the source and target alignment modulo 8', () => {
  const s = Store.create({ memory: 32 << 20, maxKeys: 1000, stripes: 4, maxValueSize: 4 << 20 });
  const sizes = [513, 1000, 4096, 4099, 65_530, 65_536, 70_001, 200_003];
  const backing = Buffer.alloc((200_003 + 16) * 2);
  const target = new Uint8Array(200_003 + 16);
  const r = new ReadResult();
  const sel = new GetSelector();
  for (const n of sizes) {
    const v = pattern(n, n);
    for (let srcOff = 0; srcOff < 8; srcOff++) {
      const key = enc(`bulk${n}/${srcOff}`);
      const src = backing.subarray(srcOff, srcOff + n);
      v.copy(src);
      // one view, or chunks with odd boundaries
      const value = (srcOff & 1) === 0 ? src : [src.subarray(0, 333), src.subarray(333)];
      assert.equal(s.set(key, value, CT, 0), SetOutcome.Created);
      for (let dstOff = 0; dstOff < 8; dstOff += 3) {
        r.reset();
        r.target = target;
        r.targetOffset = dstOff;
        s.get(key, r);
        assert.ok(Buffer.from(r.body).equals(v), `len ${n} src ${srcOff} dst ${dstOff}`);
        r.reset();
        r.target = target;
        r.targetOffset = dstOff;
        sel.clear();
        sel.range.kind = RangeKind.FromTo;
        sel.range.a = 1 + srcOff;
        sel.range.b = n - 2;
        r.select = sel;
        s.get(key, r);
        assert.ok(Buffer.from(r.body).equals(v.subarray(1 + srcOff, n - 1)), `range len ${n}`);
      }
      r.reset();
      s.get(key, r);
      assert.ok(Buffer.from(r.body).equals(v), `allocated, len ${n}`);
      assert.equal(s.delete(key), true);
    }
  }
});

test('one ReadResult across stores, interned and inline content types, always the right type', () => {
  const a = Store.create(small);
  const b = Store.create(small);
  // 70 types: the first 64 are interned, the rest inline
  for (let i = 0; i < 70; i++) {
    a.set(enc(`k${i}`), enc(`v${i}`), enc(`type/a-${i}`), 0);
    b.set(enc(`k${i}`), enc(`v${i}`), enc(`type/b-${i}`), 0);
  }
  const r = new ReadResult();
  const order = [0, 0, 65, 0, 1, 69, 1, 1, 3, 66, 3];
  for (const i of order) {
    for (const [store, tag] of [
      [a, 'a'],
      [b, 'b'],
      [a, 'a'],
    ] as const) {
      r.reset();
      assert.equal(store.get(enc(`k${i}`), r), ReadStatus.Hit);
      assert.equal(
        Buffer.from(r.contentType.subarray(0, r.contentTypeLength)).toString(),
        `type/${tag}-${i}`,
      );
    }
    r.reset();
    assert.equal(a.get(enc('absent'), r), ReadStatus.Miss);
    assert.equal(r.contentTypeLength, 0);
  }
});

test('word-wise key compare: every key length 1 to 13, keys differing only in their last bytes', () => {
  // (murmur3 never maps two same-length keys with equal full words to one hash, so a colliding
  // pair decided by the masked tail alone cannot be built; this covers every tail size and shift)
  const n = 1 << 12;
  const s = Store.create({ memory: 32 << 20, maxKeys: 13 * n + 1000, stripes: 16, maxValueSize: 1024 });
  const r = new ReadResult();
  const val = new Uint8Array(4);
  const dv = new DataView(val.buffer);
  for (let len = 1; len <= 13; len++) {
    const key = new Uint8Array(len).fill(0x2d);
    const fill = (i: number): void => {
      key[len - 1] = i & 255;
      if (len > 1) key[len - 2] = i >>> 8;
    };
    const count = len === 1 ? 256 : n;
    for (let i = 0; i < count; i++) {
      fill(i);
      dv.setUint32(0, i * len, true);
      assert.equal(s.set(key, val, CT, 0), SetOutcome.Created, `len ${len} key ${i}`);
    }
    for (let i = 0; i < count; i++) {
      fill(i);
      r.reset();
      assert.equal(s.get(key, r), ReadStatus.Hit);
      assert.equal(Buffer.from(r.body).readUInt32LE(0), i * len, `len ${len} key ${i}`);
    }
    if (len > 1) {
      fill(count - 1);
      key[0] ^= 0x80; // same tail, different first byte: absent
      r.reset();
      assert.equal(s.get(key, r), ReadStatus.Miss, `len ${len}`);
    }
  }
});

test('get copies exactly the span its selector chooses, and refuses one outside the value', () => {
  const s = Store.create(small);
  const v = pattern(100_000, 5);
  s.set(enc('span'), v, CT, 0);
  let span = [0, 0];
  let seen = -1;
  const selector = {
    select(out: ReadResult): ReadStatus {
      seen = out.totalLength;
      out.bodyStart = span[0]!;
      out.bodyLength = span[1]!;
      return ReadStatus.Partial;
    },
  };
  for (const [start, len] of [
    [0, 1],
    [65535, 2],
    [99_999, 1],
    [10, 0],
    [0, 100_000],
  ] as const) {
    span = [start, len];
    const r = read(s, enc('span'), (x) => (x.select = selector));
    assert.equal(seen, 100_000);
    assert.equal(r.status, ReadStatus.Partial);
    assert.equal(r.bodyStart, start);
    assert.equal(r.bodyLength, len);
    assert.ok(Buffer.from(r.body).equals(v.subarray(start, start + len)), `${start}+${len}`);
  }
  for (const bad of [
    [99_999, 2],
    [-1, 1],
    [0, 100_001],
  ]) {
    span = bad;
    assert.throws(() => read(s, enc('span'), (x) => (x.select = selector)), RangeError);
  }
  // the stripe lock was released by the throw: the next get goes through
  assert.equal(read(s, enc('span')).status, ReadStatus.Hit);
});
