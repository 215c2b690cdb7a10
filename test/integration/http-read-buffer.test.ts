import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { adoptWithReadBuffer } from '../../dist/socket/read-buffer.js';

/**
 * Accepted sockets are re-wrapped to read into the thread's buffer (net.Socket's `onread`), which
 * relies on net.Socket internals: these tests pin the behaviour the connection needs on the Node
 * running them (CI runs them on Node 20 and 24), and that the plain 'data' path still serves.
 */

interface Accepted {
  server: net.Server;
  port: number;
  next(): Promise<net.Socket>;
}

async function acceptor(pauseOnConnect: boolean): Promise<Accepted> {
  const queue: net.Socket[] = [];
  let waiter: ((s: net.Socket) => void) | null = null;
  const server = net.createServer({ pauseOnConnect }, (s) => {
    if (waiter !== null) {
      const w = waiter;
      waiter = null;
      w(s);
    } else queue.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    server,
    port,
    next: () =>
      queue.length !== 0
        ? Promise.resolve(queue.shift()!)
        : new Promise<net.Socket>((r) => {
            waiter = r;
          }),
  };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]);
}

test('an accepted paused socket is adopted: reads arrive as lengths, pause/resume work, end and close follow', async () => {
  const a = await acceptor(true);
  const client = net.connect(a.port, '127.0.0.1');
  try {
    const accepted = await within(a.next(), 2000, 'accept');
    let got = '';
    let reads = 0;
    let adopted: net.Socket | null = null;
    let readBuffer: Buffer | null = null;
    adopted = adoptWithReadBuffer(accepted, (n) => {
      reads++;
      // The bytes sit at the start of the thread's buffer, seen through the socket's onread.
      got += readBuffer!.toString('latin1', 0, n);
    });
    assert.ok(adopted, 'adopted on this Node');
    assert.equal((accepted as unknown as { _handle: unknown })._handle, null, 'old socket let go');
    readBuffer = (adopted as unknown as Record<symbol, Buffer>)[
      Object.getOwnPropertySymbols(adopted).find((s) => s.description === 'kBuffer')!
    ]!;
    assert.ok(Buffer.isBuffer(readBuffer));

    // Paused until resumed: nothing is read.
    client.write('hello');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(reads, 0);
    adopted.resume();
    await within(
      new Promise<void>((r) => {
        const t = setInterval(() => {
          if (got === 'hello') {
            clearInterval(t);
            r();
          }
        }, 2);
      }),
      2000,
      'first read',
    );
    // Paused again: input waits in the kernel.
    adopted.pause();
    client.write(' world');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(got, 'hello');
    adopted.resume();
    // `got` changes in the data callback, which the type checker cannot see from here
    const text = (): string => got;
    for (const until = Date.now() + 2000; text() !== 'hello world' && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 5));
    assert.equal(got, 'hello world');

    // Writes go out on the same handle.
    const echoed = new Promise<string>((r) => client.once('data', (d) => r(d.toString())));
    adopted.write('back');
    assert.equal(await within(echoed, 2000, 'write'), 'back');

    // Client FIN: 'end' on the adopted socket, then 'close' once it is destroyed.
    const ended = new Promise<void>((r) => adopted.once('end', () => r()));
    const closed = new Promise<void>((r) => adopted.once('close', () => r()));
    client.end();
    await within(ended, 2000, 'end');
    adopted.destroy();
    await within(closed, 2000, 'close');
  } finally {
    client.destroy();
    a.server.close();
  }
});

test('a socket already reading is not adopted (the caller keeps its data events)', async () => {
  const a = await acceptor(false);
  const client = net.connect(a.port, '127.0.0.1');
  try {
    const accepted = await within(a.next(), 2000, 'accept');
    accepted.resume();
    assert.equal(
      adoptWithReadBuffer(accepted, () => {}),
      null,
    );
    assert.notEqual((accepted as unknown as { _handle: unknown })._handle, null);
    accepted.destroy();
  } finally {
    client.destroy();
    a.server.close();
  }
});

test("the engine's pipelining and upload tests pass on plain 'data' events (STRIPECACHE_READ_BUFFER=0)", async () => {
  const file = fileURLToPath(new URL('./http-pipelining.test.js', import.meta.url));
  // NODE_TEST_CONTEXT would make the child report to this runner instead of its own stdout.
  const env: NodeJS.ProcessEnv = { ...process.env, STRIPECACHE_READ_BUFFER: '0' };
  delete env['NODE_TEST_CONTEXT'];
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', file], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearTimeout(timer);
  assert.equal(code, 0, out.slice(-3000));
  assert.match(out, /# fail 0/);
});
