// issue 9: a store lock timeout thrown while a drained connection resumed its pipelined requests
// (onDrain -> resumePending, outside the handler's try/catch) was an uncaught exception that
// killed the thread. Now it is answered 503 like a throw while reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreLockTimeoutError } from '../../dist/store/index.js';
import type { ReadResult, ReadStatus } from '../../dist/store/api.js';
import { FakeStore } from '../helpers/fake-store.js';
import { countResponses, parseResponses, raw, req, startEngine } from '../helpers/engine.js';

/** Reads of `bad` time out on the stripe lock; everything else is served. */
class HalfWedgedStore extends FakeStore {
  override get(key: Uint8Array, out: ReadResult): ReadStatus {
    if (Buffer.from(key).toString() === 'bad') throw new StoreLockTimeoutError('stripe', 3);
    return super.get(key, out);
  }
}

test('a lock timeout in a pipelined request resumed after drain answers 503 and the thread lives', async () => {
  const store = new HalfWedgedStore();
  const e = await startEngine({}, store);
  try {
    // two answers of 1.5 MiB pass the batch budget: the third request waits for 'drain'
    const big = Buffer.alloc(1536 * 1024, 0x61);
    store.set(Buffer.from('big'), big, Buffer.from('text/plain'), 0);
    const r = await raw(e.port, [req('GET', '/get/big') + req('GET', '/get/big') + req('GET', '/get/bad')], {
      until: countResponses(3),
      timeoutMs: 5000,
    });
    const res = parseResponses(r.data);
    assert.deepEqual(
      res.map((x) => x.status),
      [200, 200, 503],
    );
    assert.equal(res[0]!.body.length, big.length);
    assert.equal(res[2]!.headers.get('retry-after'), '1');
    const again = await raw(e.port, [req('GET', '/get/big')], { until: countResponses(1), timeoutMs: 5000 });
    assert.equal(parseResponses(again.data)[0]?.status, 200);
  } finally {
    await e.close();
  }
});
