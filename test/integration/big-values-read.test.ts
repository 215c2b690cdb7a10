import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { Store } from '../../dist/store/index.js';
import { startEngine } from '../helpers/engine.js';

const MiB = 1024 * 1024;
const CT = Buffer.from('application/x-big');

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= n; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Reader {
  /** Resolves with the status and the body's sha256, hashed as it streams in. */
  done: Promise<{ status: number; length: number; hash: string }>;
  /** The head and the first bytes arrived (the server began sending this version). */
  started: Promise<void>;
  resume(): void;
}

/** A GET whose client stops reading after its first chunk until `resume`. */
function slowReader(port: number, key: string): Reader {
  const sock = net.connect(port, '127.0.0.1');
  let head = Buffer.alloc(0);
  let status = 0;
  let left = -1;
  let length = 0;
  const h = createHash('sha256');
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((r) => (markStarted = r));
  const done = new Promise<{ status: number; length: number; hash: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('reader timed out'));
    }, 120_000);
    sock.on('data', (d: Buffer) => {
      if (left < 0) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = head.subarray(0, end).toString('latin1');
        status = Number(text.split(' ')[1]);
        length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
        left = length;
        d = head.subarray(end + 4);
        sock.pause();
        markStarted();
      }
      h.update(d);
      left -= d.length;
      if (left <= 0) {
        clearTimeout(timer);
        sock.destroy();
        resolve({ status, length, hash: h.digest('hex') });
      }
    });
    sock.on('error', reject);
  });
  sock.on('connect', () => sock.write(`GET /get/${key} HTTP/1.1\r\nHost: x\r\n\r\n`));
  return { done, started, resume: () => sock.resume() };
}

test('200 slow readers of a 10 MiB value get the version they started, while it is overwritten, deleted and evicted', async () => {
  const memory = 64 * MiB;
  const store = Store.create({ memory, maxKeys: 1000, stripes: 16, maxValueSize: 16 * MiB });
  const e = await startEngine({ maxValueSize: 16 * MiB, memory }, store);
  try {
    const base = store.stats().bytesUsed;
    const v1 = pattern(10 * MiB, 1);
    const v2 = pattern(10 * MiB, 2);
    store.set(Buffer.from('k'), v1, CT, 0);
    const first = Array.from({ length: 100 }, () => slowReader(e.port, 'k'));
    await Promise.all(first.map((r) => r.started));
    store.set(Buffer.from('k'), v2, CT, 0); // overwritten
    const second = Array.from({ length: 100 }, () => slowReader(e.port, 'k'));
    await Promise.all(second.map((r) => r.started));
    store.delete(Buffer.from('k')); // deleted
    // both versions are still held, pinned by the readers' pending writes (no copies were made)
    assert.ok(store.stats().bytesUsed >= base + 20 * MiB, 'both versions pinned');
    assert.equal(store.stats().entries, 0);
    for (let i = 0; i < 8; i++) store.set(Buffer.from(`fill${i}`), pattern(8 * MiB, i + 5), CT, 0); // evicts
    assert.ok(store.stats().evictions > 0);
    assert.ok(store.stats().bytesUsed <= memory, 'pinned bytes stay within the budget');
    for (const r of [...first, ...second]) r.resume();
    const got = await Promise.all([...first, ...second].map((r) => r.done));
    const h1 = sha(v1);
    const h2 = sha(v2);
    got.forEach((g, i) => {
      assert.equal(g.status, 200);
      assert.equal(g.length, 10 * MiB);
      assert.equal(g.hash, i < 100 ? h1 : h2, `reader ${i} got the bytes of its version`);
    });
    // every pin is released once the writes completed: the memory returns
    const until = Date.now() + 10_000;
    const drop = (): void => {
      for (let i = 0; i < 8; i++) store.delete(Buffer.from(`fill${i}`));
    };
    drop();
    while (store.stats().bytesUsed !== base && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(store.stats().bytesUsed, base);
  } finally {
    await e.close();
  }
});
