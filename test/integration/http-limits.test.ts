import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FakeStore } from '../helpers/fake-store.js';
import { countResponses, parseResponses, raw, req, startEngine } from '../helpers/engine.js';

/**
 * --concurrency-limit counts requests in progress, not connections (README "Limits and
 * attacks"): idle keep-alive connections and heads still arriving hold no slot; an upload holds
 * one while its body arrives; a request over the limit waits unread. Stalled bodies and readers
 * that take nothing are closed after --idle-timeout.
 */

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Collects what `sock` receives; `wait(n)` resolves once n whole answers came (bounded). */
function collect(sock: net.Socket) {
  const parts: Buffer[] = [];
  let closed = false;
  sock.on('data', (d) => parts.push(d));
  sock.on('close', () => (closed = true));
  sock.on('error', () => (closed = true));
  const data = (): Buffer => Buffer.concat(parts);
  return {
    data,
    get closed() {
      return closed;
    },
    async wait(n: number, timeoutMs = 3000): Promise<boolean> {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        if (parseResponses(data()).length >= n) return true;
        await new Promise((r) => setTimeout(r, 10));
      }
      return false;
    },
    async waitClosed(timeoutMs: number): Promise<boolean> {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until && !closed) await new Promise((r) => setTimeout(r, 10));
      return closed;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('--concurrency-limit counts requests in progress', () => {
  test('idle keep-alive connections and heads still arriving hold no slot', async () => {
    const s = await startEngine({ concurrencyLimit: 1 });
    const held: net.Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const sock = await connect(s.port);
        held.push(sock);
        const c = collect(sock);
        sock.write(req('GET', '/'));
        assert.ok(await c.wait(1), 'keep-alive request answered');
      }
      const slow = await connect(s.port);
      held.push(slow);
      slow.write('GET / HTTP/1.1\r\nHo');
      await sleep(100);
      const r = await raw(s.port, [req('GET', '/healthz')], { until: countResponses(1), timeoutMs: 2000 });
      assert.equal(parseResponses(r.data)[0]?.status, 200, 'a fresh request is served at once');
    } finally {
      for (const sock of held) sock.destroy();
      await s.close();
    }
  });

  test('an upload holds its slot while the body arrives; a request over the limit waits unread (any thread)', async () => {
    const a = await startEngine({ concurrencyLimit: 1, threads: 2 });
    const b = await startEngine({ concurrencyLimit: 1, threads: 2 }, new FakeStore(), 1, a.shared);
    const up = await connect(a.port);
    const other = await connect(b.port);
    try {
      const upc = collect(up);
      const oc = collect(other);
      up.write('PUT /store/u HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
      await sleep(100);
      other.write(req('GET', '/healthz'));
      assert.equal(await oc.wait(1, 300), false, 'the request waits while the upload holds the slot');
      up.write('defghij');
      assert.ok(await upc.wait(1), 'upload answered');
      assert.equal(parseResponses(upc.data())[0]!.status, 201);
      assert.ok(await oc.wait(1), 'the waiting request is served once the slot frees');
      assert.equal(parseResponses(oc.data())[0]!.status, 200);
    } finally {
      up.destroy();
      other.destroy();
      await a.close();
      await b.close();
    }
  });

  test('uploads hold at most half the slots: slow bodies never shut out other requests', async () => {
    const s = await startEngine({ concurrencyLimit: 2 });
    const socks: net.Socket[] = [];
    try {
      const ups = [];
      for (let i = 0; i < 3; i++) {
        const up = await connect(s.port);
        socks.push(up);
        ups.push(collect(up));
        up.write(`PUT /store/slow${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc`);
        await sleep(50);
      }
      for (let k = 0; k < 3; k++) {
        const r = await raw(s.port, [req('GET', '/')], { until: countResponses(1), timeoutMs: 2000 });
        assert.equal(parseResponses(r.data)[0]?.status, 200, 'GET served while uploads stall');
      }
      // The first upload holds the one upload place; the others wait unread until it ends.
      socks[1]!.write('def');
      socks[2]!.write('def');
      assert.equal(await ups[1]!.wait(1, 200), false, 'second upload waits');
      socks[0]!.write('def');
      for (const u of ups) assert.ok(await u.wait(1), 'every upload answered in the end');
      for (const u of ups) assert.equal(parseResponses(u.data())[0]!.status, 201);
    } finally {
      for (const sock of socks) sock.destroy();
      await s.close();
    }
  });

  test('a waiting request on the same thread keeps its order and its pipelined followers', async () => {
    const s = await startEngine({ concurrencyLimit: 1 });
    const up = await connect(s.port);
    const other = await connect(s.port);
    try {
      const oc = collect(other);
      up.write('PUT /store/k HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nvv');
      await sleep(50);
      other.write(req('GET', '/get/k') + req('GET', '/') + req('GET', '/get/k'));
      assert.equal(await oc.wait(1, 200), false);
      up.write('vv');
      assert.ok(await oc.wait(3));
      const res = parseResponses(oc.data());
      assert.deepEqual(
        res.map((r) => r.status),
        [200, 200, 200],
      );
      assert.equal(res[0]!.body.toString(), 'vvvv', 'the waiting GET ran after the upload it waited for');
    } finally {
      up.destroy();
      other.destroy();
      await s.close();
    }
  });
});

describe('--idle-timeout bounds what makes no progress', () => {
  test('a stalled upload body is closed and its slot freed', async () => {
    const s = await startEngine({ concurrencyLimit: 1, idleTimeoutMs: 300 });
    const up = await connect(s.port);
    try {
      const upc = collect(up);
      up.write('PUT /store/stall HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
      assert.ok(await upc.waitClosed(3000), 'stalled upload closed');
      const r = await raw(s.port, [req('GET', '/')], { until: countResponses(1), timeoutMs: 2000 });
      assert.equal(parseResponses(r.data)[0]?.status, 200, 'slot freed');
    } finally {
      up.destroy();
      await s.close();
    }
  });

  test('a reader that takes nothing is closed; it held no slot meanwhile', async () => {
    const big = 'x'.repeat(512 * 1024);
    const store = new FakeStore(4 * 1024 * 1024, 4 * 1024 * 1024);
    const s = await startEngine(
      { concurrencyLimit: 1, idleTimeoutMs: 500, maxValueSize: 1024 * 1024 },
      store,
    );
    try {
      const put = await raw(s.port, [req('PUT', '/store/big', {}, big)], { until: countResponses(1) });
      assert.equal(parseResponses(put.data)[0]!.status, 201);
      const reader = await connect(s.port);
      reader.pause();
      let closed = false;
      reader.on('close', () => (closed = true));
      reader.on('error', () => (closed = true));
      let pipeline = '';
      for (let i = 0; i < 40; i++) pipeline += req('GET', '/get/big');
      reader.write(pipeline);
      await sleep(100);
      const r = await raw(s.port, [req('GET', '/')], { until: countResponses(1), timeoutMs: 2000 });
      assert.equal(
        parseResponses(r.data)[0]?.status,
        200,
        'a fresh request is served while the reader stalls',
      );
      // Past --idle-timeout (and a sweep), start reading: the answers end early, cut by the server.
      await sleep(1500);
      let got = 0;
      reader.on('data', (d: Buffer) => (got += d.length));
      reader.resume();
      const until = Date.now() + 5000;
      while (!closed && Date.now() < until) await sleep(20);
      assert.ok(closed, 'the stalled reader was closed');
      assert.ok(got < 40 * big.length, `cut before the 40 answers (${got} bytes)`);
    } finally {
      await s.close();
    }
  });
});
