import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startTinyServer, type RunningServer } from '../helpers/server.js';
import { countResponses, parseResponses, raw, req } from '../helpers/engine.js';

/** The docs/http-api.md rows end to end: dist/main.js, worker threads, the real shared store. */

let s: RunningServer;
before(async () => {
  s = await startServer(['--threads', '2', '--memory', '64MiB', '--max-value-size', '1MiB']);
});
after(async () => {
  await s.stop();
});

async function one(request: string, head = false) {
  const r = await raw(s.port, [request], { until: countResponses(1), timeoutMs: 3000 });
  const [res] = parseResponses(r.data, [head]);
  assert.ok(res, 'no response');
  return res;
}

test('store, read, range, conditional, head, delete through the real store', async () => {
  assert.equal((await one(req('GET', '/'))).body.toString(), 'Hello, World!');
  assert.equal(
    (await one(req('POST', '/store/videos/42/chunk-0007', { 'Content-Type': 'video/mp4' }, 'abcdefghij')))
      .status,
    201,
  );
  assert.equal(
    (await one(req('PUT', '/store/videos/42/chunk-0007', { 'Content-Type': 'video/mp4' }, '0123456789')))
      .status,
    200,
  );
  const get = await one(req('GET', '/get/videos%2F42%2Fchunk-0007'));
  assert.equal(get.status, 200);
  assert.equal(get.body.toString(), '0123456789');
  assert.equal(get.headers.get('content-type'), 'video/mp4');
  const etag = get.headers.get('etag')!;
  assert.match(etag, /^"[0-9a-f]{16}"$/);
  const part = await one(req('GET', '/get/videos/42/chunk-0007', { Range: 'bytes=2-4' }));
  assert.equal(part.status, 206);
  assert.equal(part.body.toString(), '234');
  assert.equal(part.headers.get('content-range'), 'bytes 2-4/10');
  assert.equal((await one(req('GET', '/get/videos/42/chunk-0007', { Range: 'bytes=10-' }))).status, 416);
  assert.equal((await one(req('GET', '/get/videos/42/chunk-0007', { 'If-None-Match': etag }))).status, 304);
  assert.equal(
    (await one(req('GET', '/get/videos/42/chunk-0007', { 'If-None-Match': `W/${etag}` }))).status,
    304,
  );
  const head = await one(req('HEAD', '/get/videos/42/chunk-0007'), true);
  assert.equal(head.headers.get('content-length'), '10');
  assert.equal((await one(req('DELETE', '/store/videos/42/chunk-0007'))).status, 204);
  assert.equal((await one(req('DELETE', '/store/videos/42/chunk-0007'))).status, 404);
  assert.equal((await one(req('GET', '/get/videos/42/chunk-0007'))).status, 404);
});

test('%FF keys, chunked bodies and TTL through the real store', async () => {
  assert.equal(
    (await one(req('POST', '/store/%FF?ttl=1', { 'Transfer-Encoding': 'chunked' }, '2\r\nhi\r\n0\r\n\r\n')))
      .status,
    201,
  );
  const got = await one(req('GET', '/get/%ff'));
  assert.equal(got.body.toString(), 'hi');
  assert.equal(got.headers.get('content-type'), 'application/octet-stream');
  await new Promise((r) => setTimeout(r, 2100));
  assert.equal((await one(req('GET', '/get/%FF'))).status, 404);
});

test('every error row answers its status (and closes where docs/http-api.md says so)', async () => {
  const rows: [string, string, number, boolean][] = [
    ['unparsable', 'HELLO\r\n\r\n', 400, true],
    [
      'CL+TE',
      'POST /store/v HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      true,
    ],
    ['missing Host', 'GET / HTTP/1.1\r\n\r\n', 400, true],
    ['unknown path', req('GET', '/nope'), 404, false],
    ['wrong method', req('DELETE', '/'), 405, false],
    ['413', 'POST /store/v HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n', 413, true],
    ['414', req('GET', '/get/' + 'a'.repeat(9000)), 414, true],
    ['431', req('GET', '/', { 'X-A': 'a'.repeat(17000) }), 431, true],
    ['501', req('POST', '/store/v', { 'Transfer-Encoding': 'br' }), 501, true],
    ['505', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505, true],
    ['400 key', req('GET', '/get/'), 400, false],
  ];
  for (const [name, input, status, closes] of rows) {
    const r = await raw(s.port, [input + (closes ? '' : req('GET', '/'))], {
      timeoutMs: 3000,
      until: closes ? undefined : countResponses(2),
    });
    const res = parseResponses(r.data);
    assert.equal(res[0]?.status, status, name);
    assert.equal(r.closed, closes, name);
    if (closes) assert.equal(res[0]!.headers.get('connection'), 'close', name);
    else assert.equal(res[1]?.status, 200, name);
  }
});

test('507 when the value can never fit the store', async () => {
  const big = await startTinyServer();
  try {
    const body = Buffer.alloc(8 * 1024 * 1024, 0x61);
    const r = await raw(
      big.port,
      [
        Buffer.concat([
          Buffer.from(`PUT /store/huge HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`),
          body,
        ]),
        req('GET', '/'),
      ],
      { until: countResponses(2), timeoutMs: 10000 },
    );
    const res = parseResponses(r.data);
    assert.equal(res[0]?.status, 507);
    assert.equal(res[1]?.status, 200);
  } finally {
    await big.stop();
  }
});

test('/metrics sums both threads; /healthz is ok', async () => {
  assert.equal((await one(req('GET', '/healthz'))).body.toString(), 'ok\n');
  const text = (await one(req('GET', '/metrics'))).body.toString();
  assert.match(text, /^stripecache_cache_memory_budget_bytes 67108864$/m);
  assert.match(text, /^stripecache_connections_open\{thread="1"\} \d+$/m);
  assert.match(text, /^stripecache_http_requests_total\{route="get",status="200"\} \d+$/m);
});
