import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import net from 'node:net';
import { once } from 'node:events';
import {
  BadRequestError,
  Client,
  encodeKey,
  InsufficientStorageError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  RangeNotSatisfiableError,
  ServiceUnavailableError,
  StripecacheError,
} from '../../dist/client/index.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const MiB = 1024 * 1024;

let server: RunningServer;
let client: Client;

before(async () => {
  server = await startServer(['--threads', '1', '--memory', '64MiB', '--max-keys', '10000']);
  client = new Client(`http://127.0.0.1:${server.port}`, { connections: 4 });
});

after(async () => {
  await client?.close();
  await server?.stop();
});

/** Deterministic pseudo-random bytes (xorshift32), produced a chunk at a time. */
function* chunks(total: number, chunkSize: number, seed: number): Generator<Buffer> {
  let x = seed >>> 0 || 1;
  for (let at = 0; at < total; at += chunkSize) {
    const c = Buffer.allocUnsafe(Math.min(chunkSize, total - at));
    for (let i = 0; i < c.length; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      c[i] = x & 0xff;
    }
    yield c;
  }
}

function digestOf(total: number, chunkSize: number, seed: number): string {
  const h = createHash('sha256');
  for (const c of chunks(total, chunkSize, seed)) h.update(c);
  return h.digest('hex');
}

test('keys are percent-encoded per segment: / stays, every other non-unreserved byte is %XX', () => {
  assert.equal(encodeKey('videos/42/chunk-0007'), 'videos/42/chunk-0007');
  assert.equal(encodeKey('a b%/c?d#e~_.-'), 'a%20b%25/c%3Fd%23e~_.-');
  assert.equal(encodeKey(Buffer.from([0x00, 0x2f, 0xff, 0x2f, 0x2f])), '%00/%FF//');
  assert.equal(encodeKey('é'), '%C3%A9');
});

test('set, get, head and delete a key', async () => {
  const created = await client.set('basic/one', Buffer.from('hello'), { contentType: 'text/plain' });
  assert.deepEqual(created, { status: 201, created: true, etag: created.etag });
  const replaced = await client.set('basic/one', 'hello, world', { contentType: 'text/x-greeting' });
  assert.equal(replaced.status, 200);
  assert.equal(replaced.created, false);

  const got = await client.get('basic/one');
  assert.ok(got);
  assert.equal(got.status, 200);
  assert.equal(got.notModified, false);
  assert.equal(got.body.toString(), 'hello, world');
  assert.equal(got.length, 12);
  assert.equal(got.contentType, 'text/x-greeting');
  assert.match(got.etag ?? '', /^"[^"]+"$/);
  assert.equal(got.range, undefined);

  const head = await client.head('basic/one');
  assert.ok(head);
  assert.equal(head.status, 200);
  assert.equal(head.length, 12);
  assert.equal(head.body.length, 0);
  assert.equal(head.etag, got.etag);
  assert.equal(head.contentType, 'text/x-greeting');

  await client.set('basic/untyped', 'x');
  assert.equal((await client.get('basic/untyped'))?.contentType, 'application/octet-stream');

  assert.equal(await client.delete('basic/one'), true);
  assert.equal(await client.delete('basic/one'), false);
  assert.equal(await client.get('basic/one'), undefined);
  assert.equal(await client.head('basic/one'), undefined);
});

test('binary keys with / and % round-trip and stay distinct', async () => {
  const keys: (string | Buffer)[] = [
    Buffer.from([0x00, 0x2f, 0x25, 0xff]),
    Buffer.from([0xff]),
    Buffer.from([0x25, 0x46, 0x46]), // the three bytes "%FF", not the byte 0xFF
    'a/b',
    'a%2Fb', // literal percent sign: a different key from "a/b"
    '%',
    '/leading/and//double/',
    'q?x=1#frag',
    'ünï/cödé',
  ];
  for (const [i, key] of keys.entries()) {
    assert.equal((await client.set(key, `value ${i}`)).created, true, `key ${i} is new`);
  }
  for (const [i, key] of keys.entries()) {
    assert.equal((await client.get(key))?.body.toString(), `value ${i}`, `key ${i}`);
  }
  // A string key and the same bytes as a Buffer name one entry.
  assert.equal((await client.get(Buffer.from('ünï/cödé')))?.body.toString(), `value ${keys.length - 1}`);
  for (const key of keys) assert.equal(await client.delete(key), true);
});

