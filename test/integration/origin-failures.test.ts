// Read-through failure policy: each row of the failure table, for the first client and for the
// clients (on both threads) coalesced onto its fetch; Cache-Control; write-around.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server.js';
import {
  startOrigin,
  originBytes,
  type OriginBehaviour,
  type RunningOrigin,
} from '../helpers/origin-server.js';
import { fetchAnswer, put, type Answer } from '../helpers/origin-client.js';

let origin: RunningOrigin;
let server: RunningServer;

before(async () => {
  origin = await startOrigin({ size: 1000 });
  server = await startServer([
    '--threads',
    '2',
    '--origin',
    `${origin.url}/o/`,
    '--origin-timeout',
    '2s',
    '--max-value-size',
    '1MiB',
    '--negative-ttl',
    '30s',
    '--concurrency-limit',
    '1000',
  ]);
});

after(async () => {
  await server?.stop();
  await origin?.stop();
});

beforeEach(async () => {
  await origin.clearScripts();
});

/** `n` concurrent GETs of one key (fresh connections: spread over both threads). */
function storm(key: string, n: number, headers: Record<string, string> = {}): Promise<Answer[]> {
  return Promise.all(Array.from({ length: n }, () => fetchAnswer(server.port, `/get/${key}`, { headers })));
}

async function row(key: string, b: OriginBehaviour, status: number, cacheStatus: RegExp): Promise<void> {
  // The delay lets every client join the one fetch before it ends (700 ms: on a loaded machine
  // 300 ms was seen to let a late client miss the failed fill and fetch again).
  await origin.script(`/o/${key}`, { delayMs: 700, ...b });
  const answers = await storm(key, 40);
  assert.equal(await origin.requests(`/o/${key}`), 1, `${key}: one origin request`);
  for (const a of answers) {
    assert.equal(a.status, status, `${key}: ${a.headers['cache-status']}`);
    assert.match(String(a.headers['cache-status']), cacheStatus, key);
  }
}

test('origin 404 and 410: 404 for everyone, remembered for --negative-ttl', async () => {
  await row('gone404', { status: 404 }, 404, /stripecache; (fwd=miss; fwd-status=404|hit; detail=negative)/);
  await row('gone410', { status: 410 }, 404, /stripecache; (fwd=miss; fwd-status=404|hit; detail=negative)/);
  // Remembered on both threads: no further origin request.
  const again = await storm('gone404', 20);
  for (const a of again) {
    assert.equal(a.status, 404);
    assert.match(String(a.headers['cache-status']), /hit; detail=negative/);
  }
  assert.equal(await origin.requests('/o/gone404'), 1);
});

test('a 404 learned by one thread is answered by every thread without an origin request', async () => {
  await origin.script('/o/lonely404', { status: 404 });
  // One client alone: only the thread it lands on took part in the fetch.
  const first = await fetchAnswer(server.port, '/get/lonely404');
  assert.equal(first.status, 404);
  assert.match(String(first.headers['cache-status']), /fwd-status=404/);
  // Fresh connections spread over both threads (all 30 on one: odds of 2^-29).
  const again = await storm('lonely404', 30);
  for (const a of again) {
    assert.equal(a.status, 404);
    assert.match(String(a.headers['cache-status']), /hit; detail=negative/);
  }
  assert.equal(await origin.requests('/o/lonely404'), 1);
});

test('origin 500, reset, short body: 502 for everyone, nothing stored', async () => {
  await row('err500', { status: 500 }, 502, /detail=origin-failed/);
  await row('reset', { size: 100_000, resetAfter: 5000 }, 502, /detail=origin-failed/);
  await row('short', { size: 100_000, shortBy: 10 }, 502, /detail=origin-failed/);
  // Nothing was stored: the next request fetches again.
  await origin.clearScripts();
  const a = await fetchAnswer(server.port, '/get/short');
  assert.equal(a.status, 200);
  assert.deepEqual(a.body, originBytes('/o/short', 0, 1000));
  assert.equal(await origin.requests('/o/short'), 2);
});

test('origin too slow: 504 for everyone, nothing stored', async () => {
  await row('slow', { delayMs: 3500 }, 504, /detail=origin-timeout/);
  await row('slowbody', { size: 200_000, trickle: { bytes: 1000, intervalMs: 50 } }, 504, /timeout/);
});

test('origin value over --max-value-size: 502, nothing stored', async () => {
  await row('huge', { size: 2 * 1024 * 1024 }, 502, /detail=too-large/);
});

