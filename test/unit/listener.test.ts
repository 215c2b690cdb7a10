import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { closeFd, getInt, openListener, PortInUseError, probePort } from '../../dist/socket/listener.js';
import {
  IPPROTO_TCP,
  loadLibc,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_SNDBUF,
  SOL_SOCKET,
  TCP_NODELAY,
} from '../../dist/socket/libc.js';

const MiB = 1024 * 1024;

function sysctl(name: string): number {
  return Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());
}

/** Linux doubles the requested buffer (bookkeeping) after capping it at net.core.[wr]mem_max. */
function expectedBuffer(requested: number, max: number): number {
  return 2 * Math.min(requested, max);
}

test('listener options read back through getsockopt', () => {
  const port = probePort('127.0.0.1', 0);
  const info = openListener({ host: '127.0.0.1', port, socketBuffer: 4 * MiB, backlog: 4096 });
  try {
    const c = loadLibc();
    assert.equal(info.port, port);
    assert.equal(getInt(c, info.fd, SOL_SOCKET, SO_REUSEADDR), 1);
    assert.equal(getInt(c, info.fd, SOL_SOCKET, SO_REUSEPORT), 1);
    assert.equal(getInt(c, info.fd, IPPROTO_TCP, TCP_NODELAY), 1);
    assert.equal(getInt(c, info.fd, SOL_SOCKET, SO_SNDBUF), expectedBuffer(4 * MiB, sysctl('wmem_max')));
    assert.equal(getInt(c, info.fd, SOL_SOCKET, SO_RCVBUF), expectedBuffer(4 * MiB, sysctl('rmem_max')));
    assert.deepEqual(
      [info.reuseAddr, info.reusePort, info.noDelay, info.sndbuf, info.rcvbuf],
      [
        true,
        true,
        true,
        getInt(c, info.fd, SOL_SOCKET, SO_SNDBUF),
        getInt(c, info.fd, SOL_SOCKET, SO_RCVBUF),
      ],
    );
    assert.equal(info.somaxconn, sysctl('somaxconn'));
    assert.equal(info.effectiveBacklog, Math.min(4096, sysctl('somaxconn')));
  } finally {
    closeFd(info.fd);
  }
});

test('a small buffer request is honoured (doubled by the kernel)', () => {
  const info = openListener({ host: '127.0.0.1', port: 0, socketBuffer: 65536, backlog: 16 });
  try {
    assert.equal(info.sndbuf, 131072);
    assert.equal(info.rcvbuf, 131072);
  } finally {
    closeFd(info.fd);
  }
});

test('socketBuffer 0 leaves the kernel defaults (autotuned per connection)', () => {
  const info = openListener({ host: '127.0.0.1', port: 0, socketBuffer: 0, backlog: 16 });
  try {
    // a TCP socket nobody sized starts at tcp_wmem / tcp_rmem's middle value
    const middle = (name: string): number =>
      Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/)[1]);
    assert.equal(info.sndbuf, middle('tcp_wmem'));
    assert.equal(info.rcvbuf, middle('tcp_rmem'));
  } finally {
    closeFd(info.fd);
  }
});

test('several listeners share a port; a plain bind sees it taken', () => {
  const port = probePort('127.0.0.1', 0);
  assert.ok(port > 0);
  const a = openListener({ host: '127.0.0.1', port, socketBuffer: 65536, backlog: 16 });
  const b = openListener({ host: '127.0.0.1', port, socketBuffer: 65536, backlog: 16 });
  try {
    assert.equal(b.port, port);
    assert.throws(() => probePort('127.0.0.1', port), PortInUseError);
  } finally {
    closeFd(a.fd);
    closeFd(b.fd);
  }
  assert.equal(probePort('127.0.0.1', port), port, 'free again once closed');
});

test('a port held by another server (no SO_REUSEPORT) is reported in use', async () => {
  const other = net.createServer();
  other.listen(0, '127.0.0.1');
  await once(other, 'listening');
  const { port } = other.address() as net.AddressInfo;
  try {
    assert.throws(
      () => probePort('127.0.0.1', port),
      (e: unknown) => e instanceof PortInUseError && /already in use/.test(e.message),
    );
    assert.throws(
      () => openListener({ host: '127.0.0.1', port, socketBuffer: 65536, backlog: 16 }),
      PortInUseError,
    );
  } finally {
    other.close();
  }
});

test('node serves the fd; accepted sockets inherit TCP_NODELAY', async () => {
  const info = openListener({ host: '127.0.0.1', port: 0, socketBuffer: 65536, backlog: 64 });
  let acceptedNoDelay = -1;
  const server = net.createServer((sock) => {
    const fd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
    acceptedNoDelay = getInt(loadLibc(), fd, IPPROTO_TCP, TCP_NODELAY);
    sock.end('ok');
  });
  server.listen({ fd: info.fd, backlog: 64 });
  await once(server, 'listening');
  const client = net.connect(info.port, '127.0.0.1');
  let got = '';
  client.setEncoding('utf8').on('data', (d: string) => (got += d));
  await once(client, 'end');
  server.close();
  assert.equal(got, 'ok');
  assert.equal(acceptedNoDelay, 1);
});

test('IPv6 dual stack on :: accepts IPv4 clients', async (t) => {
  let info;
  try {
    info = openListener({ host: '::', port: 0, socketBuffer: 65536, backlog: 16 });
  } catch (e) {
    t.skip(`no IPv6 on this machine: ${String(e)}`);
    return;
  }
  const server = net.createServer((sock) => sock.end('v6'));
  server.listen({ fd: info.fd });
  await once(server, 'listening');
  const client = net.connect(info.port, '127.0.0.1');
  let got = '';
  client.setEncoding('utf8').on('data', (d: string) => (got += d));
  await once(client, 'end');
  server.close();
  assert.equal(got, 'v6');
});
