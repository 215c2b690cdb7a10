import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { startServer, startTinyServer } from '../helpers/server.js';
import { countResponses, parseResponses, raw, req } from '../helpers/engine.js';
import { h2close, h2connect, h2request } from './h2-client.js';

/** HTTP/2 connections under the server's limits, timeouts and graceful shutdown. */

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

test('SIGTERM sends GOAWAY; a stream already open finishes, then the server exits', async () => {
  const s = await startServer(['--threads', '1', '--shutdown-timeout', '10s']);
  const c = await h2connect(s.port);
  try {
    assert.equal((await h2request(c, 'GET', '/')).status, 200);
    // An upload in progress when the signal comes.
    const st = c.request({ ':method': 'PUT', ':path': '/store/late' });
    st.on('error', () => {});
    const answered = new Promise<number>((resolve) =>
      st.on('response', (h) => resolve(Number(h[':status']))),
    );
    st.write('first half, ');
    await new Promise((r) => setTimeout(r, 100));
    const goaway = once(c, 'goaway');
    const exited = s.stop(15000);
    const [code] = (await within(goaway, 5000, 'GOAWAY')) as [number];
    assert.equal(code, 0, 'GOAWAY with NO_ERROR');
    st.end('second half');
    assert.equal(await within(answered, 5000, 'the open stream'), 201);
    assert.equal(await within(exited, 10000, 'exit'), 0);
  } finally {
    c.destroy();
    await s.stop(2000);
  }
});

test('an idle h2c connection is closed after --idle-timeout', async () => {
  const s = await startServer(['--threads', '1', '--idle-timeout', '300ms']);
  try {
    const c = await h2connect(s.port);
    assert.equal((await h2request(c, 'GET', '/')).status, 200);
    await within(once(c, 'close'), 5000, 'idle close');
    const m = await raw(s.port, req('GET', '/metrics'), { until: countResponses(1) });
    const text = parseResponses(m.data)[0]!.body.toString();
    assert.match(text, /stripecache_idle_closed_total [1-9]/);
  } finally {
    await s.stop();
  }
});

test('h2c connections count in --max-connections; a stalled preface gets 408 after --header-timeout', async () => {
  const s = await startServer(['--threads', '1', '--max-connections', '2', '--header-timeout', '300ms']);
  try {
    const a = await h2connect(s.port);
    const b = await h2connect(s.port);
    assert.equal((await h2request(a, 'GET', '/')).status, 200);
    assert.equal((await h2request(b, 'GET', '/')).status, 200);
    const third = await raw(s.port, req('GET', '/'), { until: countResponses(1) });
    assert.equal(parseResponses(third.data)[0]?.status, 503);
    await h2close(a);
    // Half a preface, then nothing: still an HTTP/1.1 connection waiting for its head. The place
    // `a` held frees once the server saw it close: until then this gets 503 (retried, bounded).
    let stalled = await raw(s.port, 'PRI * HTTP/2.0\r\n', { timeoutMs: 4000 });
    for (let i = 0; i < 50 && /^HTTP\/1\.1 503 /.test(stalled.data.toString('latin1')); i++) {
      await new Promise((r) => setTimeout(r, 50));
      stalled = await raw(s.port, 'PRI * HTTP/2.0\r\n', { timeoutMs: 4000 });
    }
    assert.equal(stalled.closed, true);
    assert.match(stalled.data.toString('latin1'), /^HTTP\/1\.1 408 /);
    assert.equal((await h2request(b, 'GET', '/healthz')).status, 200);
    await h2close(b);
  } finally {
    await s.stop();
  }
});

test('507 over h2c for a value the store can never hold; the connection goes on', async () => {
  const s = await startTinyServer();
  try {
    const c = await h2connect(s.port);
    const r = await h2request(c, 'PUT', '/store/huge', {}, Buffer.alloc(8 * 1024 * 1024, 0x61), 20000);
    assert.equal(r.status, 507);
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal((await h2request(c, 'GET', '/')).status, 200);
    assert.equal((await h2request(c, 'GET', '/get/huge')).status, 404);
    await h2close(c);
  } finally {
    await s.stop();
  }
});
