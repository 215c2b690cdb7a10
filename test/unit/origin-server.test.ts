// Tests of the scriptable origin (test/helpers/origin-server.ts) that read-through tests rely on.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import {
  startOrigin,
  originBytes,
  originByte,
  OriginBodyCheck,
  type RunningOrigin,
} from '../helpers/origin-server.js';

interface Got {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  chunks: number;
  /** Set when the response did not complete (reset, early close). */
  error: string | null;
  /** ms from sending the request to the status line. */
  headersAfterMs: number;
}

function get(
  o: RunningOrigin,
  p: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Got> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // A fresh connection per request: some scripts end the connection they answer on.
    let responded = false;
    const req = request({ host: o.host, port: o.port, path: p, method, headers, agent: false }, (res) => {
      responded = true;
      const headersAfterMs = performance.now() - t0;
      const parts: Buffer[] = [];
      let settled = false;
      const done = (error: string | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const body = Buffer.concat(parts);
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body,
          chunks: parts.length,
          error,
          headersAfterMs,
        });
      };
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => done(null));
      res.on('aborted', () => done('aborted'));
      res.on('error', (e) => done(e.message));
      res.on('close', () => done(res.complete ? null : 'closed before the end'));
    });
    const timer = setTimeout(() => req.destroy(new Error('no answer within 10 s')), 10_000);
    req.on('error', (e) => {
      // After the status line, a failed connection is reported through the response's events.
      if (responded) return;
      clearTimeout(timer);
      reject(e);
    });
    req.end();
  });
}

let origin: RunningOrigin;
before(async () => {
  origin = await startOrigin({ size: 100_000 });
});
after(async () => {
  await origin.stop();
});
beforeEach(async () => {
  await origin.clearScripts();
  await origin.reset();
});

test('content is deterministic per name, differs between names, and has no short period', () => {
  assert.deepEqual(originBytes('/a', 0, 64), originBytes('/a', 0, 64));
  assert.notDeepEqual(originBytes('/a', 0, 64), originBytes('/b', 0, 64));
  assert.notDeepEqual(originBytes('/a', 0, 4096), originBytes('/a', 4096, 8192));
  const b = originBytes('/a', 10, 20);
  for (let i = 0; i < 10; i++) assert.equal(b[i], originByte('/a', 10 + i));
});

test('the streaming check accepts the right bytes in any split and finds the first wrong one', () => {
  const want = originBytes('/c', 5, 5 + 10_000);
  const good = new OriginBodyCheck('/c', 5);
  for (const [a, b] of [
    [0, 1],
    [1, 4],
    [4, 4099],
    [4099, 10_000],
  ] as const)
    good.update(want.subarray(a, b));
  assert.ok(good.exact(10_000));
  assert.ok(!good.exact(9_999));
  const bad = Buffer.from(want);
  bad[6000] ^= 1;
  const check = new OriginBodyCheck('/c', 5);
  check.update(bad.subarray(0, 4000));
  check.update(bad.subarray(4000));
  assert.equal(check.firstBad, 6000);
  assert.ok(!check.exact(10_000));
  const shifted = new OriginBodyCheck('/c', 6);
  shifted.update(want);
  assert.equal(shifted.firstBad >= 0, true);
});

test('full GET: 200, Content-Length, bytes as computed by the test', async () => {
  const r = await get(origin, '/obj/full?ignored=1');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-length'], '100000');
  assert.equal(r.headers['accept-ranges'], 'bytes');
  assert.deepEqual(r.body, originBytes('/obj/full', 0, 100_000));
});

test('Range: 206 with Content-Range for a-b, a- and -n; 416 beyond the end', async () => {
  const mid = await get(origin, '/obj/r', { Range: 'bytes=4096-8191' });
  assert.equal(mid.status, 206);
  assert.equal(mid.headers['content-range'], 'bytes 4096-8191/100000');
  assert.deepEqual(mid.body, originBytes('/obj/r', 4096, 8192));

  const open = await get(origin, '/obj/r', { Range: 'bytes=99990-' });
  assert.equal(open.headers['content-range'], 'bytes 99990-99999/100000');
  assert.deepEqual(open.body, originBytes('/obj/r', 99_990, 100_000));

  const suffix = await get(origin, '/obj/r', { Range: 'bytes=-5' });
  assert.equal(suffix.headers['content-range'], 'bytes 99995-99999/100000');
  assert.deepEqual(suffix.body, originBytes('/obj/r', 99_995, 100_000));

  const clipped = await get(origin, '/obj/r', { Range: 'bytes=99000-200000' });
  assert.equal(clipped.headers['content-range'], 'bytes 99000-99999/100000');

  const beyond = await get(origin, '/obj/r', { Range: 'bytes=100000-' });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers['content-range'], 'bytes */100000');
});

test('stats count requests and Range headers per path, and reset zeroes them', async () => {
  await get(origin, '/s/1');
  await get(origin, '/s/1', { Range: 'bytes=0-0' });
  await get(origin, '/s/2');
  const s = await origin.stats();
  assert.equal(s.total, 3);
  assert.equal(s.paths['/s/1']?.requests, 2);
  assert.deepEqual(s.paths['/s/1']?.ranges, ['bytes=0-0']);
  assert.equal(await origin.requests('/s/2'), 1);
  assert.equal(await origin.requests('/never'), 0);
  await origin.reset();
  assert.equal((await origin.stats()).total, 0);
});

