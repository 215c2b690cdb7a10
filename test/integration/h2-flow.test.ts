import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { startServer, type RunningServer } from '../helpers/server.js';
import { countResponses, parseResponses, raw, req } from '../helpers/engine.js';
import { h2close, h2connect, h2request } from './h2-client.js';

/** Flow control and the framing layer against dist/main.js, with clients that keep the defaults. */

let s: RunningServer;

before(async () => {
  s = await startServer(['--threads', '1', '--memory', '128MiB', '--max-value-size', '12MiB']);
});

after(async () => {
  await s.stop();
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('a 10 MiB GET to a client that keeps the 64 KiB windows completes, and so do small ones next to it', async () => {
  const big = randomBytes(10 * 1024 * 1024);
  const writer = await h2connect(s.port);
  try {
    assert.equal((await h2request(writer, 'PUT', '/store/flow-big', {}, big, 30000)).status, 201);
  } finally {
    await h2close(writer);
  }
  // No SETTINGS_INITIAL_WINDOW_SIZE, no connection WINDOW_UPDATE: 65535 bytes each until it reads.
  const c = await h2connect(s.port);
  try {
    const pending = h2request(c, 'GET', '/get/flow-big', {}, undefined, 30000);
    const small = await Promise.all([1, 2, 3].map(() => h2request(c, 'GET', '/healthz')));
    for (const r of small) assert.equal(r.status, 200);
    const got = await pending;
    assert.equal(got.status, 200);
    assert.equal(got.body.length, big.length);
    assert.equal(sha(got.body), sha(big));
  } finally {
    await h2close(c);
  }
});

test('a PUT without content-length, in many small DATA frames, is stored whole', async () => {
  const c = await h2connect(s.port);
  try {
    const parts: Buffer[] = [];
    for (let i = 0; i < 200; i++) parts.push(Buffer.from(`part-${i};`));
    const body = Buffer.concat(parts);
    assert.equal((await h2request(c, 'PUT', '/store/flow-parts', {}, body)).status, 201);
    const got = await h2request(c, 'GET', '/get/flow-parts');
    assert.equal(got.body.toString(), body.toString());
  } finally {
    await h2close(c);
  }
});

/** A raw client: the preface, an empty SETTINGS, then `frames`; resolves with what came back. */
function rawH2(frames: Buffer[], ms = 3000): Promise<Buffer> {
  return new Promise((resolve) => {
    const sock = net.connect({ port: s.port, host: '127.0.0.1' });
    const got: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(Buffer.concat(got));
    };
    const timer = setTimeout(done, ms);
    sock.on('data', (d) => got.push(d));
    sock.on('close', done);
    sock.on('error', done);
    sock.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'));
    sock.write(frame(4, 0, 0, Buffer.alloc(0)));
    for (const f of frames) sock.write(f);
  });
}

function frame(type: number, flags: number, id: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(id, 5);
  return Buffer.concat([h, payload]);
}

function frames(b: Buffer): { type: number; id: number; payload: Buffer }[] {
  const out = [];
  for (let p = 0; p + 9 <= b.length;) {
    const len = b.readUIntBE(p, 3);
    out.push({ type: b[p + 3]!, id: b.readUInt32BE(p + 5), payload: b.subarray(p + 9, p + 9 + len) });
    p += 9 + len;
  }
  return out;
}

test('protocol errors on the wire: a malformed request is reset, a bad frame ends only its connection', async () => {
  // :method GET, :scheme http, :path /, then a field with an uppercase name (literal, new name);
  // stream 3 the same with `:authority: h` and nothing wrong.
  const block = Buffer.concat([
    Buffer.from([0x82, 0x86, 0x84, 0x00, 0x01]),
    Buffer.from('X'),
    Buffer.from([1, 0x61]),
  ]);
  const got = frames(
    await rawH2([frame(1, 5, 1, block), frame(1, 5, 3, Buffer.from([0x82, 0x86, 0x84, 0x01, 0x01, 0x68]))]),
  );
  const rst = got.find((f) => f.type === 3);
  assert.equal(rst?.id, 1, 'stream 1 reset');
  assert.equal(rst?.payload.readUInt32BE(0), 1, 'PROTOCOL_ERROR');
  assert.ok(
    got.some((f) => f.type === 1 && f.id === 3),
    'stream 3 answered on the same connection',
  );
  // A frame over 16 KiB: GOAWAY(FRAME_SIZE_ERROR).
  const big = frames(await rawH2([frame(0, 0, 1, Buffer.alloc(20000))]));
  const goaway = big.find((f) => f.type === 7);
  assert.equal(goaway?.payload.readUInt32BE(4), 6);
  // Others are served.
  const r = await raw(s.port, req('GET', '/'), { until: countResponses(1) });
  assert.equal(parseResponses(r.data)[0]?.status, 200);
});
