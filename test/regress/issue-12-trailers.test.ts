import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, type RunningServer } from '../helpers/server.js';

/**
 * Found by the property tests (issue 12): trailer fields after a chunked body went through the
 * head's field handling. A trailer after more than 16 KiB of body was refused with 431 (the body
 * was measured as head bytes), and a trailer `Content-Type` replaced the stored type (with bytes
 * from another buffer when the trailer arrived in a later read).
 */

let server: RunningServer;

before(async () => {
  server = await startServer(['--threads', '1', '--memory', '16MiB', '--log-level', 'error']);
});
after(async () => {
  await server.stop(5000);
});

/** Sends the pieces (a pause between them), returns everything read until the server closes. */
async function send(pieces: (string | Buffer)[]): Promise<string> {
  const s = net.connect(server.port, '127.0.0.1');
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  s.on('error', () => {});
  // Listened for before the first write: the server may close during a pause between pieces.
  const closed = new Promise((r) => s.once('close', r));
  await new Promise<void>((r) => s.once('connect', r));
  for (const p of pieces) {
    s.write(p);
    await new Promise((r) => setTimeout(r, 20));
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, 5000)))]);
  clearTimeout(timer);
  s.destroy();
  return Buffer.concat(chunks).toString('latin1');
}

function chunkedPut(key: string, body: Buffer, trailer: string): Buffer {
  return Buffer.concat([
    Buffer.from(
      `PUT /store/${key} HTTP/1.1\r\nHost: h\r\nContent-Type: text/good\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`,
    ),
    body,
    Buffer.from(`\r\n0\r\n${trailer}\r\n`),
  ]);
}

const GET_CLOSE = (key: string) => `GET /get/${key} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`;

test('a trailer after a chunked body over 16 KiB is accepted', async () => {
  const body = Buffer.alloc(40_000, 0x61);
  const out = await send([chunkedPut('tr-big', body, 'X-Checksum: 1\r\n'), GET_CLOSE('tr-big')]);
  assert.match(out, /^HTTP\/1\.1 201 Created\r\n/);
  assert.match(out, /\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*Content-Length: 40000\r\n/);
});

test('a trailer Content-Type does not replace the head one, in one read or two', async () => {
  const put = chunkedPut('tr-ct', Buffer.from('abc'), 'Content-Type: evil/x\r\n');
  for (const pieces of [
    [Buffer.concat([put, Buffer.from(GET_CLOSE('tr-ct'))])],
    [put.subarray(0, 90), put.subarray(90), GET_CLOSE('tr-ct')],
  ]) {
    const out = await send(pieces);
    const get = out.slice(out.indexOf('\r\n\r\n') + 4);
    assert.match(get, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(get, /\r\nContent-Type: text\/good\r\n/, get);
  }
});

test('a trailer section over 16 KiB is refused with 431', async () => {
  const out = await send([chunkedPut('tr-huge', Buffer.from('abc'), `X-Big: ${'b'.repeat(17_000)}\r\n`)]);
  assert.match(out, /^HTTP\/1\.1 431 /);
});
