import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { parseResponses, raw, countResponses, req } from '../helpers/engine.js';
import { startServer } from '../helpers/server.js';
import { WRITE_DONE, adoptHandleWriter } from '../../dist/socket/handle-write.js';

/**
 * The write path: batches go to the stream handle (writeBuffer / writev) and the thread's output
 * arena is rewritten once no write reads it. Both ways (handle, and socket.write with
 * STRIPECACHE_WRITE_HANDLE=0) must send the same bytes: distinct values of many sizes,
 * pipelined, to a client that first stops reading (writes queue in the handle, slabs stay held)
 * and then reads everything.
 */

const SIZES = [0, 1, 63, 64, 700, 4096, 16 * 1024, 16 * 1024 + 1, 100_000, 300_000, 1024 * 1024];

function valueOf(i: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let k = 0; k < size; k++) b[k] = 97 + ((i * 7 + k) % 26);
  return b;
}

async function roundTrip(env: NodeJS.ProcessEnv): Promise<void> {
  const s = await startServer(['--threads', '1', '--max-value-size', '2MiB'], { env });
  try {
    for (let i = 0; i < SIZES.length; i++) {
      const v = valueOf(i, SIZES[i]!);
      const head = `PUT /store/v${i} HTTP/1.1\r\nHost: x\r\nContent-Length: ${v.length}\r\n\r\n`;
      const r = await raw(s.port, [Buffer.concat([Buffer.from(head), v])], { until: countResponses(1) });
      assert.equal(parseResponses(r.data)[0]!.status, 201);
    }
    // 3 rounds over every size, interleaved with small answers, in one pipeline.
    const order: number[] = [];
    let pipeline = '';
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < SIZES.length; i++) {
        order.push(i);
        pipeline += req('GET', `/get/v${i}`) + req('GET', '/healthz');
      }
    }
    const sock = net.connect(s.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.pause();
    sock.write(pipeline);
    // Not reading for a while: the server's writes queue in the handle.
    await new Promise((r) => setTimeout(r, 300));
    const parts: Buffer[] = [];
    const want = order.length * 2;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out reading the pipeline')), 20_000);
      sock.on('data', (d: Buffer) => {
        parts.push(d);
        if (parseResponses(Buffer.concat(parts)).length >= want) {
          clearTimeout(timer);
          resolve();
        }
      });
      sock.resume();
    });
    sock.destroy();
    const res = parseResponses(Buffer.concat(parts));
    assert.equal(res.length, want);
    for (let j = 0; j < order.length; j++) {
      const i = order[j]!;
      assert.equal(res[2 * j]!.status, 200);
      assert.ok(
        res[2 * j]!.body.equals(valueOf(i, SIZES[i]!)),
        `body of v${i} (${SIZES[i]} B), answer ${2 * j}`,
      );
      assert.equal(res[2 * j + 1]!.status, 200);
    }
  } finally {
    await s.stop();
  }
}

describe('write path', () => {
  test('this Node has what the handle writer needs; a writev arrives whole and in order', async () => {
    const got = new Promise<Buffer>((resolve, reject) => {
      const srv = net.createServer((c) => {
        const w = adoptHandleWriter(c, { written() {} });
        srv.close();
        if (w === null) {
          c.destroy();
          reject(new Error('adoptHandleWriter returned null'));
          return;
        }
        const r = w.write([Buffer.from('one '), Buffer.from('two '), Buffer.from('three')], 3);
        assert.ok(r === WRITE_DONE || r > 0, `write result ${r}`);
        c.end();
      });
      srv.listen(0, '127.0.0.1', () => {
        const port = (srv.address() as net.AddressInfo).port;
        const client = net.connect(port, '127.0.0.1');
        const parts: Buffer[] = [];
        client.on('data', (d: Buffer) => parts.push(d));
        client.on('end', () => resolve(Buffer.concat(parts)));
        client.on('error', reject);
      });
    });
    assert.equal((await got).toString(), 'one two three');
  });

  test('through the stream handle: every byte of pipelined answers, with writes queued meanwhile', async () => {
    await roundTrip({});
  });

  test('STRIPECACHE_WRITE_HANDLE=0 (socket.write): the same bytes', async () => {
    await roundTrip({ STRIPECACHE_WRITE_HANDLE: '0' });
  });
});
