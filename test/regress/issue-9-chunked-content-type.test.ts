// Regression (issue 9): a chunked upload's reservation kept a view of the request's Content-Type
// in the read buffer; by the time the last chunk arrived (a later read) those bytes were other
// data, and the stored Content-Type was garbage (found by the property tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startServer } from '../helpers/server.js';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads from `sock` until `done(text)` holds or 5 s pass. */
async function readUntil(sock: net.Socket, done: (text: string) => boolean): Promise<string> {
  let text = '';
  const deadline = Date.now() + 5000;
  while (!done(text)) {
    if (Date.now() > deadline) throw new Error(`no complete answer: ${JSON.stringify(text)}`);
    const chunk = (await Promise.race([once(sock, 'data'), pause(100).then(() => null)])) as Buffer[] | null;
    if (chunk !== null) text += chunk[0]!.toString('latin1');
  }
  return text;
}

test('a chunked upload whose chunks arrive in later reads keeps its Content-Type', async () => {
  const s = await startServer(['--threads', '1']);
  const sock = net.connect(s.port, '127.0.0.1');
  try {
    await once(sock, 'connect');
    sock.write(
      'PUT /store/ct HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Type: image/png\r\n\r\n',
    );
    await pause(100);
    // Later reads land at the start of the same read buffer and overwrite the head's bytes.
    const filler = 'z'.repeat(200);
    sock.write(`${filler.length.toString(16)}\r\n${filler}\r\n`);
    await pause(100);
    sock.write('0\r\n\r\n');
    const put = await readUntil(sock, (t) => t.includes('\r\n\r\n'));
    assert.match(put, /^HTTP\/1\.1 201 /);
    sock.write('GET /get/ct HTTP/1.1\r\nHost: h\r\n\r\n');
    const get = await readUntil(sock, (t) => t.endsWith(filler));
    assert.match(get, /^HTTP\/1\.1 200 /);
    assert.match(get, /\r\nContent-Type: image\/png\r\n/i);
  } finally {
    sock.destroy();
    assert.equal(await s.stop(), 0);
  }
});
