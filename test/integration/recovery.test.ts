import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { hashBytes } from '../../dist/store/hash.js';
import { startServer, type RunningServer } from '../helpers/server.js';

/**
 * A worker that dies or hangs while it holds a stripe lock, under write load: the supervisor
 * replaces it (a hang is seen by the heartbeat), reclaims the stripe it held, and every
 * acknowledged write outside that stripe is readable afterwards. The fault comes from the test
 * hooks (src/runtime/test-hooks.ts), which log the stripe they lock with the store's seed so the
 * test can name the keys that stripe's reset may lose.
 */

const FAULT_KEY = 'fault-victim';

function request(
  agent: http.Agent,
  port: number,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent, timeout: 3000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface HookLine {
  stripe: number;
  seed: number;
  shift: number;
}

function hookLine(s: RunningServer): HookLine | null {
  for (const line of s.stderr().split('\n')) {
    if (!line.includes('test hook: holding a stripe lock')) continue;
    return JSON.parse(line) as HookLine;
  }
  return null;
}

async function faultUnderLoad(fault: 'crash-locked' | 'hang-locked', logged: string): Promise<void> {
  const s = await startServer(['--threads', '2', '--stripes', '16', '--log-level', 'info'], {
    env: { STRIPECACHE_TEST_HOOKS: '1', STRIPECACHE_TEST_FAULT: fault },
  });
  const acked = new Map<string, string>();
  let stop = false;
  let ackedAfterRestart = 0;
  let restarted = false;
  const writer = async (w: number): Promise<void> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; !stop; i++) {
        const key = `w${w}-${i}`;
        const value = `${key}:${'v'.repeat(i % 50)}`;
        try {
          const r = await request(agent, s.port, 'PUT', `/store/${key}`, value);
          if (r.status === 201 || r.status === 204) {
            acked.set(key, value);
            if (restarted) ackedAfterRestart++;
          }
        } catch {
          // A connection to the failed thread: not acknowledged, so nothing is owed for it.
        }
      }
    } finally {
      agent.destroy();
    }
  };
  try {
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));
    await waitFor('some writes', () => acked.size >= 50, 10_000);
    s.proc.kill('SIGUSR2');
    await waitFor('the hook', () => hookLine(s) !== null, 10_000);
    await waitFor(logged, () => s.stderr().includes(logged), 20_000);
    await waitFor('the restart', () => s.stderr().includes('thread restarted'), 20_000);
    restarted = true;
    await waitFor('writes after the restart', () => ackedAfterRestart >= 50, 20_000);
    stop = true;
    await Promise.all(writers);

    const hook = hookLine(s)!;
    const stripeOf = (key: string): number =>
      hook.shift === 32 ? 0 : hashBytes(Buffer.from(key, 'latin1'), hook.seed) >>> hook.shift;
    assert.equal(stripeOf(FAULT_KEY), hook.stripe, 'the stripe computation matches the store');
    assert.ok(s.stderr().includes('reset stripes held by a dead thread'), 'the stripe was reclaimed');

    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    let checked = 0;
    let excused = 0;
    for (const [key, value] of acked) {
      if (stripeOf(key) === hook.stripe) {
        excused++;
        continue;
      }
      const r = await request(agent, s.port, 'GET', `/get/${key}`);
      assert.equal(r.status, 200, `${key} acknowledged, outside stripe ${hook.stripe}, lost`);
      assert.equal(r.body, value, key);
      checked++;
    }
    agent.destroy();
    assert.ok(checked > 0 && excused < acked.size, `${checked} checked, ${excused} in stripe ${hook.stripe}`);
  } finally {
    stop = true;
    await s.stop();
  }
}

test('a worker killed while it holds a stripe lock under load: replaced, the stripe reclaimed, every other acknowledged write readable', async () => {
  await faultUnderLoad('crash-locked', 'thread died; restarting it');
});

test('a worker hung (busy loop) while it holds a stripe lock under load: the heartbeat replaces it, the stripe reclaimed, every other acknowledged write readable', async () => {
  await faultUnderLoad('hang-locked', 'thread hung; replacing it');
});
