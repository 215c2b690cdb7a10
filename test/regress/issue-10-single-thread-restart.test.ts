// issue 10: with --threads 1 the process exited when its only worker died: the restart timer
// was unref'd, and nothing else kept the supervisor's event loop alive meanwhile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';
import { fetchAnswer, put } from '../helpers/origin-client.js';

async function waitFor(
  what: string,
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('--threads 1: the only worker dies, the supervisor restarts it and keeps serving', async () => {
  const s = await startServer(['--threads', '1', '--log-level', 'info'], {
    env: { STRIPECACHE_TEST_HOOKS: '1', STRIPECACHE_TEST_FAULT: 'crash' },
  });
  try {
    assert.equal(await put(s.port, '/store/kept', 'still here'), 201);
    s.proc.kill('SIGUSR2');
    await waitFor(
      'the restart',
      () => {
        if (s.proc.exitCode !== null) throw new Error(`the process exited:\n${s.stderr()}`);
        return s.stderr().includes('"thread restarted"');
      },
      10_000,
    );
    assert.equal(s.proc.exitCode, null, `the process is still running:\n${s.stderr()}`);
    assert.equal(s.proc.signalCode, null);
    // The store belongs to the supervisor: what was written before the crash is still served.
    let got: Awaited<ReturnType<typeof fetchAnswer>> | null = null;
    await waitFor(
      'an answer from the new worker',
      async () => {
        got = await fetchAnswer(s.port, '/get/kept', { timeoutMs: 2000 }).catch(() => null);
        return got !== null;
      },
      10_000,
    );
    assert.equal(got!.status, 200);
    assert.equal(got!.body.toString(), 'still here');
  } finally {
    await s.stop();
  }
});
