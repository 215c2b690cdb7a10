import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_PRECONDITION_TAGS,
  Precondition,
  PreconditionKind,
  ReadResult,
  SetOutcome,
  Store,
  type StoreOptions,
} from '../../dist/store/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const CT = enc('text/plain');
const opts: StoreOptions = { memory: 8 << 20, maxKeys: 1000, stripes: 4, maxValueSize: 2 << 20 };

function etagOf(s: Store, key: string): [number, number] {
  const r = new ReadResult();
  r.wantBody = false;
  s.get(enc(key), r);
  return [r.etagHi, r.etagLo];
}

function body(s: Store, key: string): string | null {
  const r = new ReadResult();
  s.get(enc(key), r);
  return r.status === 0 ? null : Buffer.from(r.body).toString();
}

function pre(kind: PreconditionKind, tags: [number, number][] = []): Precondition {
  const p = new Precondition();
  p.kind = kind;
  for (const [hi, lo] of tags) assert.equal(p.addTag(hi, lo), true);
  return p;
}

test('If-None-Match: * creates only when absent (also over an expired entry)', () => {
  const s = Store.create(opts);
  let now = Date.now();
  s.now = () => now;
  const p = pre(PreconditionKind.IfNoneMatchAny);
  assert.equal(s.check(enc('k'), p), true);
  assert.equal(s.set(enc('k'), enc('v1'), CT, 0, p), SetOutcome.Created);
  assert.equal(s.check(enc('k'), p), false);
  assert.equal(s.set(enc('k'), enc('v2'), CT, 0, p), SetOutcome.PreconditionFailed);
  assert.equal(body(s, 'k'), 'v1');
  assert.equal(s.set(enc('t'), enc('x'), CT, 1), SetOutcome.Created);
  now += 2000;
  assert.equal(s.set(enc('t'), enc('y'), CT, 0, p), SetOutcome.Created);
  assert.equal(body(s, 't'), 'y');
  assert.equal(s.stats().sets, 3, 'a refused set is not counted as a set');
});

test('If-Match: * and If-Match tags guard set and delete', () => {
  const s = Store.create(opts);
  const any = pre(PreconditionKind.IfMatchAny);
  assert.equal(s.set(enc('k'), enc('v1'), CT, 0, any), SetOutcome.PreconditionFailed);
  assert.equal(body(s, 'k'), null);
  assert.equal(s.delete(enc('k'), any), 'precondition-failed');
  s.set(enc('k'), enc('v1'), CT, 0);
  const [hi, lo] = etagOf(s, 'k');
  const stale = pre(PreconditionKind.IfMatchTags, [[hi, (lo + 1) >>> 0]]);
  assert.equal(s.check(enc('k'), stale), false);
  assert.equal(s.set(enc('k'), enc('v2'), CT, 0, stale), SetOutcome.PreconditionFailed);
  assert.equal(s.delete(enc('k'), stale), 'precondition-failed');
  assert.equal(body(s, 'k'), 'v1');
  const fresh = pre(PreconditionKind.IfMatchTags, [
    [1, 2],
    [hi, lo],
  ]);
  assert.equal(s.check(enc('k'), fresh), true);
  assert.equal(s.set(enc('k'), enc('v2'), CT, 0, fresh), SetOutcome.Replaced);
  assert.equal(body(s, 'k'), 'v2');
  // the set changed the ETag: the same tag no longer matches
  assert.equal(s.delete(enc('k'), fresh), 'precondition-failed');
  const [hi2, lo2] = etagOf(s, 'k');
  assert.equal(s.delete(enc('k'), pre(PreconditionKind.IfMatchTags, [[hi2, lo2]])), true);
  assert.equal(s.delete(enc('k'), pre(PreconditionKind.IfNoneMatchAny)), false);
  assert.equal(s.delete(enc('k'), new Precondition()), false);
});

test('Precondition record: tag cap and reset', () => {
  const p = new Precondition();
  for (let i = 0; i < MAX_PRECONDITION_TAGS; i++) assert.equal(p.addTag(i, i), true);
  assert.equal(p.addTag(99, 99), false);
  assert.equal(p.kind, PreconditionKind.IfMatchTags);
  assert.equal(p.holds(true, 3, 3), true);
  assert.equal(p.holds(true, 99, 99), false);
  assert.equal(p.holds(false, 0, 0), false);
  p.reset();
  assert.equal(p.kind, PreconditionKind.None);
  assert.equal(p.count, 0);
  assert.equal(p.holds(false, 0, 0), true);
});
