// The metadata the read-through tier keeps in an entry's content type (src/origin/meta.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoredMeta, encodeMeta, inmNames, originAge, strongEtag } from '../../dist/origin/meta.js';
import { ReadResult, Store } from '../../dist/store/index.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const text = (ct: Uint8Array, from: number, to: number): string =>
  Buffer.from(ct.subarray(from, to)).toString('latin1');

test('type, born and ETag round-trip; a client-written type has no metadata', () => {
  const ct = encodeMeta(b('text/plain; charset=utf-8'), 1_700_000_000, b('v1-abc'));
  const m = new StoredMeta().decode(ct, ct.length);
  assert.equal(text(ct, 0, m.typeLength), 'text/plain; charset=utf-8');
  assert.equal(m.born, 1_700_000_000);
  assert.equal(text(ct, m.etagStart, m.etagEnd), 'v1-abc');
  assert.equal(m.age(1_700_000_042_500), 42);
  assert.equal(m.age(1_600_000_000_000), 0, 'never negative');
  const plain = b('application/json');
  const p = new StoredMeta().decode(plain, plain.length);
  assert.equal(p.typeLength, plain.length);
  assert.equal(p.born, -1);
  assert.equal(p.etagEnd, p.etagStart);
  assert.equal(p.age(Date.now()), 0);
  const untagged = encodeMeta(plain, 5, null);
  const u = new StoredMeta().decode(untagged, untagged.length);
  assert.equal(u.born, 5);
  assert.equal(u.etagEnd, u.etagStart);
});

test('what does not fit the 255-byte field is left out, never cut', () => {
  const long = b('x'.repeat(240));
  const ct = encodeMeta(long, 1_700_000_000, b('t'.repeat(20)));
  assert.ok(ct.length <= 255);
  const m = new StoredMeta().decode(ct, ct.length);
  assert.equal(m.typeLength, 240);
  assert.equal(m.born, 1_700_000_000);
  assert.equal(m.etagEnd, m.etagStart, 'the ETag is dropped whole');
  assert.equal(encodeMeta(b('y'.repeat(250)), 1_700_000_000, null).length, 250, 'no room: the bare type');
  assert.ok(encodeMeta(b('z'.repeat(200)), 1, b('e'.repeat(40)), 20).length <= 235);
});

test('only strong ETags of at most 64 characters are kept; Age is whole seconds', () => {
  assert.equal(Buffer.from(strongEtag({ etag: '"abc"' })!).toString(), 'abc');
  assert.equal(strongEtag({ etag: 'W/"abc"' }), null);
  assert.equal(strongEtag({ etag: 'abc' }), null);
  assert.equal(strongEtag({ etag: `"${'a'.repeat(65)}"` }), null);
  assert.equal(strongEtag({ etag: '"a"b"' }), null);
  assert.equal(strongEtag({}), null);
  assert.equal(originAge({ age: '17' }), 17);
  assert.equal(originAge({ age: '-3' }), 0);
  assert.equal(originAge({ age: '1.5' }), 0);
  assert.equal(originAge({}), 0);
});

test('If-None-Match names the tag with weak comparison, in a list, or as *', () => {
  const tag = b('v1');
  assert.equal(inmNames(b('"v1"'), tag), true);
  assert.equal(inmNames(b('W/"v1"'), tag), true);
  assert.equal(inmNames(b('"a", W/"b" ,"v1"'), tag), true);
  assert.equal(inmNames(b('*'), tag), true);
  assert.equal(inmNames(b('"v12"'), tag), false);
  assert.equal(inmNames(b('"v"'), tag), false);
  assert.equal(inmNames(b('v1'), tag), false);
  assert.equal(inmNames(b('"v1'), tag), false);
  assert.equal(inmNames(b(''), tag), false);
});

test('the store keeps types with metadata inline: the shared table of types stays for shared ones', () => {
  const s = Store.create({ memory: 16 << 20, maxKeys: 1000, stripes: 4, maxValueSize: 1 << 20 });
  for (let i = 0; i < 100; i++) {
    assert.equal(s.set(b(`k${i}`), b('v'), encodeMeta(b('text/plain'), 1_700_000_000 + i, b(`t${i}`)), 0), 1);
  }
  const r = new ReadResult();
  for (let i = 0; i < 100; i++) {
    s.get(b(`k${i}`), r);
    const m = new StoredMeta().decode(r.contentType, r.contentTypeLength);
    assert.equal(m.born, 1_700_000_000 + i);
    assert.equal(text(r.contentType, m.etagStart, m.etagEnd), `t${i}`);
  }
  // All 64 slots of the type table still free for ordinary types, which are interned.
  const v = s.views;
  const used = (): number => {
    let n = 0;
    for (let i = 0; i < 64; i++) if (v.u8[v.L.ctTable + i * 260] !== 0) n++;
    return n;
  };
  assert.equal(used(), 0);
  s.set(b('plain'), b('v'), b('image/png'), 0);
  assert.equal(used(), 1);
});
