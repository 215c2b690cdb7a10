import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server.js';
import { countResponses, parseResponses, raw, req } from '../helpers/engine.js';

/**
 * A GET body is copied into the output arena where the previous 200 head ended, so that head and
 * body are one copy when the heads have the same length. These answers vary the head length (content
 * type, digits of the length, Connection line) and the body size (moved, in place, own segment,
 * over a slab) in every order, pipelined, through the real store.
 */

let s: RunningServer;
before(async () => {
  s = await startServer(['--threads', '1', '--memory', '64MiB', '--max-value-size', '1MiB']);
});
after(async () => {
  await s.stop();
});

const SIZES = [1, 9, 10, 99, 100, 128, 129, 999, 1000, 9999, 10000, 16384, 16385, 65000, 70000, 300000];
const TYPES = ['a/b', 'application/octet-stream', `text/${'x'.repeat(200)}`];

/** n whole responses, the last body included (countResponses counts a body still arriving). */
function whole(n: number): (data: Buffer) => boolean {
  return (data) => {
    const res = parseResponses(data);
    if (res.length < n) return false;
    const last = res[n - 1]!;
    return last.body.length === Number(last.headers.get('content-length') ?? 0);
  };
}

function value(size: number, seed: number): string {
  let v = '';
  for (let i = 0; v.length < size; i++) v += String.fromCharCode(97 + ((i * 7 + seed) % 26));
  return v.slice(0, size);
}

test('GET bodies stay exact whatever the head length before them', async () => {
  const keys: { key: string; body: string; type: string }[] = [];
  let setup = '';
  for (const [i, size] of SIZES.entries()) {
    for (const [j, type] of TYPES.entries()) {
      const key = `lay-${size}-${j}`;
      const body = value(size, i + j);
      keys.push({ key, body, type });
      setup += req('PUT', `/store/${key}`, { 'Content-Type': type }, body);
    }
  }
  const r0 = await raw(s.port, [setup], { until: countResponses(keys.length), timeoutMs: 10000 });
  for (const res of parseResponses(r0.data)) assert.ok(res.status === 201 || res.status === 204);

  // Forward, backward and interleaved orders, so each size follows heads of every length.
  const orders = [
    keys,
    [...keys].reverse(),
    keys.filter((_, i) => i % 2 === 0).concat(keys.filter((_, i) => i % 2)),
  ];
  for (const order of orders) {
    let batch = '';
    for (const [i, k] of order.entries()) {
      // Some requests are HTTP/1.0 keep-alive: a Connection line of another length.
      batch +=
        i % 5 === 4
          ? `GET /get/${k.key} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`
          : req('GET', `/get/${k.key}`);
    }
    const r = await raw(s.port, [batch], { until: whole(order.length), timeoutMs: 10000 });
    const res = parseResponses(r.data);
    assert.equal(res.length, order.length);
    for (const [i, k] of order.entries()) {
      assert.equal(res[i]!.status, 200, k.key);
      assert.equal(res[i]!.headers.get('content-type'), k.type, k.key);
      assert.equal(res[i]!.body.length, k.body.length, k.key);
      assert.equal(res[i]!.body.toString('latin1'), k.body, k.key);
    }
  }
});

test('a 206 and a 304 after a 200 keep their bodies exact', async () => {
  const body = value(5000, 3);
  await raw(s.port, [req('PUT', '/store/lay-range', {}, body)], { until: countResponses(1) });
  const first = await raw(s.port, [req('GET', '/get/lay-range')], { until: countResponses(1) });
  const etag = parseResponses(first.data)[0]!.headers.get('etag')!;
  const batch =
    req('GET', '/get/lay-1-0') +
    req('GET', '/get/lay-range', { Range: 'bytes=100-4099' }) +
    req('GET', '/get/lay-range', { 'If-None-Match': etag }) +
    req('GET', '/get/lay-range', { Range: 'bytes=-10' }) +
    req('GET', '/get/lay-range');
  const r = await raw(s.port, [batch], { until: countResponses(5), timeoutMs: 5000 });
  const res = parseResponses(r.data);
  assert.deepEqual(
    res.map((x) => x.status),
    [200, 206, 304, 206, 200],
  );
  assert.equal(res[1]!.body.toString('latin1'), body.slice(100, 4100));
  assert.equal(res[3]!.body.toString('latin1'), body.slice(-10));
  assert.equal(res[4]!.body.toString('latin1'), body);
});
