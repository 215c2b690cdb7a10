import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { closeFd, openListener } from '../../dist/socket/listener.js';
import { drainAccepts } from '../../dist/socket/accept-drain.js';

// The listener here is a bare libc socket that no libuv handle watches, so connections stay in the
// kernel's accept queue until drainAccepts takes them: the counts below are exact, not timing.
test('drainAccepts takes queued connections up to its bound, then stops at an empty queue', async () => {
  const info = openListener({ host: '127.0.0.1', port: 0, socketBuffer: 0, backlog: 64 });
  const clients: net.Socket[] = [];
  const served: net.Socket[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const c = net.connect(info.port, '127.0.0.1');
      clients.push(c);
      await once(c, 'connect');
    }
    assert.equal(
      drainAccepts(info.fd, 3, (s) => served.push(s)),
      3,
      'bounded by max',
    );
    assert.equal(
      drainAccepts(info.fd, 10, (s) => served.push(s)),
      2,
      'the rest of the queue',
    );
    assert.equal(
      drainAccepts(info.fd, 10, (s) => served.push(s)),
      0,
      'EAGAIN on an empty queue',
    );
    assert.equal(served.length, 5);

    for (const s of served) {
      assert.equal(s.readableFlowing, false, 'starts paused, like pauseOnConnect');
      assert.equal(s.remoteAddress, '127.0.0.1');
    }
    // Each accepted socket is a working TCP stream in both directions.
    const local = new Set(clients.map((c) => c.localPort));
    for (const s of served) assert.ok(local.has(s.remotePort), 'a peer is one of our clients');
    const first = served[0]!;
    const peer = clients.find((c) => c.localPort === first.remotePort)!;
    first.write('ping');
    const [got] = (await once(peer, 'data')) as [Buffer];
    assert.equal(got.toString(), 'ping');
    first.resume();
    peer.write('pong');
    const [back] = (await once(first, 'data')) as [Buffer];
    assert.equal(back.toString(), 'pong');
  } finally {
    for (const s of served) s.destroy();
    for (const c of clients) c.destroy();
    closeFd(info.fd);
  }
});

test('drainAccepts on a socket that is not listening accepts nothing', () => {
  const info = openListener({ host: '127.0.0.1', port: 0, socketBuffer: 0, backlog: 8 });
  closeFd(info.fd);
  assert.equal(
    drainAccepts(info.fd, 10, () => assert.fail('nothing to accept')),
    0,
  );
});
