// Fills in flight hold at most half of --memory for their bodies; a fill that cannot get memory
// fails cleanly (507 + Retry-After), the others are served, and the process stays near its budget.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, type RunningServer } from '../helpers/server.js';
import { startOrigin, originBytes, type RunningOrigin } from '../helpers/origin-server.js';
import { fetchAnswer } from '../helpers/origin-client.js';

const MiB = 1024 * 1024;
let origin: RunningOrigin | undefined;
let server: RunningServer | undefined;

after(async () => {
  await server?.stop();
  await origin?.stop();
});

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m !== null);
  return Number(m[1]) / 1024;
}

test('40 concurrent cold 10 MiB fills with --memory 256MiB stay within the budget', async () => {
  origin = await startOrigin({ size: 10 * MiB, delayMs: 300 });
  server = await startServer([
    '--threads',
    '2',
    '--memory',
    '256MiB',
    '--origin',
    origin.url,
    '--concurrency-limit',
    '1000',
  ]);
  // Each body takes about 2 s to arrive, so the 40 fills overlap even on a loaded machine.
  await origin.script('*', { delayMs: 300, trickle: { bytes: 1024 * 1024, intervalMs: 200 } });
  const keys = Array.from({ length: 40 }, (_, i) => `m${i}`);
  const answers = await Promise.all(
    keys.map((k) =>
      fetchAnswer(server!.port, `/get/${k}`, { headers: { range: 'bytes=0-4095' }, timeoutMs: 60_000 }),
    ),
  );
  let ok = 0;
  for (const [i, r] of answers.entries()) {
    if (r.status === 206) {
      ok++;
      assert.ok(r.body.equals(originBytes(`/${keys[i]}`, 0, 4096)));
    } else {
      assert.equal(r.status, 507, server!.stderr().slice(-1500));
      assert.equal(r.headers['retry-after'], '1');
      assert.match(String(r.headers['cache-status']), /detail=no-memory/);
    }
  }
  // At most 128 MiB of bodies at once: at most 12 of the 40 fetches had memory together.
  assert.ok(ok >= 1, 'some fills were served');
  assert.ok(ok < 40, 'the fills over the cap were refused');
  // The early answers came before the bodies ended: wait (bounded) for every fill to end.
  for (let i = 0; ; i++) {
    const m = await fetchAnswer(server.port, '/metrics');
    if (/stripecache_origin_fills_in_flight 0\b/.test(m.body.toString())) break;
    assert.ok(i < 300, 'the fills end');
    await new Promise((r) => setTimeout(r, 100));
  }
  const peak = peakRssMiB(server.proc.pid!);
  // The store's 256 MiB, 128 MiB of fills, and the process itself (two threads, V8 heaps).
  assert.ok(peak < 256 + 128 + 300, `peak RSS ${peak.toFixed(0)} MiB`);
  // A refused key is fetched on the next request, once memory is free.
  await origin.clearScripts();
  const again = await fetchAnswer(server.port, `/get/${keys[answers.findIndex((r) => r.status === 507)]}`);
  assert.equal(again.status, 200);
});
