import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import net from 'node:net';
import http2 from 'node:http2';
import { startServer, type RunningServer } from '../helpers/server.js';
import { countResponses, parseResponses, raw, req } from '../helpers/engine.js';
import { h2close, h2connect, h2request } from './h2-client.js';

/** HTTP/2 with prior knowledge against dist/main.js, on the port that also speaks HTTP/1.1. */

const MAX_VALUE = 12 * 1024 * 1024;
let s: RunningServer;
before(async () => {
  s = await startServer(['--threads', '2', '--memory', '128MiB', '--max-value-size', String(MAX_VALUE)]);
});
after(async () => {
  await s.stop();
});

/** The status of a PUT whose body is written but never ended (the server answers before it ends). */
function statusBeforeBody(
  c: http2.ClientHttp2Session,
  path: string,
  headers: http2.OutgoingHttpHeaders,
  chunks: Buffer[],
): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path}: no answer`)), 10000);
    const st = c.request({ ':method': 'PUT', ':path': path, ...headers });
    st.on('response', (h) => {
      clearTimeout(timer);
      resolve(Number(h[':status']));
    });
    st.on('error', () => {});
    for (const b of chunks) st.write(b);
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('every route over h2c: store, read, range, conditional, head, delete, health, metrics', async () => {
  const c = await h2connect(s.port);
  try {
    const root = await h2request(c, 'GET', '/');
    assert.equal(root.status, 200);
    assert.equal(root.headers['content-type'], 'text/plain');
    assert.equal(root.body.toString(), 'Hello, World!');

    const key = '/store/videos/42/chunk-0007';
    assert.equal(
      (await h2request(c, 'POST', key, { 'content-type': 'video/mp4' }, 'abcdefghij')).status,
      201,
    );
    assert.equal((await h2request(c, 'PUT', key, { 'content-type': 'video/mp4' }, '0123456789')).status, 200);
    const get = await h2request(c, 'GET', '/get/videos%2F42%2Fchunk-0007');
    assert.equal(get.status, 200);
    assert.equal(get.body.toString(), '0123456789');
    assert.equal(get.headers['content-type'], 'video/mp4');
    assert.equal(get.headers['content-length'], '10');
    assert.equal(get.headers['accept-ranges'], 'bytes');
    assert.equal(get.headers['connection'], undefined);
    const etag = get.headers['etag'] as string;
    assert.match(etag, /^"[0-9a-f]{16}"$/);

    const part = await h2request(c, 'GET', '/get/videos/42/chunk-0007', { range: 'bytes=2-4' });
    assert.equal(part.status, 206);
    assert.equal(part.body.toString(), '234');
    assert.equal(part.headers['content-range'], 'bytes 2-4/10');
    const suffix = await h2request(c, 'GET', '/get/videos/42/chunk-0007', { range: 'bytes=-2' });
    assert.equal(suffix.status, 206);
    assert.equal(suffix.body.toString(), '89');
    const unsat = await h2request(c, 'GET', '/get/videos/42/chunk-0007', { range: 'bytes=10-' });
    assert.equal(unsat.status, 416);
    assert.equal(unsat.headers['content-range'], 'bytes */10');

    const notModified = await h2request(c, 'GET', '/get/videos/42/chunk-0007', { 'if-none-match': etag });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body.length, 0);
    assert.equal(notModified.headers['etag'], etag);
    const changed = await h2request(c, 'GET', '/get/videos/42/chunk-0007', { 'if-none-match': '"0000"' });
    assert.equal(changed.status, 200);

    const head = await h2request(c, 'HEAD', '/get/videos/42/chunk-0007');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '10');
    assert.equal(head.body.length, 0);

    const dflt = await h2request(c, 'PUT', '/store/plain', {}, 'x');
    assert.equal(dflt.status, 201);
    assert.equal(
      (await h2request(c, 'GET', '/get/plain')).headers['content-type'],
      'application/octet-stream',
    );
    assert.equal((await h2request(c, 'PUT', '/store/%FF%00bin?ttl=60', {}, 'b')).status, 201);
    assert.equal((await h2request(c, 'GET', '/get/%ff%00bin')).body.toString(), 'b');

    assert.equal((await h2request(c, 'DELETE', key)).status, 204);
    assert.equal((await h2request(c, 'DELETE', key)).status, 404);
    const miss = await h2request(c, 'GET', '/get/videos/42/chunk-0007');
    assert.equal(miss.status, 404);
    assert.equal(miss.headers['content-type'], 'text/plain');

    const health = await h2request(c, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body.toString(), 'ok\n');
    const metrics = await h2request(c, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    const h2Count = /stripecache_requests_by_protocol_total\{protocol="h2"\} (\d+)/.exec(
      metrics.body.toString(),
    );
    assert.ok(h2Count, 'metrics count requests by protocol');
    assert.equal(Number(h2Count[1]), 18, 'the 18 requests above');
    assert.match(
      metrics.body.toString(),
      /stripecache_requests_by_protocol_total\{protocol="http\/1\.1"\} \d+/,
    );
  } finally {
    await h2close(c);
  }
});

test('errors over h2c carry the HTTP/1.1 statuses and bodies; the connection stays usable', async () => {
  const c = await h2connect(s.port);
  try {
    const nf = await h2request(c, 'GET', '/nope');
    assert.equal(nf.status, 404);
    assert.equal(nf.headers['content-type'], 'text/plain');
    assert.ok(nf.body.length > 0);
    const m1 = await h2request(c, 'POST', '/get/x', {}, 'x');
    assert.equal(m1.status, 405);
    assert.equal(m1.headers['allow'], 'GET, HEAD');
    const m2 = await h2request(c, 'GET', '/store/x');
    assert.equal(m2.status, 405);
    assert.equal(m2.headers['allow'], 'POST, PUT, DELETE');
    assert.equal((await h2request(c, 'PATCH', '/store/x', {}, 'x')).status, 405);
    assert.equal((await h2request(c, 'GET', '/get/%zz')).status, 400);
    assert.equal((await h2request(c, 'PUT', '/store/k?ttl=abc', {}, 'x')).status, 400);
    assert.equal((await h2request(c, 'PUT', `/store/${'k'.repeat(1100)}`, {}, 'x')).status, 400);
    assert.equal(
      (await h2request(c, 'PUT', '/store/k', { 'content-type': 't'.repeat(300) }, 'x')).status,
      400,
    );
    const longTarget = await h2request(c, 'GET', `/get/${'a'.repeat(9000)}`);
    assert.equal(longTarget.status, 414);
    const bigHeader = await h2request(c, 'GET', '/get/a', { 'x-big': 'v'.repeat(17 * 1024) });
    assert.equal(bigHeader.status, 431);
    // Declared length over --max-value-size: refused before the body is read.
    const declared = await statusBeforeBody(c, '/store/big', { 'content-length': String(MAX_VALUE + 1) }, [
      Buffer.alloc(64 * 1024),
    ]);
    assert.equal(declared, 413);
    // Counted (no length declared): refused once the body passes the limit.
    const counted = await statusBeforeBody(c, '/store/big2', {}, [
      Buffer.alloc(MAX_VALUE),
      Buffer.alloc(1024),
    ]);
    assert.equal(counted, 413);
    assert.equal((await h2request(c, 'GET', '/get/big2')).status, 404);
    // The session survived all of it.
    assert.equal((await h2request(c, 'GET', '/')).status, 200);
  } finally {
    await h2close(c);
  }
});

test('100 concurrent streams on one connection: checksummed values, no mixing', async () => {
  const c = await h2connect(s.port);
  try {
    const values = Array.from({ length: 100 }, (_, i) => randomBytes(1 + ((i * 7919) % 70000)));
    const puts = await Promise.all(
      values.map((v, i) => h2request(c, 'PUT', `/store/mix-${i}`, { 'content-type': `app/t${i}` }, v)),
    );
    for (const p of puts) assert.equal(p.status, 201);
    const gets = await Promise.all(values.map((_, i) => h2request(c, 'GET', `/get/mix-${i}`)));
    gets.forEach((g, i) => {
      assert.equal(g.status, 200);
      assert.equal(g.headers['content-type'], `app/t${i}`);
      assert.equal(sha(g.body), sha(values[i]!), `value ${i}`);
    });
    const ranges = await Promise.all(
      values.map((_, i) => h2request(c, 'GET', `/get/mix-${i}`, { range: 'bytes=0-0' })),
    );
    ranges.forEach((r, i) => assert.deepEqual(r.body, values[i]!.subarray(0, 1)));
  } finally {
    await h2close(c);
  }
});

test('a 10 MiB PUT and GET over h2c', async () => {
  const c = await h2connect(s.port, { settings: { initialWindowSize: 8 * 1024 * 1024 } });
  try {
    c.setLocalWindowSize(32 * 1024 * 1024);
    const big = randomBytes(10 * 1024 * 1024);
    assert.equal((await h2request(c, 'PUT', '/store/ten', {}, big, 30000)).status, 201);
    const got = await h2request(c, 'GET', '/get/ten', {}, undefined, 30000);
    assert.equal(got.status, 200);
    assert.equal(got.headers['content-length'], String(big.length));
    assert.equal(sha(got.body), sha(big));
    const tail = await h2request(c, 'GET', '/get/ten', { range: `bytes=${big.length - 5}-` });
    assert.equal(tail.status, 206);
    assert.deepEqual(tail.body, big.subarray(big.length - 5));
  } finally {
    await h2close(c);
  }
});

/** A client transport that sends the first `n` bytes one byte per write, a few ms apart. */
function tricklingSocket(port: number, n: number): Duplex {
  const sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
  let sent = 0;
  const d = new Duplex({
    read() {
      sock.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      void (async () => {
        let i = 0;
        while (sent < n && i < chunk.length) {
          sock.write(chunk.subarray(i, i + 1));
          i++;
          sent++;
          await new Promise((r) => setTimeout(r, 3));
        }
        if (i < chunk.length) sock.write(chunk.subarray(i));
        cb();
      })();
    },
    final(cb) {
      sock.end();
      cb();
    },
    destroy(err, cb) {
      sock.destroy();
      cb(err);
    },
  });
  sock.on('data', (b) => {
    if (!d.push(b)) sock.pause();
  });
  sock.on('end', () => d.push(null));
  sock.on('error', (e) => d.destroy(e));
  return d;
}

test('a preface split into 1-byte writes is recognised', async () => {
  const c = await h2connect(s.port, { createConnection: () => tricklingSocket(s.port, 24) });
  try {
    const r = await h2request(c, 'GET', '/');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'Hello, World!');
  } finally {
    await h2close(c);
  }
  // A request that starts like the preface ("P...") but is HTTP/1.1 still parses as HTTP/1.1.
  const h1 = await raw(s.port, ['P', 'R', 'I', 'X / HTTP/1.1\r\nHost: x\r\n\r\n'], {
    gapMs: 5,
    timeoutMs: 3000,
  });
  assert.match(h1.data.toString('latin1'), /^HTTP\/1\.1 (400|405|501)/);
  const put = await raw(
    s.port,
    ['P', 'U', 'T /store/pp HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok'],
    {
      gapMs: 5,
      until: countResponses(1),
    },
  );
  assert.equal(parseResponses(put.data)[0]?.status, 201);
});

test('HTTP/1.1 and h2c clients on the same port at once', async () => {
  const c = await h2connect(s.port);
  try {
    const work: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      work.push(
        (async () => {
          const v = randomBytes(100 + i);
          assert.equal((await h2request(c, 'PUT', `/store/both-h2-${i}`, {}, v)).status, 201);
          assert.equal(sha((await h2request(c, 'GET', `/get/both-h2-${i}`)).body), sha(v));
        })(),
      );
      work.push(
        (async () => {
          const v = `h1-value-${i}`;
          const r = await raw(
            s.port,
            [req('PUT', `/store/both-h1-${i}`, {}, v) + req('GET', `/get/both-h1-${i}`)],
            {
              until: countResponses(2),
            },
          );
          const [put, get] = parseResponses(r.data);
          assert.equal(put?.status, 201);
          assert.equal(get?.body.toString(), v);
        })(),
      );
    }
    await Promise.all(work);
    // Each protocol reads what the other wrote.
    assert.equal((await h2request(c, 'GET', '/get/both-h1-3')).body.toString(), 'h1-value-3');
    const r = await raw(s.port, req('GET', '/get/both-h2-3'), { until: countResponses(1) });
    assert.equal(parseResponses(r.data)[0]?.body.length, 103);
  } finally {
    await h2close(c);
  }
});

test('Upgrade: h2c is not offered: the request is answered as HTTP/1.1', async () => {
  const r = await raw(
    s.port,
    req('GET', '/', {
      Connection: 'Upgrade, HTTP2-Settings',
      Upgrade: 'h2c',
      'HTTP2-Settings': 'AAMAAABkAAQAAP__',
    }),
    { until: countResponses(1) },
  );
  const [res] = parseResponses(r.data);
  assert.equal(res?.status, 200);
  assert.equal(res?.body.toString(), 'Hello, World!');
});

test('a stream flood (thousands of HEADERS + RST_STREAM) leaves the server serving others', async () => {
  const flood = await h2connect(s.port);
  let cutOff = false;
  flood.on('goaway', () => (cutOff = true));
  flood.on('close', () => (cutOff = true));
  const observer = await h2connect(s.port);
  try {
    for (let i = 0; i < 5000 && !flood.destroyed && !flood.closed; i++) {
      try {
        const st = flood.request({ ':method': 'GET', ':path': `/get/mix-${i % 100}` });
        st.on('error', () => {});
        st.close(http2.constants.NGHTTP2_CANCEL);
      } catch {
        break;
      }
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    // nghttp2's reset rate limit ends the flooding connection (GOAWAY), nobody else's.
    for (const until = Date.now() + 10_000; !cutOff && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(cutOff, true, 'the flooding connection was cut off');
    // Others are served, on an existing connection and on a new one.
    assert.equal((await h2request(observer, 'GET', '/')).status, 200);
    const fresh = await h2connect(s.port);
    assert.equal((await h2request(fresh, 'GET', '/healthz')).status, 200);
    await h2close(fresh);
    const h1 = await raw(s.port, req('GET', '/'), { until: countResponses(1) });
    assert.equal(parseResponses(h1.data)[0]?.status, 200);
  } finally {
    flood.destroy();
    await h2close(observer);
  }
});
