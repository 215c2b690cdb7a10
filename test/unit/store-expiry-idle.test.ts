import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store, type StoreOptions } from '../../dist/store/index.js';
import { CT, enc } from '../helpers/store-data.js';

const opts: StoreOptions = { memory: 16 << 20, maxKeys: 10_000, stripes: 4, maxValueSize: 1 << 20 };

/** Sweeps until every stripe was visited `passes` times; returns what was reclaimed. */
function passes(s: Store, n: number): number {
  let swept = 0;
  for (let i = 0; i < n; i++) swept += s.sweepExpired(opts.stripes!);
  return swept;
}

test('a store without TTLs goes clean after one pass; any set with a TTL makes it sweep again', () => {
  const s = Store.create(opts);
  let now = Date.now();
  s.now = () => now;
  assert.equal(s.expiry.allClean(), false, 'nothing walked yet');
  for (let i = 0; i < 100; i++) s.set(enc(`k${i}`), enc('v'), CT, 0);
  assert.equal(passes(s, 1), 0);
  assert.equal(s.expiry.allClean(), true);

  s.set(enc('t'), enc('v'), CT, 2);
  assert.equal(s.expiry.allClean(), false, 'a TTL write moves its stripe');
  assert.equal(passes(s, 2), 0);
  assert.equal(s.expiry.allClean(), false, 'a live TTL entry keeps its stripe swept');
  now += 2_500;
  assert.equal(passes(s, 1), 1, 'the expired entry is reclaimed');
  assert.equal(s.stats().entries, 100);
  passes(s, 1);
  assert.equal(s.expiry.allClean(), true);

  // Replacing an entry that had no TTL with one that has (in place, same stripe) counts too.
  s.set(enc('k7'), enc('w'), CT, 1);
  assert.equal(s.expiry.allClean(), false);
  now += 1_500;
  assert.equal(passes(s, 1), 1);
  assert.equal(s.stats().entries, 99);
});

test('a clean stripe written without a TTL is walked again, then clean again', () => {
  const s = Store.create(opts);
  passes(s, 1);
  assert.equal(s.expiry.allClean(), true);
  s.set(enc('x'), enc('v'), CT, 0);
  assert.equal(s.expiry.allClean(), false);
  passes(s, 1);
  assert.equal(s.expiry.allClean(), true);
});

test('a stripe walked across several visits is clean only once the whole walk saw no TTL', () => {
  const s = Store.create({ ...opts, stripes: 1 });
  let now = Date.now();
  s.now = () => now;
  for (let i = 0; i < 5000; i++) s.set(enc(`e${i}`), enc('v'), CT, i === 4000 ? 1 : 0);
  s.sweepExpired(1);
  s.sweepExpired(1);
  s.sweepExpired(1);
  assert.equal(s.expiry.allClean(), false, 'the walk met a live TTL entry');
  now += 1_500;
  let swept = 0;
  for (let i = 0; i < 3; i++) swept += s.sweepExpired(1);
  assert.equal(swept, 1);
  for (let i = 0; i < 3; i++) s.sweepExpired(1);
  assert.equal(s.expiry.allClean(), true);
  assert.equal(s.stats().entries, 4999);
});
