import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { adoptWithReadBuffer, readView } from '../../dist/socket/read-buffer.js';

/** A server whose first accepted socket is adopted; resolves with it, the client, and what arrived. */
async function adoptedPair(timeouts = false): Promise<{
  server: net.Server;
  client: net.Socket;
  socket: net.Socket;
  got: string[];
}> {
  const got: string[] = [];
  let resolveSocket!: (s: net.Socket) => void;
  const accepted = new Promise<net.Socket>((r) => (resolveSocket = r));
  const server = net.createServer({ pauseOnConnect: true }, (s) => {
    const adopted = adoptWithReadBuffer(s, (n) => got.push(readView(n).toString('latin1')), timeouts);
    assert.ok(adopted, 'this Node lets the read buffer adopt the handle');
    resolveSocket(adopted);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect(port, '127.0.0.1');
  const socket = await accepted;
  socket.resume();
  return { server, client, socket, got };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > 10_000) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('reads go from the handle straight to the callback; EOF still ends the socket', async () => {
  const { server, client, socket, got } = await adoptedPair();
  try {
    const handle = (socket as unknown as { _handle: { onread: { name: string } } })._handle;
    assert.notEqual(handle.onread.name, 'onStreamRead', "the handle no longer calls Node's onread for data");
    client.write('hello');
    await until('the first read', () => got.join('') === 'hello');
    client.write(' world');
    await until('the second read', () => got.join('') === 'hello world');
    const ended = new Promise<void>((r) => socket.once('end', r));
    client.end();
    await ended;
    socket.destroy();
  } finally {
    client.destroy();
    server.close();
  }
});

/** Counts the socket's timer refreshes (what Node's onread does for a socket with a timeout). */
function countRefreshes(socket: net.Socket): () => number {
  const s = socket as unknown as { _unrefTimer: () => void };
  const own = s._unrefTimer.bind(socket);
  let n = 0;
  s._unrefTimer = () => {
    n++;
    own();
  };
  return () => n;
}

test('a socket given a timeout reads through Node again (the timeout is refreshed), bytes unchanged', async () => {
  const { server, client, socket, got } = await adoptedPair(true);
  try {
    const refreshes = countRefreshes(socket);
    socket.setTimeout(60_000);
    const before = refreshes();
    client.write('abc');
    await until('the read', () => got.join('') === 'abc');
    assert.ok(refreshes() > before, 'the read refreshed the socket timeout');
    socket.setTimeout(0);
    client.write('def');
    await until('the next read', () => got.join('') === 'abcdef');
  } finally {
    socket.destroy();
    client.destroy();
    server.close();
  }
});

test('an owner without timeouts reads straight through: no timer refresh per read', async () => {
  const { server, client, socket, got } = await adoptedPair(false);
  try {
    const refreshes = countRefreshes(socket);
    client.write('abc');
    await until('the read', () => got.join('') === 'abc');
    client.write('def');
    await until('the next read', () => got.join('') === 'abcdef');
    assert.equal(refreshes(), 0);
  } finally {
    socket.destroy();
    client.destroy();
    server.close();
  }
});

test('destroying the socket takes the direct onread off its handle (what lets it skip a per-read check)', async () => {
  const { server, client, socket, got } = await adoptedPair();
  try {
    const handle = (socket as unknown as { _handle: { onread: unknown } })._handle;
    const direct = handle.onread;
    client.write('x');
    await until('the read', () => got.join('') === 'x');
    socket.destroy();
    assert.notEqual(handle.onread, direct, 'net.Socket#_destroy replaced the handle onread');
  } finally {
    client.destroy();
    server.close();
  }
});
