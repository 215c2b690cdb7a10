import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, type RunningServer } from '../helpers/server.js';

/**
 * Found by the property tests (issue 12): an HTTP/1.0 request whose Connection field lists both
 * keep-alive and close was kept alive (llhttp's keep-alive rule for 1.0 looks at keep-alive only).
 * `close` wins, whatever the version and however the list is written (RFC 9112 §9.6).
 */

let server: RunningServer;

before(async () => {
  server = await startServer(['--threads', '1', '--memory', '16MiB', '--log-level', 'error']);
});
after(async () => {
  await server.stop(5000);
});

async function send(bytes: string): Promise<string> {
  const s = net.connect(server.port, '127.0.0.1');
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  s.on('error', () => {});
  // Listened for before the first write: the server may close during a pause between pieces.
  const closed = new Promise((r) => s.once('close', r));
  await new Promise<void>((r) => s.once('connect', r));
  s.write(bytes);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, 5000)))]);
  clearTimeout(timer);
  s.destroy();
  return Buffer.concat(chunks).toString('latin1');
}

const NEXT = 'GET /healthz HTTP/1.0\r\n\r\n';

for (const fields of [
  'Connection: keep-alive, close',
  'Connection: Keep-Alive\r\nConnection: CLOSE',
  'Connection: keep-alive ,\tclose ',
]) {
  test(`HTTP/1.0 with ${JSON.stringify(fields)} is answered, then the connection closes`, async () => {
    const out = await send(`GET / HTTP/1.0\r\n${fields}\r\n\r\n${NEXT}`);
    assert.match(out, /^HTTP\/1\.1 200 OK\r\n[^]*\r\nConnection: close\r\n\r\nHello, World!$/);
  });
}

test('HTTP/1.0 keep-alive with a token that only starts with close stays open', async () => {
  const out = await send(`GET / HTTP/1.0\r\nConnection: keep-alive, closed\r\n\r\n${NEXT}`);
  assert.match(out, /Connection: keep-alive\r\n\r\nHello, World!HTTP\/1\.1 200 OK\r\n[^]*ok\n$/);
});
