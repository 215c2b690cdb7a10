// Read-through coalescing: one origin request per object whatever the number of clients and
// threads; waiters whose range has arrived are answered before the fill ends; the fetch belongs
// to the tier (the first client leaving does not fail it); a fill whose thread dies is retried.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server.js';
import { startOrigin, originBytes, type RunningOrigin } from '../helpers/origin-server.js';
import { fetchAnswer, type Answer } from '../helpers/origin-client.js';

const MiB = 1024 * 1024;
const started: { stop(): Promise<unknown> }[] = [];

after(async () => {
  for (const s of started.reverse()) await s.stop();
});

async function pair(
  originOpts: Parameters<typeof startOrigin>[0],
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ origin: RunningOrigin; server: RunningServer }> {
  const origin = await startOrigin(originOpts);
  started.push(origin);
  const server = await startServer(['--origin', origin.url, '--concurrency-limit', '5000', ...args], { env });
  started.push(server);
  return { origin, server };
}

/** A small deterministic generator, so a failing run can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

test('1,000 concurrent clients over 2 threads, random 4 KiB ranges of one cold 10 MiB object: one origin request, every byte right', async () => {
  const { origin, server } = await pair({ size: 10 * MiB, delayMs: 200 }, ['--threads', '2']);
  const size = 10 * MiB;
  const rand = rng(20261202);
  const starts = Array.from({ length: 1000 }, () => Math.floor(rand() * (size - 4096)));
  const answers = await Promise.all(
    starts.map((a) =>
      fetchAnswer(server.port, '/get/big', {
        headers: { range: `bytes=${a}-${a + 4095}` },
        timeoutMs: 60_000,
      }),
    ),
  );
  assert.equal(await origin.requests('/big'), 1);
  const statuses = new Map<string, number>();
  answers.forEach((r, i) => {
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], `bytes ${starts[i]}-${starts[i]! + 4095}/${size}`);
    assert.ok(r.body.equals(originBytes('/big', starts[i]!, starts[i]! + 4096)), `bytes of request ${i}`);
    const cs = String(r.headers['cache-status']);
    statuses.set(cs, (statuses.get(cs) ?? 0) + 1);
  });
  // One client started the fill; the others were collapsed onto it (or came once it was stored).
  assert.equal(statuses.get('stripecache; fwd=miss; stored'), 1, JSON.stringify([...statuses]));
});

test('with the origin trickling, clients whose range arrived early are answered before the fill completes', async () => {
  // Waiters on the filling thread and on the other one read the bytes as they arrive.
  const { origin, server } = await pair({ size: 2 * MiB }, ['--threads', '2']);
  await origin.script('/slow', { trickle: { bytes: 64 * 1024, intervalMs: 40 } });
  const early = Array.from({ length: 20 }, (_, i) =>
    fetchAnswer(server.port, '/get/slow', { headers: { range: `bytes=${i * 1000}-${i * 1000 + 4095}` } }),
  );
  const late = Array.from({ length: 20 }, (_, i) =>
    fetchAnswer(server.port, '/get/slow', {
      headers: { range: `bytes=${2 * MiB - 4096 - i * 1000}-${2 * MiB - 1 - i * 1000}` },
    }),
  );
  const whole = fetchAnswer(server.port, '/get/slow');
  const [e, l, w] = await Promise.all([Promise.all(early), Promise.all(late), whole]);
  for (const r of [...e, ...l]) assert.equal(r.status, 206);
  assert.ok(w.body.equals(originBytes('/slow', 0, 2 * MiB)));
  const lastEarly = Math.max(...e.map((r: Answer) => r.doneAt));
  const firstLate = Math.min(...l.map((r: Answer) => r.doneAt));
  assert.ok(lastEarly < firstLate, 'every early range was answered before any range at the end');
  assert.ok(lastEarly < w.doneAt, 'early ranges were answered before the whole value was complete');
  assert.equal(await origin.requests('/slow'), 1);
});

test('the first client disconnecting mid-fill does not fail the others', async () => {
  const { origin, server } = await pair({ size: 4 * MiB }, ['--threads', '2']);
  await origin.script('/shared', { delayMs: 100, trickle: { bytes: 256 * 1024, intervalMs: 30 } });
  const first = fetchAnswer(server.port, '/get/shared', { abortAfterMs: 200 }).catch((e: Error) => e);
  await new Promise((r) => setTimeout(r, 50));
  const others = await Promise.all(
    Array.from({ length: 30 }, () => fetchAnswer(server.port, '/get/shared', { timeoutMs: 30_000 })),
  );
  assert.ok((await first) instanceof Error, 'the first client went away');
  for (const r of others) {
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(originBytes('/shared', 0, 4 * MiB)));
  }
  assert.equal(await origin.requests('/shared'), 1);
  const hit = await fetchAnswer(server.port, '/get/shared', { headers: { range: 'bytes=0-9' } });
  assert.equal(hit.headers['cache-status'], 'stripecache; hit');
});

test('a fill whose thread dies is retried: its waiters on other threads and the next request fetch again', async () => {
  const { origin, server } = await pair({ size: 1000 }, ['--threads', '2'], { STRIPECACHE_TEST_HOOKS: '1' });
  // 24 keys: the chance that no fill lands on the thread about to die is 2^-24.
  const keys = Array.from({ length: 24 }, (_, i) => `doomed${i}`);
  await origin.script('*', { delayMs: 3000 });
  // Fresh connections spread over both threads: some fills run on the thread about to die.
  const round1 = keys.flatMap((k) =>
    Array.from({ length: 3 }, () =>
      fetchAnswer(server.port, `/get/${k}`, { timeoutMs: 20_000 }).catch((e: Error) => e),
    ),
  );
  // Crash only once every fill is at the origin (a fixed sleep lost this race on a busy machine,
  // and a thread that dies before it claims anything leaves nothing to retry).
  const deadline = Date.now() + 2500;
  for (;;) {
    const paths = (await origin.stats()).paths;
    if (keys.every((k) => (paths[`/${k}`]?.requests ?? 0) >= 1)) break;
    assert.ok(Date.now() < deadline, 'every fill reached the origin within 2.5 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  server.proc.kill('SIGUSR2');
  const got = await Promise.all(round1);
  await origin.clearScripts();
  for (const [i, r] of got.entries()) {
    // Clients of the dead thread lost their connection; every other one got the value.
    if (r instanceof Error) continue;
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(originBytes(`/${keys[Math.floor(i / 3)]}`, 0, 1000)));
  }
  const reset = /"reset origin fills of a dead thread".*"fills":(\d+)/.exec(server.stderr());
  assert.ok(reset !== null && Number(reset[1]) >= 1, server.stderr());
  // Nothing waits on a dead fill: every key answers at once (a stale marker would hold it for
  // twice --origin-timeout).
  for (const k of keys) {
    const r = await fetchAnswer(server.port, `/get/${k}`, { timeoutMs: 5000 });
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(originBytes(`/${k}`, 0, 1000)));
  }
  const stats = await origin.stats();
  const refetched = keys.filter((k) => (stats.paths[`/${k}`]?.requests ?? 0) >= 2);
  assert.ok(refetched.length >= 1, 'the fills of the dead thread were fetched again');
});
