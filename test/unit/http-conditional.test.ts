import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GetSelector, InmTags, inmMatches, parseInm } from '../../dist/http/conditional.js';
import { parseRange } from '../../dist/http/range.js';
import { ReadResult, ReadStatus } from '../../dist/store/api.js';

test('If-None-Match lists, weak tags and *', () => {
  const p = (s: string) => {
    const out = new InmTags();
    const fits = parseInm(Buffer.from(s), 0, s.length, out);
    return { fits, any: out.any, tags: [...out.tags.subarray(0, out.count * 2)] };
  };
  assert.deepEqual(p('*'), { fits: true, any: true, tags: [] });
  assert.deepEqual(p('"0123456789abcdef"'), { fits: true, any: false, tags: [0x01234567, 0x89abcdef] });
  assert.deepEqual(p('"0123456789ABCDEF"'), { fits: true, any: false, tags: [0x01234567, 0x89abcdef] });
  assert.deepEqual(p('"x", W/"ffffffff00000001"'), { fits: true, any: false, tags: [0xffffffff, 1] });
  assert.deepEqual(p('"0123456789abcdeg"'), { fits: true, any: false, tags: [] });
  const many = Array.from({ length: 10 }, (_, i) => `"${i.toString(16).padStart(16, '0')}"`).join(', ');
  assert.equal(p(many).fits, false);
  assert.ok(inmMatches(Buffer.from(many), 0, many.length, 0, 9));
  assert.ok(!inmMatches(Buffer.from(many), 0, many.length, 0, 11));
});

/** What the selector decides for an entry of `total` bytes with ETag hi:lo. */
function decide(sel: GetSelector, total: number, hi: number, lo: number): [ReadStatus, number, number] {
  const out = new ReadResult();
  out.totalLength = total;
  out.etagHi = hi;
  out.etagLo = lo;
  return [sel.select(out), out.bodyStart, out.bodyLength];
}

test('GetSelector: If-None-Match before Range, long lists scanned in place', () => {
  const sel = new GetSelector();
  assert.deepEqual(decide(sel, 10, 1, 2), [ReadStatus.Hit, 0, 0]);
  const range = 'bytes=2-5';

  parseRange(Buffer.from(range), 0, range.length, sel.range);
  assert.deepEqual(decide(sel, 10, 1, 2), [ReadStatus.Partial, 2, 4]);
  assert.deepEqual(decide(sel, 2, 1, 2), [ReadStatus.RangeNotSatisfiable, 0, 0]);
  const one = '"0000000100000002"';
  sel.setInm(Buffer.from(one), 0, one.length);
  assert.deepEqual(decide(sel, 10, 1, 2), [ReadStatus.NotModified, 0, 0]);
  // a 416 range loses to a matching tag (RFC 9110 §13.2.2: If-None-Match first)
  assert.deepEqual(decide(sel, 2, 1, 2), [ReadStatus.NotModified, 0, 0]);
  assert.deepEqual(decide(sel, 10, 1, 3), [ReadStatus.Partial, 2, 4]);
  sel.clear();
  const many = Array.from({ length: 10 }, (_, i) => `"${i.toString(16).padStart(16, '0')}"`).join(', ');
  sel.setInm(Buffer.from(many), 0, many.length);
  assert.deepEqual(decide(sel, 10, 0, 9), [ReadStatus.NotModified, 0, 0]);
  assert.deepEqual(decide(sel, 10, 0, 11), [ReadStatus.Hit, 0, 0]);
  sel.clear();
  assert.deepEqual(decide(sel, 10, 0, 9), [ReadStatus.Hit, 0, 0]);
  sel.setInm(Buffer.from('*'), 0, 1);
  assert.deepEqual(decide(sel, 10, 7, 7), [ReadStatus.NotModified, 0, 0]);
});
