// A read-through miss with Connection: close, and bytes that arrive while the origin is asked:
// the miss is answered (its value, then the close), and nothing after it is read as a request.
// The same for a keep-alive miss: what was pipelined behind it is answered after it, in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server.js';
import { startOrigin, type RunningOrigin } from '../helpers/origin-server.js';
import { parseResponses, raw, req } from '../helpers/engine.js';

let origin: RunningOrigin;
let server: RunningServer;

before(async () => {
  origin = await startOrigin({ size: 100 });
  server = await startServer(['--threads', '1', '--origin', `${origin.url}/o/`, '--origin-timeout', '5s']);
});

after(async () => {
  await server?.stop();
  await origin?.stop();
});

test('a miss with Connection: close is answered, and later bytes are not', async () => {
  await origin.script('/o/close', { delayMs: 300 });
  const r = await raw(
    server.port,
    [req('GET', '/get/close', { Connection: 'close' }), req('GET', '/'), req('GET', '/healthz')],
    { gapMs: 100, timeoutMs: 5000 },
  );
  assert.equal(r.closed, true);
  const res = parseResponses(r.data);
  assert.equal(res.length, 1, r.data.toString('latin1'));
  assert.equal(res[0]!.status, 200);
  assert.equal(res[0]!.body.length, 100);
  assert.equal(res[0]!.headers.get('connection'), 'close');
});

test('requests sent behind a keep-alive miss are answered after it, in order', async () => {
  await origin.script('/o/keep', { delayMs: 300 });
  const r = await raw(server.port, [req('GET', '/get/keep'), req('GET', '/'), req('GET', '/get/keep')], {
    gapMs: 100,
    timeoutMs: 5000,
    until: (d) => parseResponses(d).length >= 3,
  });
  const res = parseResponses(r.data);
  assert.deepEqual(
    res.map((x) => x.status),
    [200, 200, 200],
  );
  assert.equal(res[0]!.body.length, 100);
  assert.equal(res[1]!.body.toString(), 'Hello, World!');
  assert.equal(res[2]!.body.length, 100);
  assert.match(String(res[2]!.headers.get('cache-status')), /hit/);
});
