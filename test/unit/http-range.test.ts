import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RangeFit, RangeKind, RangeSpec, parseRange, resolveRange } from '../../dist/http/range.js';

test('Range forms', () => {
  const r = (s: string) => {
    const out = new RangeSpec();
    parseRange(Buffer.from(s), 0, s.length, out);
    return [out.kind, out.a, out.b];
  };
  assert.deepEqual(r('bytes=0-9'), [RangeKind.FromTo, 0, 9]);
  assert.deepEqual(r('bytes=5-'), [RangeKind.From, 5, 0]);
  assert.deepEqual(r('bytes=-3'), [RangeKind.Suffix, 3, 3]);
  assert.deepEqual(r('BYTES=1-2'), [RangeKind.FromTo, 1, 2]);
  for (const bad of [
    'bytes=0-1,3-4',
    'bytes=5-2',
    'bytes=-',
    'items=0-1',
    'bytes=a-1',
    'bytes=1',
    'bytes= 1-2',
  ]) {
    assert.equal(r(bad)[0], RangeKind.None, bad);
  }
});

function spec(kind: RangeKind, a: number, b: number): RangeSpec {
  const s = new RangeSpec();
  s.kind = kind;
  s.a = a;
  s.b = b;
  return s;
}

test('every Range edge case, resolved against a 10-byte value', () => {
  const cases: [RangeKind, number, number, RangeFit, number, number][] = [
    [RangeKind.None, 0, 0, RangeFit.Whole, 0, 0],
    [RangeKind.FromTo, 0, 0, RangeFit.Partial, 0, 1],
    [RangeKind.FromTo, 2, 5, RangeFit.Partial, 2, 4],
    [RangeKind.FromTo, 9, 9, RangeFit.Partial, 9, 1],
    [RangeKind.FromTo, 5, 100, RangeFit.Partial, 5, 5],
    [RangeKind.FromTo, 0, 9, RangeFit.Partial, 0, 10],
    [RangeKind.FromTo, 10, 12, RangeFit.Unsatisfiable, 0, 0],
    [RangeKind.FromTo, 6, 3, RangeFit.Whole, 0, 0],
    [RangeKind.From, 0, 0, RangeFit.Partial, 0, 10],
    [RangeKind.From, 3, 0, RangeFit.Partial, 3, 7],
    [RangeKind.From, 9, 0, RangeFit.Partial, 9, 1],
    [RangeKind.From, 10, 0, RangeFit.Unsatisfiable, 0, 0],
    [RangeKind.Suffix, 3, 0, RangeFit.Partial, 7, 3],
    [RangeKind.Suffix, 10, 0, RangeFit.Partial, 0, 10],
    [RangeKind.Suffix, 20, 0, RangeFit.Partial, 0, 10],
    [RangeKind.Suffix, 0, 0, RangeFit.Unsatisfiable, 0, 0],
  ];
  for (const [kind, a, b, fit, start, len] of cases) {
    const out = { bodyStart: 0, bodyLength: 0 };
    const what = `kind ${kind} ${a}-${b}`;
    assert.equal(resolveRange(spec(kind, a, b), 10, out), fit, what);
    // only a partial range writes the span
    assert.deepEqual(out, { bodyStart: start, bodyLength: len }, what);
  }
});

test('any range of an empty value is unsatisfiable; no range is the whole (empty) value', () => {
  for (const kind of [RangeKind.FromTo, RangeKind.From, RangeKind.Suffix]) {
    const out = { bodyStart: 0, bodyLength: 0 };
    assert.equal(resolveRange(spec(kind, 0, 0), 0, out), RangeFit.Unsatisfiable, `empty value, kind ${kind}`);
  }
  assert.equal(resolveRange(new RangeSpec(), 0, { bodyStart: 0, bodyLength: 0 }), RangeFit.Whole);
});

test('ranges of large values clamp to the last byte', () => {
  for (const n of [65536 - 100, 65536, 65536 + 1, 3 * 65536 + 777, 1_000_003]) {
    for (const [a, b] of [
      [0, 0],
      [65530, 65545],
      [n - 5, n + 5],
      [n - 1, n - 1],
      [1, n - 2],
    ] as const) {
      if (a >= n) continue;
      const out = { bodyStart: 0, bodyLength: 0 };
      assert.equal(resolveRange(spec(RangeKind.FromTo, a, b), n, out), RangeFit.Partial);
      assert.deepEqual(
        out,
        { bodyStart: a, bodyLength: Math.min(b, n - 1) + 1 - a },
        `size ${n} range ${a}-${b}`,
      );
    }
  }
});
