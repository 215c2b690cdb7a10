import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreLockTimeoutError } from '../../dist/store/index.js';
import type { ReadResult } from '../../dist/store/api.js';
import { FakeStore } from '../helpers/fake-store.js';
import { countResponses, parseResponses, raw, req, startEngine } from '../helpers/engine.js';

/** A store whose stripe lock is held by a wedged thread: every read times out. */
class WedgedStore extends FakeStore {
  override get(_key: Uint8Array, _out: ReadResult): never {
    throw new StoreLockTimeoutError('stripe', 3);
  }
}

test('a stripe lock that is never released answers 503 + Retry-After, and the thread keeps serving', async () => {
  const e = await startEngine({}, new WedgedStore());
  try {
    const r = await raw(e.port, [req('GET', '/get/k')], { until: countResponses(1), timeoutMs: 2000 });
    const [res] = parseResponses(r.data);
    assert.equal(res?.status, 503);
    assert.equal(res?.headers.get('retry-after'), '1');
    assert.equal(res?.headers.get('connection'), 'close');
    assert.match(res?.body.toString() ?? '', /store busy/);
    const again = await raw(e.port, [req('GET', '/')], { until: countResponses(1), timeoutMs: 2000 });
    assert.equal(parseResponses(again.data)[0]?.status, 200);
  } finally {
    await e.close();
  }
});
