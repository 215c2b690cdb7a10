// Read-through answers carry Age (seconds since the origin generated the value, its own Age
// included) on every GET/HEAD, hits too, and the origin's strong ETag, which If-None-Match is
// matched against; on both threads, for whole objects and for slices.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server.js';
import { startOrigin, originBytes, type RunningOrigin } from '../helpers/origin-server.js';
import { fetchAnswer, put, type Answer } from '../helpers/origin-client.js';

const MiB = 1024 * 1024;
let origin: RunningOrigin;
let server: RunningServer;
let sliced: RunningServer;

before(async () => {
  origin = await startOrigin({ size: 1000 });
  const common = ['--threads', '2', '--origin', origin.url, '--concurrency-limit', '1000'];
  server = await startServer(common);
  sliced = await startServer([...common, '--origin-slice', '1MiB']);
});

after(async () => {
  await sliced?.stop();
  await server?.stop();
  await origin?.stop();
});

const age = (a: Answer): number => {
  assert.match(String(a.headers['age']), /^\d+$/, `Age header: ${String(a.headers['age'])}`);
  return Number(a.headers['age']);
};

/**
 * Until the value is in the store: the first answers can leave before the fill has published it
 * (a request then still joins the fill). Bounded.
 */
async function settled(s: RunningServer, path: string): Promise<void> {
  for (let i = 0; ; i++) {
    const a = await fetchAnswer(s.port, path, { method: 'HEAD' });
    if (a.headers['cache-status'] === 'stripecache; hit') return;
    assert.ok(i < 100, `${path} never stored`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `n` GETs on fresh connections (spread over both threads). */
function many(
  s: RunningServer,
  path: string,
  n: number,
  headers: Record<string, string> = {},
): Promise<Answer[]> {
  return Promise.all(Array.from({ length: n }, () => fetchAnswer(s.port, path, { headers })));
}

test('Age on every answer: 0 from the fetch, then the seconds the value spent here, on hits of both threads', async () => {
  const first = await fetchAnswer(server.port, '/get/aged');
  assert.equal(first.status, 200);
  assert.match(String(first.headers['cache-status']), /fwd=miss; stored/);
  assert.ok(age(first) <= 1);
  const sliceFirst = await fetchAnswer(sliced.port, '/get/aged-slice', { headers: { range: 'bytes=0-9' } });
  assert.equal(sliceFirst.status, 206);
  assert.ok(age(sliceFirst) <= 1);
  await new Promise((r) => setTimeout(r, 2100));
  const hits = [
    ...(await many(server, '/get/aged', 10)),
    ...(await many(server, '/get/aged', 6, { range: 'bytes=10-19' })),
    ...(await Promise.all([1, 2, 3].map(() => fetchAnswer(server.port, '/get/aged', { method: 'HEAD' })))),
    ...(await many(server, '/get/aged', 4, { range: 'bytes=5000-' })),
  ];
  for (const h of hits) {
    assert.equal(h.headers['cache-status'], 'stripecache; hit');
    assert.ok(age(h) >= 2 && age(h) < 60, `Age ${age(h)}`);
  }
  assert.deepEqual([...new Set(hits.map((h) => h.status))].sort(), [200, 206, 416]);
  assert.ok(hits[0]!.body.equals(originBytes('/aged', 0, 1000)));
  assert.ok(hits[10]!.body.equals(originBytes('/aged', 10, 20)));
  assert.equal(hits[10]!.headers['content-type'], 'application/octet-stream');
  const sliceHits = await many(sliced, '/get/aged-slice', 6, { range: 'bytes=3-12' });
  for (const h of sliceHits) {
    assert.equal(h.headers['cache-status'], 'stripecache; hit');
    assert.ok(age(h) >= 2 && age(h) < 60, `slice Age ${age(h)}`);
    assert.ok(h.body.equals(originBytes('/aged-slice', 3, 13)));
  }
  assert.equal(await origin.requests('/aged'), 1);
  assert.equal(await origin.requests('/aged-slice'), 1);
});

test("the origin's own Age is added", async () => {
  await origin.script('/old', { headers: { age: '100' } });
  const first = await fetchAnswer(server.port, '/get/old');
  assert.ok(age(first) >= 100 && age(first) < 130, `Age ${age(first)}`);
  await settled(server, '/get/old');
  for (const h of await many(server, '/get/old', 6)) {
    assert.equal(h.headers['cache-status'], 'stripecache; hit');
    assert.ok(age(h) >= 100 && age(h) < 130, `Age ${age(h)}`);
  }
});

test("the origin's strong ETag is served (fetch, waiters, hits) and If-None-Match with it gets 304", async () => {
  await origin.script('/tagged', { etag: '"v1-abc"', delayMs: 300 });
  const storm = await many(server, '/get/tagged', 20);
  for (const a of storm) {
    assert.equal(a.status, 200);
    assert.equal(a.headers['etag'], '"v1-abc"', String(a.headers['cache-status']));
    assert.ok(a.body.equals(originBytes('/tagged', 0, 1000)));
  }
  assert.equal(await origin.requests('/tagged'), 1);
  await settled(server, '/get/tagged');
  for (const h of await many(server, '/get/tagged', 6)) {
    assert.equal(h.headers['cache-status'], 'stripecache; hit');
    assert.equal(h.headers['etag'], '"v1-abc"');
  }
  for (const inm of ['"v1-abc"', 'W/"v1-abc"', '"nope", "v1-abc"', '*']) {
    for (const h of await many(server, '/get/tagged', 4, { 'if-none-match': inm })) {
      assert.equal(h.status, 304, inm);
      assert.equal(h.headers['etag'], '"v1-abc"');
      assert.equal(h.body.length, 0);
      assert.ok(age(h) >= 0);
    }
  }
  const ranged = await fetchAnswer(server.port, '/get/tagged', {
    headers: { 'if-none-match': '"v1-abc"', range: 'bytes=0-9' },
  });
  assert.equal(ranged.status, 304);
  const other = await fetchAnswer(server.port, '/get/tagged', { headers: { 'if-none-match': '"v2"' } });
  assert.equal(other.status, 200);
  assert.ok(other.body.equals(originBytes('/tagged', 0, 1000)));
  const head = await fetchAnswer(server.port, '/get/tagged', {
    method: 'HEAD',
    headers: { 'if-none-match': '"v1-abc"' },
  });
  assert.equal(head.status, 304);
  assert.equal(await origin.requests('/tagged'), 1);
});

test("a weak or missing origin ETag: stripecache's own is served and matched", async () => {
  await origin.script('/weak', { etag: 'W/"soft"' });
  const first = await fetchAnswer(server.port, '/get/weak');
  assert.equal(first.status, 200);
  await settled(server, '/get/weak');
  const hit = await fetchAnswer(server.port, '/get/weak');
  assert.match(String(hit.headers['etag']), /^"[0-9a-f]{16}"$/);
  const again = await fetchAnswer(server.port, '/get/weak', {
    headers: { 'if-none-match': hit.headers['etag']! },
  });
  assert.equal(again.status, 304);
  const soft = await fetchAnswer(server.port, '/get/weak', { headers: { 'if-none-match': 'W/"soft"' } });
  assert.equal(soft.status, 200);
  // A value written here (write-around) has no origin metadata: our ETag, Age 0.
  assert.equal(await put(server.port, '/store/local-tag', 'mine'), 201);
  const local = await fetchAnswer(server.port, '/get/local-tag');
  assert.equal(local.body.toString(), 'mine');
  assert.match(String(local.headers['etag']), /^"[0-9a-f]{16}"$/);
  assert.equal(age(local), 0);
});

test("slices: the origin's ETag when every slice used carries the same one", async () => {
  await origin.script('/tagged-slices', { size: 3 * MiB, etag: '"whole-v1"' });
  const a = MiB - 5;
  const r = await fetchAnswer(sliced.port, '/get/tagged-slices', {
    headers: { range: `bytes=${a}-${a + 9}` },
  });
  assert.equal(r.status, 206);
  assert.equal(r.headers['etag'], '"whole-v1"');
  assert.ok(r.body.equals(originBytes('/tagged-slices', a, a + 10)));
  // Slice 2 fetched later, under another ETag: an answer spanning slices 1 and 2 has none.
  await origin.script('/tagged-slices', { size: 3 * MiB, etag: '"whole-v2"' });
  const b = 2 * MiB - 5;
  const mixed = await fetchAnswer(sliced.port, '/get/tagged-slices', {
    headers: { range: `bytes=${b}-${b + 9}` },
  });
  assert.equal(mixed.status, 206);
  assert.equal(mixed.headers['etag'], undefined);
  const hit = await fetchAnswer(sliced.port, '/get/tagged-slices', { headers: { range: 'bytes=0-9' } });
  assert.equal(hit.headers['etag'], '"whole-v1"');
  assert.equal(hit.headers['cache-status'], 'stripecache; hit');
});