test('stats show concurrency per path and the latest request headers', async () => {
  await origin.script('/conc', { delayMs: 500, size: 10 });
  await Promise.all([
    get(origin, '/conc'),
    get(origin, '/conc'),
    get(origin, '/conc', { 'X-Probe': 'last' }),
  ]);
  await get(origin, '/conc', { 'If-None-Match': '"v9"' });
  const s = (await origin.stats()).paths['/conc']!;
  // All three were held 500 ms by the delay, so they overlapped; the fourth came after.
  assert.equal(s.maxInFlight, 3);
  assert.equal(s.inFlight, 0);
  assert.equal(s.lastHeaders['if-none-match'], '"v9"');
});

test('scripted size, status codes and a default for every path', async () => {
  await origin.script('/small', { size: 10 });
  assert.deepEqual((await get(origin, '/small')).body, originBytes('/small', 0, 10));
  for (const status of [404, 410, 500]) {
    await origin.script('/gone', { status, cacheControl: 'max-age=30' });
    const r = await get(origin, '/gone');
    assert.equal(r.status, status);
    assert.equal(r.headers['cache-control'], 'max-age=30');
  }
  await origin.script('*', { size: 3 });
  assert.equal((await get(origin, '/any')).body.length, 3);
  await origin.clearScripts();
  assert.equal((await get(origin, '/any')).body.length, 100_000);
});

test('delay before headers holds back the status line', async () => {
  await origin.script('/slow', { delayMs: 150, size: 10 });
  const r = await get(origin, '/slow');
  assert.equal(r.status, 200);
  // A lower bound only: a timer of 150 ms cannot fire early, whatever the load.
  assert.ok(r.headersAfterMs >= 140, `headers after ${r.headersAfterMs} ms`);
});

test('trickle sends the body in small pieces, and they add up to the object', async () => {
  await origin.script('/trickle', { size: 20, trickle: { bytes: 4, intervalMs: 30 } });
  const r = await get(origin, '/trickle');
  assert.equal(r.error, null);
  assert.deepEqual(r.body, originBytes('/trickle', 0, 20));
  // Pieces 30 ms apart reach the client as separate reads (5 written; coalescing would need a stall).
  assert.ok(r.chunks >= 2, `${r.chunks} chunks`);
});

test('reset mid-body: the first bytes arrive, then the connection fails', async () => {
  await origin.script('/reset', { size: 100_000, resetAfter: 1000 });
  const r = await get(origin, '/reset');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-length'], '100000');
  assert.notEqual(r.error, null);
  assert.ok(r.body.length <= 1000);
  assert.deepEqual(r.body, originBytes('/reset', 0, r.body.length));
});

test('short body: Content-Length larger than what is sent, then the connection closes', async () => {
  await origin.script('/short', { size: 5000, shortBy: 1000 });
  const r = await get(origin, '/short');
  assert.equal(r.headers['content-length'], '5000');
  assert.notEqual(r.error, null);
  assert.equal(r.body.length, 4000);
  assert.deepEqual(r.body, originBytes('/short', 0, 4000));
});

test('chunked encoding: no Content-Length, the whole object arrives', async () => {
  await origin.script('/chunked', { size: 50_000, chunked: true, trickle: { bytes: 10_000, intervalMs: 1 } });
  const r = await get(origin, '/chunked');
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  assert.equal(r.headers['content-length'], undefined);
  assert.deepEqual(r.body, originBytes('/chunked', 0, 50_000));
  const ranged = await get(origin, '/chunked', { Range: 'bytes=10-19' });
  assert.equal(ranged.status, 206);
  assert.deepEqual(ranged.body, originBytes('/chunked', 10, 20));
});

test('Cache-Control values, ETag and If-None-Match', async () => {
  for (const cc of ['max-age=60', 's-maxage=5, max-age=60', 'no-store', 'private']) {
    await origin.script('/cc', { cacheControl: cc, size: 1 });
    assert.equal((await get(origin, '/cc')).headers['cache-control'], cc);
  }
  await origin.script('/etag', { etag: '"v1"', size: 10, headers: { 'X-Origin': 'yes' } });
  const r = await get(origin, '/etag');
  assert.equal(r.headers.etag, '"v1"');
  assert.equal(r.headers['x-origin'], 'yes');
  const again = await get(origin, '/etag', { 'If-None-Match': '"v1"' });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  assert.equal((await get(origin, '/etag', { 'If-None-Match': '"v0"' })).status, 200);
});

test('HEAD answers headers only', async () => {
  const r = await get(origin, '/head', {}, 'HEAD');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-length'], '100000');
  assert.equal(r.body.length, 0);
});

test('the CLI defaults apply to every path, and stop() ends the process by PID', async () => {
  const o = await startOrigin({ size: 7, delayMs: 1, cacheControl: 'max-age=3600' });
  try {
    const r = await get(o, '/x');
    assert.equal(r.body.length, 7);
    assert.equal(r.headers['cache-control'], 'max-age=3600');
  } finally {
    await o.stop();
  }
  assert.ok(o.proc.exitCode !== null || o.proc.signalCode !== null);
  assert.throws(() => process.kill(o.proc.pid!, 0));
});