test('a 10 MiB value streams in from a Readable and out as a stream or a Buffer', async () => {
  const size = 10 * MiB;
  const expected = digestOf(size, 64 * 1024, 42);

  // Chunked upload (no length known in advance), then one with a declared length.
  await client.set('big/chunked', Readable.from(chunks(size, 64 * 1024, 42)));
  await client.set('big/sized', Readable.from(chunks(size, 64 * 1024, 42)), { length: size });
  // Any async iterable of bytes works too.
  await client.set(
    'big/iterable',
    (async function* () {
      yield* chunks(size, 64 * 1024, 42);
    })(),
  );

  for (const key of ['big/chunked', 'big/sized', 'big/iterable']) {
    const streamed = await client.getStream(key);
    assert.ok(streamed, key);
    assert.equal(streamed.length, size);
    const h = createHash('sha256');
    let seen = 0;
    for await (const c of streamed.body) {
      h.update(c as Buffer);
      seen += (c as Buffer).length;
    }
    assert.equal(seen, size, key);
    assert.equal(h.digest('hex'), expected, key);

    const whole = await client.get(key);
    assert.ok(whole);
    assert.equal(whole.body.length, size);
    assert.equal(createHash('sha256').update(whole.body).digest('hex'), expected, key);
  }

  // A range out of the middle of the big value is exactly those bytes.
  const all = (await client.get('big/sized'))!.body;
  const part = await client.get('big/sized', { range: [5 * MiB - 3, 5 * MiB + 4] });
  assert.ok(part);
  assert.deepEqual(part.body, all.subarray(5 * MiB - 3, 5 * MiB + 5));
  for (const key of ['big/chunked', 'big/sized', 'big/iterable']) await client.delete(key);
});

test('a stream handed back early can be destroyed and the client keeps working', async () => {
  await client.set('early/big', Readable.from(chunks(4 * MiB, 64 * 1024, 7)));
  const streamed = await client.getStream('early/big');
  assert.ok(streamed);
  streamed.body.destroy();
  await client.set('early/small', 'still here');
  assert.equal((await client.get('early/small'))?.body.toString(), 'still here');
});

test('ranges are inclusive: [first, last] and [first] to the end; 416 past the end', async () => {
  await client.set('range/k', '0123456789');
  const mid = await client.get('range/k', { range: [2, 5] });
  assert.ok(mid);
  assert.equal(mid.status, 206);
  assert.equal(mid.body.toString(), '2345');
  assert.equal(mid.length, 4);
  assert.deepEqual(mid.range, { first: 2, last: 5, size: 10 });

  const tail = await client.get('range/k', { range: [7] });
  assert.equal(tail?.body.toString(), '789');
  assert.deepEqual(tail?.range, { first: 7, last: 9, size: 10 });

  const one = await client.get('range/k', { range: [0, 0] });
  assert.equal(one?.body.toString(), '0');

  const streamed = await client.getStream('range/k', { range: [8, 100] });
  assert.ok(streamed);
  assert.equal(streamed.status, 206);
  assert.equal(Buffer.concat(await streamed.body.toArray()).toString(), '89');

  await assert.rejects(client.get('range/k', { range: [10] }), (e: unknown) => {
    assert.ok(e instanceof RangeNotSatisfiableError);
    assert.ok(e instanceof StripecacheError);
    assert.equal(e.status, 416);
    assert.equal(e.size, 10);
    assert.equal(e.code, 'STRIPECACHE_ERR_RANGE_NOT_SATISFIABLE');
    return true;
  });
  // Arguments that no HTTP range can express are refused before anything is sent.
  await assert.rejects(client.get('range/k', { range: [5, 4] }), RangeError);
  await assert.rejects(client.get('range/k', { range: [-1] }), RangeError);
  await assert.rejects(client.get('range/k', { range: [1.5, 2] }), RangeError);
});

test('If-None-Match with the current ETag answers notModified (304) without a body', async () => {
  await client.set('etag/k', 'cached bytes');
  const first = await client.get('etag/k');
  assert.ok(first?.etag);
  const again = await client.get('etag/k', { ifNoneMatch: first.etag });
  assert.ok(again);
  assert.equal(again.status, 304);
  assert.equal(again.notModified, true);
  assert.equal(again.body.length, 0);
  assert.equal(again.etag, first.etag);

  const listed = await client.get('etag/k', { ifNoneMatch: ['"0000000000000000"', first.etag] });
  assert.equal(listed?.status, 304);
  const streamed = await client.getStream('etag/k', { ifNoneMatch: first.etag });
  assert.equal(streamed?.notModified, true);

  await client.set('etag/k', 'new bytes');
  const changed = await client.get('etag/k', { ifNoneMatch: first.etag });
  assert.equal(changed?.status, 200);
  assert.equal(changed?.body.toString(), 'new bytes');
  assert.notEqual(changed?.etag, first.etag);
});

