// issue 8: requests pipelined behind a prefix purge (an answer given in a later turn). When
// shutdown begins while the purge runs, they are answered (503 + Connection: close), not dropped
// behind a purge answer that closes; when resumed they hold a --concurrency-limit slot like any
// other request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { PurgeProgress, ReadResult, ReadStatus } from '../../dist/store/api.js';
import { TURN_SLOTS } from '../../dist/http/purge.js';
import { FakeStore } from '../helpers/fake-store.js';
import { parseResponses, raw, req, startEngine } from '../helpers/engine.js';

/**
 * A FakeStore whose prefix purge goes on, one turn at a time, until `finish()`; `servingAtGet`
 * records the --concurrency-limit slots held across threads each time a GET reads the store.
 */
class GatedStore extends FakeStore {
  purgeSteps = 0;
  private open = true;
  readonly servingAtGet: number[] = [];
  serving: Int32Array | null = null;

  finish(): void {
    this.open = false;
  }

  override purgePrefix(
    prefix: Uint8Array,
    s: number,
    c: number,
    b: number,
    out: PurgeProgress,
  ): PurgeProgress {
    this.purgeSteps++;
    super.purgePrefix(prefix, s, c, b, out);
    out.done = !this.open;
    // a whole turn's worth of slots: one step per event-loop turn
    out.examined = TURN_SLOTS;
    return out;
  }

  override get(key: Uint8Array, out: ReadResult): ReadStatus {
    if (this.serving !== null) this.servingAtGet.push(Atomics.load(this.serving, 1));
    return super.get(key, out);
  }
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(10);
  assert.ok(cond(), `timed out waiting for ${what}`);
}

test('shutdown while a purge runs: the purge is answered, then what was pipelined behind it', async () => {
  const store = new GatedStore();
  const engine = await startEngine({}, store);
  try {
    const pending = raw(
      engine.port,
      [req('DELETE', '/prefix/a'), req('GET', '/'), req('GET', '/healthz')].join(''),
      { timeoutMs: 10_000 },
    );
    await until('the purge to start', () => store.purgeSteps > 2);
    const stopped = engine.shutdown();
    await sleep(50);
    store.finish();
    const r = await pending;
    await stopped;
    assert.equal(r.closed, true, 'the connection closes');
    const res = parseResponses(r.data);
    const text = r.data.toString('latin1');
    assert.equal(res[0]?.status, 200, text);
    assert.equal(res[0]!.body.toString(), '0\n');
    assert.notEqual(res[0]!.headers.get('connection'), 'close', 'a request behind it is still answered');
    assert.equal(res.length, 2, text);
    assert.equal(res[1]!.status, 503);
    assert.equal(res[1]!.headers.get('connection'), 'close');
  } finally {
    await engine.close();
  }
});

test('shutdown while a purge runs with nothing behind it: the purge answer closes', async () => {
  const store = new GatedStore();
  const engine = await startEngine({}, store);
  try {
    const pending = raw(engine.port, req('DELETE', '/prefix/a'), { timeoutMs: 10_000 });
    await until('the purge to start', () => store.purgeSteps > 2);
    const stopped = engine.shutdown();
    await sleep(50);
    store.finish();
    const r = await pending;
    await stopped;
    assert.equal(r.closed, true);
    const res = parseResponses(r.data);
    assert.equal(res.length, 1, r.data.toString('latin1'));
    assert.equal(res[0]!.status, 200);
    assert.equal(res[0]!.headers.get('connection'), 'close');
  } finally {
    await engine.close();
  }
});

test('requests resumed behind a purge hold a --concurrency-limit slot while they are answered', async () => {
  const store = new GatedStore();
  const engine = await startEngine({ concurrencyLimit: 4 }, store);
  store.serving = new Int32Array(engine.shared, 0, 16);
  try {
    store.set(Buffer.from('k'), Buffer.from('v'), Buffer.from('text/plain'), 0);
    const pending = raw(
      engine.port,
      [req('DELETE', '/prefix/zz'), req('GET', '/get/k'), req('GET', '/get/k')].join(''),
      { timeoutMs: 10_000, until: (d) => parseResponses(d).length >= 3 },
    );
    await until('the purge to start', () => store.purgeSteps > 2);
    store.finish();
    const r = await pending;
    const res = parseResponses(r.data);
    assert.deepEqual(
      res.map((x) => x.status),
      [200, 200, 200],
      r.data.toString('latin1'),
    );
    assert.deepEqual(store.servingAtGet, [1, 1], 'each resumed GET answered holding one slot');
    await until('the slot to be given back', () => Atomics.load(store.serving!, 1) === 0);
  } finally {
    await engine.close();
  }
});

test('requests resumed behind a purge while every slot is taken wait for one', async () => {
  const store = new GatedStore();
  const engine = await startEngine({ concurrencyLimit: 1 }, store);
  const serving = new Int32Array(engine.shared, 0, 16);
  store.serving = serving;
  // this thread's gauges: open, serving, waiting
  const gauges = new Int32Array(engine.shared, 16 * 4, 4);
  const a = net.connect(engine.port, '127.0.0.1');
  const b = net.connect(engine.port, '127.0.0.1');
  let got = Buffer.alloc(0);
  a.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
  b.on('data', () => {});
  try {
    store.set(Buffer.from('k'), Buffer.from('v'), Buffer.from('text/plain'), 0);
    a.write(req('DELETE', '/prefix/zz') + req('GET', '/get/k') + req('GET', '/healthz'));
    await until('the purge to start', () => store.purgeSteps > 2);
    // b's upload holds the only slot while its body is arriving
    b.write('PUT /store/up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345');
    await until('the upload to hold the slot', () => Atomics.load(serving, 1) === 1);
    store.finish();
    await until('the purge answer', () => parseResponses(got).length >= 1);
    await until('a to wait for the slot', () => Atomics.load(gauges, 2) === 1);
    await sleep(50);
    assert.equal(parseResponses(got).length, 1, 'nothing behind the purge answered without a slot');
    assert.deepEqual(store.servingAtGet, []);
    b.write('67890');
    await until('a answered', () => parseResponses(got).length === 3);
    assert.deepEqual(
      parseResponses(got).map((x) => x.status),
      [200, 200, 200],
    );
    assert.deepEqual(store.servingAtGet, [1]);
    await until('slots and waits back to zero', () => Atomics.load(serving, 1) === 0);
    assert.equal(Atomics.load(gauges, 2), 0);
  } finally {
    a.destroy();
    b.destroy();
    await engine.close();
  }
});
