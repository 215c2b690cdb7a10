// --origin-slice: objects cached in fixed slices fetched with Range; each slice its own entry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server.js';
import { startOrigin, originBytes, type RunningOrigin } from '../helpers/origin-server.js';
import { fetchAnswer } from '../helpers/origin-client.js';

const MiB = 1024 * 1024;
let origin: RunningOrigin;
let server: RunningServer;

before(async () => {
  origin = await startOrigin({ size: 200 * MiB });
  server = await startServer([
    '--threads',
    '2',
    '--origin',
    origin.url,
    '--origin-slice',
    '10MiB',
    '--concurrency-limit',
    '1000',
  ]);
});

after(async () => {
  await server?.stop();
  await origin?.stop();
});

test('a 4 KiB read of a 200 MiB origin object fetches one 10 MiB slice', async () => {
  const a = 123 * MiB + 77;
  const r = await fetchAnswer(server.port, '/get/huge', { headers: { range: `bytes=${a}-${a + 4095}` } });
  assert.equal(r.status, 206);
  assert.equal(r.headers['content-range'], `bytes ${a}-${a + 4095}/${200 * MiB}`);
  assert.ok(r.body.equals(originBytes('/huge', a, a + 4096)));
  const stats = await origin.stats();
  assert.equal(stats.paths['/huge']!.requests, 1);
  assert.deepEqual(stats.paths['/huge']!.ranges, [`bytes=${120 * MiB}-${130 * MiB - 1}`]);
  // Read again: from the stored slice.
  const again = await fetchAnswer(server.port, '/get/huge', { headers: { range: `bytes=${a}-${a + 9}` } });
  assert.ok(again.body.equals(originBytes('/huge', a, a + 10)));
  assert.equal(again.headers['cache-status'], 'stripecache; hit');
  assert.equal(await origin.requests('/huge'), 1);
});

test('a range across two slices is exact; each slice is fetched once for all clients', async () => {
  const a = 50 * MiB - 3000;
  const answers = await Promise.all(
    Array.from({ length: 40 }, () =>
      fetchAnswer(server.port, '/get/span', { headers: { range: `bytes=${a}-${a + 5999}` } }),
    ),
  );
  for (const r of answers) {
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], `bytes ${a}-${a + 5999}/${200 * MiB}`);
    assert.ok(r.body.equals(originBytes('/span', a, a + 6000)));
  }
  const stats = await origin.stats();
  assert.deepEqual([...stats.paths['/span']!.ranges].sort(), [
    `bytes=${40 * MiB}-${50 * MiB - 1}`,
    `bytes=${50 * MiB}-${60 * MiB - 1}`,
  ]);
});

test('the last slice is short, past the end is 416, and a suffix range is served', async () => {
  await origin.script('/small', { size: 15 * MiB });
  const tail = await fetchAnswer(server.port, '/get/small', { headers: { range: 'bytes=-100' } });
  assert.equal(tail.status, 206);
  assert.equal(tail.headers['content-range'], `bytes ${15 * MiB - 100}-${15 * MiB - 1}/${15 * MiB}`);
  assert.ok(tail.body.equals(originBytes('/small', 15 * MiB - 100, 15 * MiB)));
  const past = await fetchAnswer(server.port, '/get/small', { headers: { range: `bytes=${16 * MiB}-` } });
  assert.equal(past.status, 416);
  assert.equal(past.headers['content-range'], `bytes */${15 * MiB}`);
  const missing = await origin
    .script('/nothing', { status: 404 })
    .then(() => fetchAnswer(server.port, '/get/nothing', { headers: { range: 'bytes=0-9' } }));
  assert.equal(missing.status, 404);
});

test('a slice lands in a store reservation as it arrives (counted in --memory), not in a buffer of its own', async () => {
  await origin.script('/slow', { size: 30 * MiB, trickle: { bytes: 512 * 1024, intervalMs: 50 } });
  const used = async (): Promise<number> => {
    const m = await fetchAnswer(server.port, '/metrics');
    return Number(/cache_bytes_used (\d+)/.exec(m.body.toString())![1]);
  };
  const base = await used();
  const answer = fetchAnswer(server.port, '/get/slow', { headers: { range: 'bytes=100-4195' } });
  let seen = 0;
  for (let i = 0; i < 200; i++) {
    const u = await used();
    // Read while the origin was still sending: the slice was not complete yet.
    const sending = (await origin.stats()).paths['/slow']?.inFlight ?? 0;
    if (sending > 0) seen = Math.max(seen, u - base);
    if (sending === 0 && i > 0 && (await origin.requests('/slow')) === 1) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const r = await answer;
  assert.equal(r.status, 206);
  assert.ok(r.body.equals(originBytes('/slow', 100, 4196)));
  assert.ok(seen >= 10 * MiB, `the slice's 10 MiB counted in bytes used during the fill (saw ${seen})`);
  assert.equal(await origin.requests('/slow'), 1);
});