test('ttl makes an entry expire; a bad ttl is refused before sending', async () => {
  await client.set('ttl/k', 'short-lived', { ttl: 1 });
  assert.equal((await client.get('ttl/k'))?.body.toString(), 'short-lived');
  const until = Date.now() + 10_000;
  while ((await client.get('ttl/k')) !== undefined) {
    assert.ok(Date.now() < until, 'entry with ttl 1 still there after 10 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  await assert.rejects(client.set('ttl/k', 'x', { ttl: 0 }), RangeError);
  await assert.rejects(client.set('ttl/k', 'x', { ttl: 1.5 }), RangeError);
});

test('server refusals are typed with the status and the server message', async () => {
  await assert.rejects(client.get(''), (e: unknown) => {
    assert.ok(e instanceof BadRequestError);
    assert.equal(e.status, 400);
    assert.equal(e.code, 'STRIPECACHE_ERR_BAD_REQUEST');
    assert.match(e.serverMessage, /key/);
    assert.equal(e.method, 'GET');
    return true;
  });
  await assert.rejects(client.set(Buffer.alloc(1025, 0x61), 'x'), BadRequestError);
});

test('purge removes every key under a prefix and counts them', async () => {
  const bin = Buffer.from([0x70, 0x2f, 0xff, 0x25]);
  for (const key of ['purge/a/1', 'purge/a/2', 'purge/a/3/deep', 'purge/b/1', 'purge/ab']) {
    await client.set(key, key);
  }
  await client.set(Buffer.concat([bin, Buffer.from('/x')]), 'binary');
  await client.set(Buffer.concat([bin, Buffer.from('/y')]), 'binary');
  assert.equal(await client.purge('purge/a/'), 3);
  for (const key of ['purge/a/1', 'purge/a/2', 'purge/a/3/deep'])
    assert.equal(await client.get(key), undefined);
  assert.equal((await client.get('purge/b/1'))?.body.toString(), 'purge/b/1');
  assert.equal((await client.get('purge/ab'))?.body.toString(), 'purge/ab');
  assert.equal(await client.purge(bin), 2);
  assert.equal(await client.purge('purge/a/'), 0);
  assert.equal(await client.purge('purge/'), 2);
});

test('conditional writes and deletes: If-Match / If-None-Match: *', async () => {
  // If-None-Match: * stores only when absent.
  assert.equal((await client.set('cond/k', 'one', { ifNoneMatch: '*' })).status, 201);
  await assert.rejects(client.set('cond/k', 'two', { ifNoneMatch: '*' }), (e: unknown) => {
    assert.ok(e instanceof PreconditionFailedError);
    assert.equal(e.status, 412);
    assert.equal(e.code, 'STRIPECACHE_ERR_PRECONDITION_FAILED');
    return true;
  });
  const one = await client.get('cond/k');
  assert.equal(one?.body.toString(), 'one');

  // If-Match: compare-and-set on the ETag just read.
  await assert.rejects(client.set('cond/k', 'x', { ifMatch: '"0000000000000000"' }), PreconditionFailedError);
  assert.equal((await client.set('cond/k', 'two', { ifMatch: one!.etag! })).status, 200);
  await assert.rejects(client.set('cond/k', 'three', { ifMatch: one!.etag! }), PreconditionFailedError);
  const two = await client.get('cond/k');
  assert.equal(two?.body.toString(), 'two');
  assert.equal(
    (await client.set('cond/k', 'three', { ifMatch: ['"0000000000000000"', two!.etag!] })).status,
    200,
  );
  assert.equal((await client.set('cond/k', 'four', { ifMatch: '*' })).status, 200);
  await assert.rejects(client.set('cond/absent', 'x', { ifMatch: '*' }), PreconditionFailedError);
  assert.equal(await client.get('cond/absent'), undefined);

  // A streamed value under a failed condition leaves the old value intact.
  await assert.rejects(
    client.set('cond/k', Readable.from(chunks(2 * MiB, 64 * 1024, 3)), { ifNoneMatch: '*', length: 2 * MiB }),
    PreconditionFailedError,
  );
  assert.equal((await client.get('cond/k'))?.body.toString(), 'four');

  // DELETE with If-Match.
  const four = await client.get('cond/k');
  await assert.rejects(client.delete('cond/k', { ifMatch: '"0000000000000000"' }), PreconditionFailedError);
  assert.equal(await client.delete('cond/k', { ifMatch: four!.etag! }), true);
  assert.equal(await client.get('cond/k'), undefined);
});

test('an aborted signal rejects the call and leaves the client usable', async () => {
  const aborted = AbortSignal.abort();
  await assert.rejects(client.get('abort/k', { signal: aborted }), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'AbortError');
    return true;
  });
  await assert.rejects(client.set('abort/k', 'x', { signal: aborted }), { name: 'AbortError' });
  assert.equal(await client.get('abort/k'), undefined);
  assert.equal((await client.set('abort/k', 'y')).created, true);
});

