import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { startServer, type RunningServer } from '../helpers/server.js';

/**
 * Found while testing read-through memory (issue 10): an answer before `Connection: close` was
 * cut off when its reader was slow. The connection's linger (2 s of draining input after the
 * last answer) destroyed the socket while output still waited in the process: a client that
 * paused reading a 10 MiB answer for 3 s received about 8 MiB, then a reset.
 */
const MiB = 1024 * 1024;
let server: RunningServer;
const value = Buffer.alloc(10 * MiB);
for (let i = 0; i < value.length; i += 4) value.writeUInt32LE((i * 2654435761) >>> 0, i);

before(async () => {
  server = await startServer(['--threads', '1', '--memory', '64MiB', '--max-value-size', '16MiB']);
  await fetch(`http://127.0.0.1:${server.port}/store/slow-close`, { method: 'PUT', body: value });
});
after(() => server?.stop());

function slowGet(connection: string): Promise<{ status: number; bytes: number; sha: string; error: string }> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let bytes = 0;
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: '/get/slow-close',
        agent: false,
        headers: { connection },
      },
      (res) => {
        res.pause();
        setTimeout(() => res.resume(), 3000);
        res.on('data', (d: Buffer) => {
          hash.update(d);
          bytes += d.length;
        });
        const done = (error: string) =>
          resolve({ status: res.statusCode ?? 0, bytes, sha: hash.digest('hex'), error });
        res.on('end', () => done(''));
        res.on('error', (e) => done(e.message));
        res.on('aborted', () => done('aborted'));
      },
    );
    req.on('error', (e) => resolve({ status: 0, bytes, sha: '', error: e.message }));
    req.end();
  });
}

test('a slow reader of a 10 MiB answer before Connection: close gets every byte', async () => {
  const want = createHash('sha256').update(value).digest('hex');
  for (const connection of ['close', 'keep-alive']) {
    const r = await slowGet(connection);
    assert.equal(r.error, '', `${connection}: ${r.error} after ${r.bytes} bytes`);
    assert.equal(r.status, 200);
    assert.equal(r.bytes, value.length, connection);
    assert.equal(r.sha, want, connection);
  }
});
