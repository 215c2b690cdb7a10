import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestHead } from '../../dist/parser/request.js';
import { Method } from '../../dist/parser/llhttp.js';
import { HttpError } from '../../dist/base/errors.js';
import { Route } from '../../dist/http/metrics.js';
import { KeyScratch, keyOf, parseTtl, routeHead } from '../../dist/http/routes.js';

function head(method: number, target: string, ct = ''): RequestHead {
  const h = new RequestHead();
  h.begin();
  const src = Buffer.from(target + '|' + ct, 'latin1');
  h.src = src;
  h.method = method;
  h.urlStart = 0;
  h.urlLen = Buffer.byteLength(target, 'latin1');
  h.ctStart = h.urlLen + 1;
  h.ctLen = ct.length;
  return h;
}

const scratch = new KeyScratch();

test('routes by path and method', () => {
  const cases: [number, string, number, number][] = [
    [Method.GET, '/', Route.Root, 0],
    [Method.HEAD, '/?x=1', Route.Root, 0],
    [Method.POST, '/', Route.Root, HttpError.METHOD_GET_HEAD],
    [Method.GET, '/get/k', Route.Get, 0],
    [Method.HEAD, '/get/k', Route.Get, 0],
    [Method.DELETE, '/get/k', Route.Get, HttpError.METHOD_GET_HEAD],
    [Method.POST, '/store/k', Route.Store, 0],
    [Method.PUT, '/store/k?ttl=10', Route.Store, 0],
    [Method.DELETE, '/store/k', Route.Store, 0],
    [Method.GET, '/store/k', Route.Store, HttpError.METHOD_STORE],
    [Method.GET, '/healthz', Route.Healthz, 0],
    [Method.GET, '/metrics', Route.Metrics, 0],
    [Method.PUT, '/metrics', Route.Metrics, HttpError.METHOD_GET_HEAD],
    [Method.GET, '/nope', Route.Other, HttpError.NOT_FOUND],
    [Method.GET, '/healthzz', Route.Other, HttpError.NOT_FOUND],
    [Method.GET, '/store', Route.Other, HttpError.NOT_FOUND],
    [Method.GET, '/get/', Route.Get, HttpError.BAD_KEY],
    [Method.POST, '/store/', Route.Store, HttpError.BAD_KEY],
    [Method.GET, '/get/%zz', Route.Get, HttpError.BAD_PERCENT],
    [Method.GET, '/get/a%2', Route.Get, HttpError.BAD_PERCENT],
    [Method.GET, '/get/' + 'k'.repeat(1024), Route.Get, 0],
    [Method.GET, '/get/' + 'k'.repeat(1025), Route.Get, HttpError.BAD_KEY],
    [Method.GET, '/get/' + '%41'.repeat(1024), Route.Get, 0],
    [Method.GET, '/get/' + '%41'.repeat(1025), Route.Get, HttpError.BAD_KEY],
    [Method.POST, '/store/k?ttl=0', Route.Store, HttpError.BAD_TTL],
    [Method.POST, '/store/k?ttl=-1', Route.Store, HttpError.BAD_TTL],
    [Method.POST, '/store/k?ttl=1.5', Route.Store, HttpError.BAD_TTL],
    [Method.POST, '/store/k?ttl=', Route.Store, HttpError.BAD_TTL],
    [Method.POST, '/store/k?ttl', Route.Store, HttpError.BAD_TTL],
    [Method.POST, '/store/k?a=b&ttl=5', Route.Store, 0],
    [Method.GET, 'http://example.com/get/k', Route.Get, 0],
    [Method.GET, 'http://example.com', Route.Root, 0],
  ];
  for (const [m, target, route, code] of cases) {
    const h = head(m, target);
    assert.equal(routeHead(h), code, target);
    assert.equal(h.route, route, target);
  }
});

test('Content-Type over 255 bytes is refused on store', () => {
  assert.equal(routeHead(head(Method.POST, '/store/k', 'a'.repeat(255))), 0);
  assert.equal(routeHead(head(Method.POST, '/store/k', 'a'.repeat(256))), HttpError.CONTENT_TYPE_TOO_LONG);
});

test('keys are percent-decoded bytes, may hold /, and stop at ?', () => {
  const cases: [string, number[]][] = [
    ['/get/videos/42/chunk-0007', [...Buffer.from('videos/42/chunk-0007')]],
    ['/get/%FF', [0xff]],
    ['/get/a%2fb?x', [...Buffer.from('a/b')]],
    ['/get/a+b', [...Buffer.from('a+b')]],
    ['/get/%00', [0]],
  ];
  for (const [target, bytes] of cases) {
    const h = head(Method.GET, target);
    assert.equal(routeHead(h), 0);
    assert.deepEqual([...keyOf(h, scratch)], bytes, target);
  }
});

test('ttl parameter', () => {
  const t = (s: string) => parseTtl(Buffer.from(s), 0, s.length);
  assert.equal(t(''), 0);
  assert.equal(t('x=1'), 0);
  assert.equal(t('ttl=60'), 60);
  assert.equal(t('ttl=1&ttl=2'), 2);
  assert.equal(t('ttl=abc'), -1);
  assert.equal(t('ttl=99999999999'), -1);
});
