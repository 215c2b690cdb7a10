import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { allowedCpus, cpuForThread } from '../../dist/runtime/affinity.js';

/** --pin-threads: a worker thread pinned through sched_setaffinity, read back from /proc. */

function allowedList(tid: number): string {
  const status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
  const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(status);
  assert.ok(m, 'Cpus_allowed_list in status');
  return m[1]!.trim();
}

test('round robin over the allowed set', () => {
  assert.equal(cpuForThread([2, 5, 7], 0), 2);
  assert.equal(cpuForThread([2, 5, 7], 1), 5);
  assert.equal(cpuForThread([2, 5, 7], 3), 2);
  assert.throws(() => cpuForThread([], 0));
});

test('a pinned worker thread runs on its one core (read from /proc/self/task/*/status); this thread stays unpinned', async () => {
  const before = allowedList(process.pid);
  const allowed = allowedCpus();
  assert.ok(allowed.length >= 1);
  const cpu = cpuForThread(allowed, 1);
  const url = new URL('../../dist/runtime/affinity.js', import.meta.url).href;
  const worker = new Worker(
    // The thread stays alive (timer) until terminated, so its /proc task entry is there to read.
    `setInterval(() => {}, 1000); import('${url}').then((m) => require('node:worker_threads').parentPort.postMessage(m.pinThisThread(${cpu})));`,
    { eval: true },
  );
  try {
    const got = await new Promise<{ cpus: number[]; tid: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('worker did not answer')), 10_000);
      worker.once('message', (m: { cpus: number[]; tid: number }) => {
        clearTimeout(timer);
        resolve(m);
      });
      worker.once('error', reject);
    });
    assert.deepEqual(got.cpus, [cpu], 'sched_getaffinity read back');
    assert.equal(allowedList(got.tid), String(cpu), 'the kernel says the same');
    const tasks = readFileSync(`/proc/self/task/${process.pid}/status`, 'utf8');
    assert.ok(tasks.length > 0);
    assert.equal(allowedList(process.pid), before, 'the calling thread is not pinned');
  } finally {
    await worker.terminate();
  }
});