test('pipelining and keep-alive options reach undici: many requests on one connection answer in order', async () => {
  const piped = new Client(`http://127.0.0.1:${server.port}`, {
    connections: 1,
    pipelining: 8,
    keepAliveTimeout: 2000,
  });
  try {
    await Promise.all(Array.from({ length: 40 }, (_, i) => piped.set(`pipe/${i}`, `v${i}`)));
    const got = await Promise.all(Array.from({ length: 40 }, (_, i) => piped.get(`pipe/${i}`)));
    assert.deepEqual(
      got.map((e) => e?.body.toString()),
      Array.from({ length: 40 }, (_, i) => `v${i}`),
    );
    const misses = await Promise.all(Array.from({ length: 10 }, (_, i) => piped.get(`pipe/missing/${i}`)));
    assert.deepEqual(misses, Array(10).fill(undefined));
  } finally {
    await piped.close();
  }
});

test("a URL's path is put before every route; only http: and https: URLs are taken", async () => {
  const based = new Client(`http://127.0.0.1:${server.port}/cache/`);
  try {
    // This server has no routes under /cache, so the write meets an unknown path.
    await assert.rejects(based.set('k', 'v'), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.equal(e.path, '/cache/store/k');
      return true;
    });
  } finally {
    await based.close();
  }
  assert.throws(() => new Client('ftp://127.0.0.1/'), TypeError);
});

test('413 for a value over --max-value-size, whether bytes, a stream or a stream with a length', async () => {
  const small = await startServer([
    '--threads',
    '1',
    '--memory',
    '16MiB',
    '--max-keys',
    '1000',
    '--max-value-size',
    '1MiB',
  ]);
  const c = new Client(`http://127.0.0.1:${small.port}`);
  try {
    const tooBig = 2 * MiB;
    const check = (e: unknown): boolean => {
      assert.ok(e instanceof PayloadTooLargeError);
      assert.equal(e.status, 413);
      assert.equal(e.code, 'STRIPECACHE_ERR_PAYLOAD_TOO_LARGE');
      assert.match(e.serverMessage, /max-value-size/);
      assert.equal(e.method, 'PUT');
      return true;
    };
    await assert.rejects(c.set('k', Buffer.alloc(tooBig)), check);
    await assert.rejects(c.set('k', Readable.from(chunks(tooBig, 64 * 1024, 1))), check);
    await assert.rejects(c.set('k', Readable.from(chunks(tooBig, 64 * 1024, 1)), { length: tooBig }), check);
    // The server closed those connections; the client opens a new one.
    assert.equal((await c.set('k', Buffer.alloc(MiB, 1))).created, true);
    assert.equal((await c.get('k'))?.length, MiB);
  } finally {
    await c.close();
    await small.stop();
  }
});

test('507 for a value the store can never hold (under --max-value-size, over --memory)', async () => {
  const tiny = await startServer(['--threads', '1', '--memory', '8MiB', '--max-keys', '1000']);
  const c = new Client(`http://127.0.0.1:${tiny.port}`);
  try {
    await assert.rejects(
      c.set('huge', Readable.from(chunks(12 * MiB, 64 * 1024, 5)), { length: 12 * MiB }),
      (e: unknown) => {
        assert.ok(e instanceof InsufficientStorageError);
        assert.equal(e.status, 507);
        assert.equal(e.code, 'STRIPECACHE_ERR_INSUFFICIENT_STORAGE');
        assert.ok(e.serverMessage.length > 0);
        return true;
      },
    );
    await assert.rejects(c.set('huge', Buffer.alloc(12 * MiB)), InsufficientStorageError);
    assert.equal(await c.get('huge'), undefined);
    assert.equal((await c.set('fits', 'small')).created, true);
  } finally {
    await c.close();
    await tiny.stop();
  }
});

test('503 with Retry-After over --max-connections', async () => {
  const capped = await startServer([
    '--threads',
    '1',
    '--memory',
    '16MiB',
    '--max-keys',
    '1000',
    '--max-connections',
    '1',
  ]);
  const held = net.connect(capped.port, '127.0.0.1');
  try {
    // The held connection completes a request first, so the server has counted it.
    await once(held, 'connect');
    held.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    let answer = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer on the held connection')), 5000);
      held.setEncoding('utf8').on('data', (d: string) => {
        answer += d;
        if (answer.includes('Hello, World!')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const c = new Client(`http://127.0.0.1:${capped.port}`);
    try {
      await assert.rejects(c.get('k'), (e: unknown) => {
        assert.ok(e instanceof ServiceUnavailableError);
        assert.equal(e.status, 503);
        assert.equal(e.code, 'STRIPECACHE_ERR_SERVICE_UNAVAILABLE');
        assert.equal(typeof e.retryAfter, 'number');
        assert.match(e.serverMessage, /connections/);
        return true;
      });
    } finally {
      await c.close();
    }
  } finally {
    held.destroy();
    await capped.stop();
  }
});
