import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldList } from '../../dist/h2/hpack.js';
import { MALFORMED, fillFromFields, trailersOk } from '../../dist/h2/fields.js';
import { RequestHead } from '../../dist/parser/request.js';
import { HttpError } from '../../dist/base/errors.js';

/** Request header sections RFC 9113 §8.1.1 / §8.3.1 calls malformed, and what a valid one fills in. */

function list(pairs: [string, string][]): FieldList {
  const l = new FieldList();
  for (const [n, v] of pairs) {
    l.names[l.n] = n;
    l.values[l.n] = v;
    l.n++;
  }
  return l;
}

const BASE: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/get/k'],
  [':authority', 'h'],
];

test('a valid request fills the head as the HTTP/1.1 parser would', () => {
  const head = new RequestHead();
  const code = fillFromFields(
    head,
    list([...BASE, ['range', 'bytes=0-1'], ['content-type', 'text/x']]),
    false,
  );
  assert.equal(code, 0);
  assert.equal(
    Buffer.from(head.src).toString('latin1', head.urlStart, head.urlStart + head.urlLen),
    '/get/k',
  );
  assert.equal(head.rangeCount, 1);
  assert.equal(head.ctCount, 1);
  assert.equal(head.contentLength, -1);
});

test('malformed requests', () => {
  const cases: [string, [string, string][]][] = [
    ['no :method', BASE.slice(1)],
    ['no :path', BASE.filter(([n]) => n !== ':path')],
    ['no :scheme', BASE.filter(([n]) => n !== ':scheme')],
    ['empty :path', [...BASE.slice(0, 2), [':path', ''], BASE[3]!]],
    ['two :method', [...BASE, [':method', 'GET']]],
    ['a pseudo-field after a regular one', [BASE[0]!, ['accept', '*/*'], ...BASE.slice(1)]],
    ['an unknown pseudo-field', [...BASE, [':protocol', 'websocket']]],
    ['a response pseudo-field', [...BASE, [':status', '200']]],
    ['an uppercase name', [...BASE, ['Accept', '*/*']]],
    ['a connection-specific field', [...BASE, ['connection', 'keep-alive']]],
    ['transfer-encoding', [...BASE, ['transfer-encoding', 'chunked']]],
    ['te other than trailers', [...BASE, ['te', 'gzip']]],
    ['a value with CR LF', [...BASE, ['x-a', 'a\r\nb: c']]],
    ['a value with leading space', [...BASE, ['x-a', ' a']]],
    ['a non-numeric content-length', [...BASE, ['content-length', '1x']]],
    ['two different content-lengths', [...BASE, ['content-length', '1'], ['content-length', '2']]],
  ];
  for (const [name, pairs] of cases) {
    assert.equal(fillFromFields(new RequestHead(), list(pairs), true), MALFORMED, name);
  }
  assert.equal(trailersOk(list([['x-sum', 'abc']])), true);
  assert.equal(trailersOk(list([[':path', '/']])), false);
});

test('the HTTP/1.1 limits: URI too long (414), header section too large (431)', () => {
  const longPath = '/' + 'a'.repeat(9000);
  assert.equal(
    fillFromFields(new RequestHead(), list([...BASE.slice(0, 2), [':path', longPath]]), false),
    HttpError.URI_TOO_LONG,
  );
  const big: [string, string][] = [...BASE];
  for (let i = 0; i < 40; i++) big.push([`x-f${i}`, 'v'.repeat(500)]);
  assert.equal(fillFromFields(new RequestHead(), list(big), false), HttpError.HEADERS_TOO_LARGE);
});
