// If-Match / If-None-Match on writes, parsed from the request's bytes into the store's Precondition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError } from '../../dist/base/errors.js';
import { RequestHead } from '../../dist/parser/request.js';
import { parseWritePrecondition } from '../../dist/http/preconditions.js';
import { Precondition, PreconditionKind } from '../../dist/store/api.js';

/** A head whose If-Match lines and If-None-Match value are spans of one buffer, as the parser leaves them. */
function head(ifMatch: string[], ifNoneMatch?: string[]): RequestHead {
  const h = new RequestHead();
  h.begin();
  let text = '';
  const spans: [number, number][] = [];
  for (const v of ifMatch) {
    spans.push([text.length, v.length]);
    text += v + '\r\n';
  }
  let inm: [number, number] | null = null;
  for (const v of ifNoneMatch ?? []) {
    inm ??= [text.length, v.length];
    text += v + '\r\n';
  }
  h.src = Buffer.from(text, 'latin1');
  h.imCount = ifMatch.length;
  spans.slice(0, 8).forEach(([s, l], k) => {
    h.imSpans[k * 2] = s;
    h.imSpans[k * 2 + 1] = l;
  });
  h.inmCount = ifNoneMatch?.length ?? 0;
  if (inm) [h.inmStart, h.inmLen] = inm;
  return h;
}

function parse(ifMatch: string[], ifNoneMatch?: string[]): { code: number; pre: Precondition } {
  const pre = new Precondition();
  // a record left over from an earlier request must not leak into this one
  pre.addTag(1, 2);
  return { code: parseWritePrecondition(head(ifMatch, ifNoneMatch), pre), pre };
}

const tags = (pre: Precondition): string[] =>
  Array.from({ length: pre.count }, (_, i) => [pre.tags[i * 2]!, pre.tags[i * 2 + 1]!]).map(
    ([hi, lo]) => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0'),
  );

test('no condition: kind None', () => {
  const { code, pre } = parse([]);
  assert.equal(code, 0);
  assert.equal(pre.kind, PreconditionKind.None);
  assert.equal(pre.count, 0);
});

test('If-Match: one tag, a list, several lines, hex in either case', () => {
  let r = parse(['"0123456789abcdef"']);
  assert.equal(r.code, 0);
  assert.equal(r.pre.kind, PreconditionKind.IfMatchTags);
  assert.deepEqual(tags(r.pre), ['0123456789abcdef']);
  r = parse(['"0000000000000001", "FFFFFFFFFFFFFFFF" ,"00000000ffffffff"']);
  assert.deepEqual(tags(r.pre), ['0000000000000001', 'ffffffffffffffff', '00000000ffffffff']);
  r = parse(['"0000000000000001"', '"0000000000000002", "0000000000000003"']);
  assert.deepEqual(tags(r.pre), ['0000000000000001', '0000000000000002', '0000000000000003']);
});

test('If-Match compares strongly: weak tags and tags that cannot be ours never match', () => {
  for (const value of [
    'W/"0123456789abcdef"',
    '"not-ours"',
    '"0123456789abcdeg"',
    '"0123456789abcde"',
    'garbage',
    '',
  ]) {
    const r = parse([value]);
    assert.equal(r.code, 0, value);
    assert.equal(r.pre.kind, PreconditionKind.IfMatchTags, value);
    assert.equal(r.pre.count, 0, value);
    assert.equal(r.pre.holds(true, 0x01234567, 0x89abcdef), false, value);
    assert.equal(r.pre.holds(false, 0, 0), false, value);
  }
  const r = parse(['W/"0000000000000001", "0000000000000002", junk, "x"']);
  assert.deepEqual(tags(r.pre), ['0000000000000002']);
});

test('If-Match: * needs the key to exist, on any line', () => {
  for (const lines of [['*'], [' * '.trim()], ['"0000000000000001"', '*']]) {
    const r = parse(lines);
    assert.equal(r.code, 0);
    assert.equal(r.pre.kind, PreconditionKind.IfMatchAny);
    assert.equal(r.pre.holds(true, 5, 6), true);
    assert.equal(r.pre.holds(false, 0, 0), false);
  }
});

test('If-None-Match: * is create-only; tags on a write are refused, both headers together never hold', () => {
  const r = parse([], ['*']);
  assert.equal(r.code, 0);
  assert.equal(r.pre.kind, PreconditionKind.IfNoneMatchAny);
  assert.equal(r.pre.holds(false, 0, 0), true);
  assert.equal(r.pre.holds(true, 1, 2), false);
  assert.equal(parse([], ['"0000000000000001"']).code, HttpError.BAD_PRECONDITION);
  assert.equal(parse([], ['*, "0000000000000001"']).code, HttpError.BAD_PRECONDITION);
  assert.equal(parse([], ['*', '*']).code, HttpError.BAD_PRECONDITION);
  assert.equal(parse([], ['']).code, HttpError.BAD_PRECONDITION);
  assert.equal(parse(['*'], ['*']).code, HttpError.PRECONDITION_FAILED);
  assert.equal(parse(['"0000000000000001"'], ['*']).code, HttpError.PRECONDITION_FAILED);
});

test('bounds: more than 8 tags that could be ours, or more than 8 If-Match lines, is a 400', () => {
  const t = (i: number): string => `"${i.toString(16).padStart(16, '0')}"`;
  const eight = Array.from({ length: 8 }, (_, i) => t(i + 1));
  assert.equal(parse([eight.join(', ')]).code, 0);
  assert.equal(parse([eight.join(', ')]).pre.count, 8);
  assert.equal(parse([[...eight, t(9)].join(', ')]).code, HttpError.BAD_PRECONDITION);
  // weak or foreign tags do not count against the bound: they can never match anyway
  assert.equal(parse([[...eight, 'W/' + t(9), '"x"'].join(', ')]).code, 0);
  assert.equal(parse(eight).code, 0);
  assert.equal(parse([...eight, '*']).code, HttpError.BAD_PRECONDITION);
});
