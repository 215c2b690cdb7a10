// Regression (issue 2): Node calls listen() again on a listening fd it is handed, with 511 unless
// the backlog is server.listen's second argument, so --backlog was silently undone. The backlog a
// listening socket really has shows in ss's Send-Q column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startServer } from '../helpers/server.js';

test('--backlog reaches the kernel (not Node re-listening with 511)', async () => {
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  // A value that is neither Node's 511 nor the default 4096, and under any usual somaxconn.
  const backlog = 77;
  const s = await startServer(['--threads', '1', '--backlog', String(backlog)]);
  try {
    const ss = execFileSync('ss', ['-ltnH', `sport = :${s.port}`], { encoding: 'utf8' }).trim();
    assert.equal(ss.split('\n').length, 1, ss);
    assert.equal(Number(ss.split(/\s+/)[2]), Math.min(backlog, somaxconn), ss);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});
