import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  countResponses,
  parseResponses,
  raw,
  req,
  startEngine,
  type EngineUnderTest,
} from '../helpers/engine.js';
import { HttpParser } from '../../dist/parser/parser.js';

/**
 * Pipelining and write batching, measured at the socket layer: the engine runs in this process,
 * so the libuv stream handle's write entry points (writeBuffer, writev, ...) can be counted for
 * the server's socket, and so can the chunks its socket receives.
 */

type Handle = Record<string, unknown>;
const writeCalls = new Map<Handle, number>();
const reads = new Map<HttpParser, number>();
let restore: (() => void) | null = null;

let e: EngineUnderTest;
let tcpProto: Handle | null = null;

before(async () => {
  e = await startEngine();
  // Find the TCP handle prototype from a connected socket.
  const s = net.connect(e.port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  tcpProto = Object.getPrototypeOf((s as unknown as { _handle: Handle })._handle) as Handle;
  s.destroy();
});
after(async () => {
  restore?.();
  await e.close();
});

function patchTcp(): void {
  const names = [
    'writeBuffer',
    'writev',
    'writeUtf8String',
    'writeLatin1String',
    'writeAsciiString',
    'writeUcs2String',
  ];
  const saved: [string, unknown][] = [];
  for (const name of names) {
    const orig = tcpProto![name];
    if (typeof orig !== 'function') continue;
    saved.push([name, orig]);
    tcpProto![name] = function (this: Handle, ...args: unknown[]) {
      writeCalls.set(this, (writeCalls.get(this) ?? 0) + 1);
      return (orig as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  // Every chunk the server reads goes to its connection's parser once, whether it came as a
  // 'data' event or straight into the thread's read buffer.
  const origFeed = HttpParser.prototype.feed;
  HttpParser.prototype.feed = function (this: HttpParser, ...args: Parameters<HttpParser['feed']>) {
    reads.set(this, (reads.get(this) ?? 0) + 1);
    return origFeed.apply(this, args);
  };
  restore = () => {
    for (const [name, fn] of saved) tcpProto![name] = fn;
    HttpParser.prototype.feed = origFeed;
    restore = null;
  };
}

test('100 pipelined requests in one write are answered in order', async () => {
  let setup = '';
  for (let i = 0; i < 50; i++) setup += req('PUT', `/store/p${i}`, {}, `value-${i}`);
  await raw(e.port, [setup], { until: countResponses(50) });
  let batch = '';
  const expected: string[] = [];
  for (let i = 0; i < 100; i++) {
    if (i % 2 === 0) {
      batch += req('GET', `/get/p${i / 2}`);
      expected.push(`200 value-${i / 2}`);
    } else if (i % 3 === 0) {
      batch += req('GET', `/get/missing${i}`);
      expected.push('404 key not found\n');
    } else {
      batch += req('GET', '/');
      expected.push('200 Hello, World!');
    }
  }
  const r = await raw(e.port, [batch], { until: countResponses(100), timeoutMs: 5000 });
  const res = parseResponses(r.data);
  assert.deepEqual(
    res.map((x) => `${x.status} ${x.body.toString()}`),
    expected,
  );
  assert.equal(r.closed, false);
});

test('32 pipelined requests in one chunk leave in a single socket write', async () => {
  let setup = '';
  for (let i = 0; i < 32; i++) setup += req('PUT', `/store/w${i}`, {}, 'x'.repeat(64));
  await raw(e.port, [setup], { until: countResponses(32) });

  let batch = '';
  for (let i = 0; i < 32; i++) batch += req('GET', `/get/w${i}`);
  const client = net.connect(e.port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  await new Promise((r) => setTimeout(r, 50));
  const clientHandle = (client as unknown as { _handle: Handle })._handle;
  writeCalls.clear();
  reads.clear();
  patchTcp();
  try {
    let data = Buffer.alloc(0);
    const got = new Promise<void>((resolve) => {
      client.on('data', (d) => {
        data = Buffer.concat([data, d]);
        if (parseResponses(data).length >= 32) resolve();
      });
    });
    client.write(batch);
    await got;
  } finally {
    restore?.();
  }
  const serverWrites = [...writeCalls.entries()].filter(([h]) => h !== clientHandle);
  const serverReads = [...reads.entries()];
  client.destroy();
  assert.equal(serverReads.length, 1, 'one server socket read');
  assert.equal(serverReads[0]![1], 1, 'the 32 requests arrived in one chunk');
  assert.equal(serverWrites.length, 1, 'one server socket wrote');
  assert.equal(serverWrites[0]![1], 1, '32 responses in one write call');
});

test('the /metrics socket write counter agrees: one write per batch', async () => {
  const metric = async () => {
    const r = await raw(e.port, [req('GET', '/metrics')], { until: countResponses(1) });
    const text = parseResponses(r.data)[0]!.body.toString();
    return Number(/^stripecache_socket_writes_total (\d+)$/m.exec(text)![1]);
  };
  const before = await metric();
  let batch = '';
  for (let i = 0; i < 32; i++) batch += req('GET', '/');
  await raw(e.port, [batch], { until: countResponses(32) });
  const afterCount = await metric();
  // one write for the batch of 32, one for the first /metrics answer itself
  assert.equal(afterCount - before, 2);
});

test('a client that pipelines without reading cannot grow server output without bound', async () => {
  await raw(e.port, [req('PUT', '/store/bp', {}, 'y'.repeat(60000))], { until: countResponses(1) });
  const client = net.connect(e.port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  client.pause();
  const one = Buffer.from(req('GET', '/get/bp'));
  const batch = Buffer.concat(Array.from({ length: 200 }, () => one));
  // 20000 requests = 1.2 GB of answers if the server kept reading.
  let sent = 0;
  for (let i = 0; i < 100; i++) {
    if (!client.write(batch))
      await Promise.race([
        new Promise((r) => client.once('drain', r)),
        new Promise((r) => setTimeout(r, 200)),
      ]);
    sent++;
  }
  await new Promise((r) => setTimeout(r, 500));
  const metrics = await raw(e.port, [req('GET', '/metrics')], { until: countResponses(1) });
  const text = parseResponses(metrics.data)[0]!.body.toString();
  const out = Number(/^stripecache_bytes_sent_total (\d+)$/m.exec(text)![1]);
  client.destroy();
  assert.ok(sent > 0);
  assert.ok(out < 128 * 1024 * 1024, `server handed ${out} bytes to a socket nobody reads`);
});

test('pipelined answers over the batch budget are all sent, in order (yield and resume on drain)', async () => {
  const value = Buffer.alloc(60000);
  for (let i = 0; i < value.length; i++) value[i] = (i * 7) & 0xff;
  await raw(
    e.port,
    [
      Buffer.concat([
        Buffer.from(`PUT /store/big60 HTTP/1.1\r\nHost: x\r\nContent-Length: ${value.length}\r\n\r\n`),
        value,
      ]),
    ],
    {
      until: countResponses(1),
    },
  );
  let batch = '';
  for (let i = 0; i < 40; i++) batch += req('GET', i % 2 === 0 ? '/get/big60' : '/healthz');
  const r = await raw(e.port, [batch], { until: countResponses(40), timeoutMs: 10000 });
  const res = parseResponses(r.data);
  assert.equal(res.length, 40);
  for (let i = 0; i < 40; i++) {
    if (i % 2 === 0) assert.ok(res[i]!.body.equals(value), `answer ${i}`);
    else assert.equal(res[i]!.body.toString(), 'ok\n', `answer ${i}`);
  }
});

test('a 3 MiB upload in many chunks is stored whole; ranges of it are exact', async () => {
  const big = await startEngine({ maxValueSize: 4 * 1024 * 1024 });
  try {
    const value = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < value.length; i++) value[i] = (i * 31 + (i >> 11)) & 0xff;
    const head = `PUT /store/blob HTTP/1.1\r\nHost: x\r\nContent-Length: ${value.length}\r\n\r\n`;
    const parts: Buffer[] = [Buffer.from(head)];
    for (let off = 0; off < value.length; off += 50000) parts.push(value.subarray(off, off + 50000));
    let r = await raw(big.port, parts, { until: countResponses(1), timeoutMs: 10000 });
    assert.equal(parseResponses(r.data)[0]!.status, 201);
    r = await raw(
      big.port,
      [req('GET', '/get/blob') + req('GET', '/get/blob', { Range: 'bytes=1000000-1000099' })],
      {
        until: countResponses(2),
        timeoutMs: 10000,
      },
    );
    const [whole, part] = parseResponses(r.data);
    assert.ok(whole!.body.equals(value));
    assert.equal(part!.status, 206);
    assert.ok(part!.body.equals(value.subarray(1000000, 1000100)));
  } finally {
    await big.close();
  }
});
