import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ReadResult, ReadStatus, Store } from '../../dist/store/index.js';
import { countResponses, parseResponses, raw, req, startEngine } from '../helpers/engine.js';

const MiB = 1024 * 1024;

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe((n + 3) & ~3);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < b.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b.subarray(0, n);
}

function putHead(key: string, length: number): string {
  return `PUT /store/${key} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-big\r\nContent-Length: ${length}\r\n\r\n`;
}

function stored(store: Store, key: string): Buffer | null {
  const r = new ReadResult();
  return store.get(Buffer.from(key), r) === ReadStatus.Miss ? null : Buffer.from(r.body);
}

/** Sends a PUT of `body` in `step`-byte writes; resolves with the status (0 when the server closed first). */
function put(port: number, key: string, body: Buffer, step = 256 * 1024): Promise<number> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => sock.destroy(), 60_000);
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) sock.end();
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Number(got.split(' ')[1] ?? 0) || 0);
    });
    sock.on('error', () => undefined);
    sock.on('connect', async () => {
      sock.write(putHead(key, body.length));
      for (let at = 0; at < body.length && !sock.destroyed; at += step) {
        if (!sock.write(body.subarray(at, at + step))) {
          await new Promise((r) => sock.once('drain', r));
        }
      }
    });
  });
}

test('a declared-length upload streams into a reservation and reads back byte-exact', async () => {
  const store = Store.create({ memory: 64 * MiB, maxKeys: 1000, stripes: 16, maxValueSize: 16 * MiB });
  const e = await startEngine({ maxValueSize: 16 * MiB }, store);
  try {
    const v = pattern(5 * MiB + 3, 1);
    assert.equal(await put(e.port, 'big', v, 100_003), 201);
    assert.deepEqual(stored(store, 'big'), v);
    assert.equal(store.stats().reservations, 0);
    assert.equal(await put(e.port, 'big', pattern(70_000, 2)), 200);
    assert.deepEqual(stored(store, 'big'), pattern(70_000, 2));
  } finally {
    await e.close();
  }
});

test('an aborted upload leaves the old value intact and frees its reservation', async () => {
  const store = Store.create({ memory: 64 * MiB, maxKeys: 1000, stripes: 16, maxValueSize: 16 * MiB });
  const e = await startEngine({ maxValueSize: 16 * MiB }, store);
  try {
    const old = pattern(3 * MiB, 7);
    assert.equal(await put(e.port, 'k', old), 201);
    const used = store.stats().bytesUsed;
    const sock = net.connect(e.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write(putHead('k', 8 * MiB));
    sock.write(pattern(2 * MiB, 9));
    const until = Date.now() + 10_000;
    while (store.stats().reservations !== 1 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(store.stats().reservations, 1, 'the upload holds a reservation');
    assert.deepEqual(stored(store, 'k'), old, 'old value readable while the upload runs');
    sock.destroy();
    while (store.stats().reservations !== 0 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(store.stats().reservations, 0);
    assert.equal(store.stats().bytesUsed, used, 'the reservation is freed');
    assert.deepEqual(stored(store, 'k'), old);
  } finally {
    await e.close();
  }
});

test('an upload the store can never hold is refused at head time (507): its body is never stored', async () => {
  const store = Store.create({ memory: 8 * MiB, maxKeys: 1000, stripes: 4, maxValueSize: 16 * MiB });
  const e = await startEngine({ maxValueSize: 16 * MiB }, store);
  try {
    // with Expect: 100-continue the client learns it before sending a byte of body
    const head = putHead('k', 12 * MiB).replace('\r\n\r\n', '\r\nExpect: 100-continue\r\n\r\n');
    const r = await raw(e.port, [head], { until: countResponses(1), timeoutMs: 5000 });
    assert.equal(parseResponses(r.data)[0]?.status, 507);
    assert.equal(store.stats().reservations, 0);
    // without it the body is drained, not stored, and the connection stays usable
    const drained = await raw(e.port, [putHead('k', 12 * MiB), Buffer.alloc(12 * MiB), req('GET', '/')], {
      until: countResponses(2),
      timeoutMs: 10_000,
    });
    assert.deepEqual(
      parseResponses(drained.data).map((x) => x.status),
      [507, 200],
    );
    const ok = await raw(e.port, [req('GET', '/')], { until: countResponses(1), timeoutMs: 5000 });
    assert.equal(parseResponses(ok.data)[0]?.status, 200);
  } finally {
    await e.close();
  }
});

test('40 concurrent 16 MiB uploads into --memory 256MiB keep resident memory within the budget', async () => {
  const memory = 256 * MiB;
  const store = Store.create({ memory, maxKeys: 1000, stripes: 16, maxValueSize: 16 * MiB });
  const e = await startEngine({ maxValueSize: 16 * MiB, memory }, store);
  try {
    const body = pattern(16 * MiB, 3); // one buffer shared by every client
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const poll = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => put(e.port, `u${i}`, body)));
    clearInterval(poll);
    peak = Math.max(peak, process.memoryUsage().rss);
    // 201, or 503 while reservations in flight hold the budget (clients retry); never a buffered body
    for (const s of statuses) assert.ok(s === 201 || s === 503, `status ${s}`);
    assert.ok(statuses.filter((s) => s === 201).length >= 10, `stored: ${statuses.join(',')}`);
    // the budget, plus this test process's own overhead (socket buffers of 40 clients and the
    // server's read buffers): far below the 640 MiB a buffered upload path would hold
    const overhead = 96 * MiB;
    assert.ok(peak - base <= memory + overhead, `rss grew ${((peak - base) / MiB).toFixed(0)} MiB`);
    assert.equal(store.stats().reservations, 0);
    assert.ok(store.stats().bytesUsed <= memory);
    for (let i = 0; i < 40; i++) {
      const v = stored(store, `u${i}`);
      if (v !== null) assert.ok(v.equals(body), `u${i} byte-exact`);
    }
  } finally {
    await e.close();
  }
});

/** A chunked PUT of `body` in chunks of `step` bytes, as one buffer. */
function chunked(key: string, body: Buffer, step: number): Buffer {
  const parts: Buffer[] = [
    Buffer.from(`PUT /store/${key} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`),
  ];
  for (let at = 0; at < body.length; at += step) {
    const c = body.subarray(at, at + step);
    parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

test('a chunked upload reserves in steps and is stored byte-exact; one that outgrows the store is 507', async () => {
  const store = Store.create({ memory: 16 * MiB, maxKeys: 1000, stripes: 4, maxValueSize: 16 * MiB });
  const e = await startEngine({ maxValueSize: 16 * MiB }, store);
  try {
    const base = store.stats().bytesUsed;
    const v = pattern(3 * MiB + 17, 4);
    const r = await raw(e.port, [chunked('c', v, 100_000), req('GET', '/')], {
      until: countResponses(2),
      timeoutMs: 20_000,
    });
    assert.deepEqual(
      parseResponses(r.data).map((x) => x.status),
      [201, 200],
    );
    assert.deepEqual(stored(store, 'c'), v);
    const big = await raw(e.port, [chunked('d', pattern(15 * MiB, 5), 1 << 20), req('GET', '/')], {
      until: countResponses(2),
      timeoutMs: 20_000,
    });
    assert.deepEqual(
      parseResponses(big.data).map((x) => x.status),
      [507, 200],
    );
    assert.equal(stored(store, 'd'), null);
    assert.equal(store.stats().reservations, 0);
    store.delete(Buffer.from('c'));
    assert.equal(store.stats().bytesUsed, base);
  } finally {
    await e.close();
  }
});