test('Cache-Control no-store and private: served to every waiter, not stored', async () => {
  for (const cc of ['no-store', 'private', 'max-age=0']) {
    const key = `cc-${cc.replace(/[^a-z0-9]/g, '')}`;
    await origin.script(`/o/${key}`, { delayMs: 300, cacheControl: cc });
    const answers = await storm(key, 30);
    for (const a of answers) {
      assert.equal(a.status, 200, cc);
      assert.deepEqual(a.body, originBytes(`/o/${key}`, 0, 1000), cc);
    }
    const n = await origin.requests(`/o/${key}`);
    assert.ok(n >= 1 && n <= 2, `${cc}: ${n} origin requests for 30 coalesced clients`);
    await fetchAnswer(server.port, `/get/${key}`);
    assert.equal(await origin.requests(`/o/${key}`), n + 1, `${cc}: not stored, fetched again`);
  }
});

test('Cache-Control max-age / s-maxage set the TTL', async () => {
  await origin.script('/o/short-lived', { cacheControl: 'max-age=600, s-maxage=1' });
  assert.equal((await fetchAnswer(server.port, '/get/short-lived')).status, 200);
  const hit = await fetchAnswer(server.port, '/get/short-lived');
  // The first answer is complete before the fill is published (its bytes go out as they arrive),
  // so a request sent the moment it arrived can still join the fill on another thread.
  assert.match(String(hit.headers['cache-status']), /^stripecache; (hit|fwd=miss; collapsed)$/);
  assert.equal(await origin.requests('/o/short-lived'), 1);
  // s-maxage=1 wins over max-age: expired within about two seconds (the store counts whole seconds).
  await new Promise((r) => setTimeout(r, 3200));
  assert.equal((await fetchAnswer(server.port, '/get/short-lived')).status, 200);
  assert.equal(await origin.requests('/o/short-lived'), 2);
});

test('writes stay local (write-around); a stored value is a hit without the origin', async () => {
  assert.equal(await put(server.port, '/store/local', 'mine'), 201);
  const a = await fetchAnswer(server.port, '/get/local');
  assert.equal(a.status, 200);
  assert.equal(a.body.toString(), 'mine');
  assert.equal(a.headers['cache-status'], 'stripecache; hit');
  assert.equal(await origin.requests('/o/local'), 0);
  const stats = await origin.stats();
  assert.equal(stats.paths['/o/local'], undefined);
});

test('the key is appended with each path segment percent-encoded', async () => {
  const a = await fetchAnswer(server.port, '/get/dir%2Fsub%20file%3F..');
  assert.equal(a.status, 200);
  assert.equal(await origin.requests('/o/dir/sub%20file%3F..'), 1);
  const dots = await fetchAnswer(server.port, '/get/a%2F..%2Fb');
  assert.equal(dots.status, 200);
  assert.equal(await origin.requests('/o/a/%2E%2E/b'), 1);
});

test('over --origin-max-waiters: 503 with Retry-After for the extra ones', async () => {
  const o2 = await startOrigin({ size: 1000, delayMs: 500 });
  const s2 = await startServer([
    '--threads',
    '2',
    '--origin',
    o2.url,
    '--origin-max-waiters',
    '5',
    '--concurrency-limit',
    '1000',
  ]);
  try {
    const answers = await Promise.all(Array.from({ length: 30 }, () => fetchAnswer(s2.port, '/get/popular')));
    const ok = answers.filter((a) => a.status === 200);
    const busy = answers.filter((a) => a.status === 503);
    assert.equal(ok.length + busy.length, 30);
    assert.ok(busy.length >= 30 - 6 - 1, `${busy.length} refused`);
    for (const a of busy) assert.equal(a.headers['retry-after'], '1');
    assert.equal(await o2.requests('/popular'), 1);
  } finally {
    await s2.stop();
    await o2.stop();
  }
});

test('/metrics: origin requests by result, coalesced waiters, origin bytes, fills in flight, fetch durations', async () => {
  await origin.script('/o/metered', { delayMs: 200 });
  await storm('metered', 10);
  const page = (await fetchAnswer(server.port, '/metrics')).body.toString();
  const value = (name: string): number => {
    const m = new RegExp(`^${name.replace(/[{}"=+.]/g, '\\$&')} (\\S+)$`, 'm').exec(page);
    assert.ok(m !== null, `${name} in:\n${page}`);
    return Number(m[1]);
  };
  assert.ok(value('stripecache_origin_requests_total{result="stored"}') >= 1);
  assert.ok(value('stripecache_origin_requests_total{result="failed"}') >= 3);
  assert.ok(value('stripecache_origin_requests_total{result="timeout"}') >= 2);
  assert.ok(value('stripecache_origin_requests_total{result="not_found"}') >= 2);
  assert.ok(value('stripecache_origin_coalesced_waiters_total') >= 9);
  assert.ok(value('stripecache_origin_bytes_total') >= 1000);
  assert.equal(value('stripecache_origin_fills_in_flight'), 0);
  const count = value('stripecache_origin_fetch_duration_seconds_count');
  assert.equal(value('stripecache_origin_fetch_duration_seconds_bucket{le="+Inf"}'), count);
});
