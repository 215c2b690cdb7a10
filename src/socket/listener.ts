import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import {
  AF_INET,
  AF_INET6,
  EADDRINUSE,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPV6_V6ONLY,
  SO_RCVBUF,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SO_SNDBUF,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_NODELAY,
  loadLibc,
  type Libc,
} from './libc.js';

export interface ListenerOptions {
  host: string;
  port: number;
  /** SO_SNDBUF and SO_RCVBUF request; the kernel caps (and doubles) it. 0: not set (autotuned). */
  socketBuffer: number;
  backlog: number;
}

/** What the kernel actually gave us, read back with getsockopt. */
export interface ListenerInfo {
  fd: number;
  port: number;
  reuseAddr: boolean;
  reusePort: boolean;
  noDelay: boolean;
  sndbuf: number;
  rcvbuf: number;
  backlog: number;
  /** min(backlog, net.core.somaxconn): what listen() really uses. */
  effectiveBacklog: number;
  somaxconn: number | null;
}

export class PortInUseError extends Error {
  readonly code = 'PORT_IN_USE';

  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`port ${port} on ${host} is already in use (another process is listening on it)`);
  }
}

/** A libc call on the listening socket failed (bind, listen, setsockopt...). */
export class SocketCallError extends Error {
  readonly code = 'SOCKET_CALL';

  constructor(
    readonly call: string,
    readonly errno: number,
    detail: string,
  ) {
    super(`${call}: ${detail} (errno ${errno})`);
  }
}

/**
 * Opens this thread's listening socket: SO_REUSEADDR + SO_REUSEPORT so every thread binds the
 * same port and the kernel spreads connections, TCP_NODELAY (accepted sockets inherit it),
 * socket buffers (unless 0), non-blocking, close-on-exec, then listen(backlog). The fd goes to
 * `net.Server.listen({ fd })`.
 */
export function openListener(opts: ListenerOptions): ListenerInfo {
  const c = loadLibc();
  const fd = newSocket(c, opts.host);
  try {
    setInt(c, fd, SOL_SOCKET, SO_REUSEADDR, 1, 'SO_REUSEADDR');
    setInt(c, fd, SOL_SOCKET, SO_REUSEPORT, 1, 'SO_REUSEPORT');
    setInt(c, fd, IPPROTO_TCP, TCP_NODELAY, 1, 'TCP_NODELAY');
    // 0: the kernel's defaults, which it then autotunes per connection (net.ipv4.tcp_wmem/tcp_rmem)
    if (opts.socketBuffer > 0) {
      setInt(c, fd, SOL_SOCKET, SO_SNDBUF, opts.socketBuffer, 'SO_SNDBUF');
      setInt(c, fd, SOL_SOCKET, SO_RCVBUF, opts.socketBuffer, 'SO_RCVBUF');
    }
    bindTo(c, fd, opts.host, opts.port);
    if (c.listen(fd, opts.backlog) !== 0) fail(c, 'listen');
    const somaxconn = readSomaxconn();
    return {
      fd,
      port: boundPort(c, fd),
      reuseAddr: getInt(c, fd, SOL_SOCKET, SO_REUSEADDR) !== 0,
      reusePort: getInt(c, fd, SOL_SOCKET, SO_REUSEPORT) !== 0,
      noDelay: getInt(c, fd, IPPROTO_TCP, TCP_NODELAY) !== 0,
      sndbuf: getInt(c, fd, SOL_SOCKET, SO_SNDBUF),
      rcvbuf: getInt(c, fd, SOL_SOCKET, SO_RCVBUF),
      backlog: opts.backlog,
      effectiveBacklog: somaxconn === null ? opts.backlog : Math.min(opts.backlog, somaxconn),
      somaxconn,
    };
  } catch (e) {
    c.close(fd);
    throw e;
  }
}

/**
 * SO_REUSEPORT would let a second server of the same user silently share the port and take half
 * its connections, so first try a plain bind (SO_REUSEADDR only, so TIME_WAIT leftovers of a
 * previous run do not count). Returns the port to use: the one given, or the one the kernel
 * picked for port 0.
 */
export function probePort(host: string, port: number): number {
  const c = loadLibc();
  const fd = newSocket(c, host);
  try {
    setInt(c, fd, SOL_SOCKET, SO_REUSEADDR, 1, 'SO_REUSEADDR');
    bindTo(c, fd, host, port);
    return boundPort(c, fd);
  } finally {
    c.close(fd);
  }
}

export function closeFd(fd: number): void {
  loadLibc().close(fd);
}

function newSocket(c: Libc, host: string): number {
  const fd = c.socket(isIPv6(host) ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(c, 'socket');
  if (isIPv6(host)) {
    // `::` serves IPv4 clients too (dual stack), whatever net.ipv6.bindv6only says.
    setInt(c, fd, IPPROTO_IPV6, IPV6_V6ONLY, 0, 'IPV6_V6ONLY');
  }
  return fd;
}

function bindTo(c: Libc, fd: number, host: string, port: number): void {
  const addr = sockaddr(c, host, port);
  if (c.bind(fd, addr, addr.length) !== 0) {
    const errno = c.errno();
    if (errno === EADDRINUSE) throw new PortInUseError(host, port);
    throw new SocketCallError('bind', errno, `${host}:${port}: ${c.strerror(errno)}`);
  }
}

/** struct sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes); family in host order, port big-endian. */
function sockaddr(c: Libc, host: string, port: number): Buffer {
  const v6 = isIPv6(host);
  const buf = Buffer.alloc(v6 ? 28 : 16);
  buf.writeUInt16LE(v6 ? AF_INET6 : AF_INET, 0);
  buf.writeUInt16BE(port, 2);
  const dst = Buffer.alloc(v6 ? 16 : 4);
  if (c.inetPton(v6 ? AF_INET6 : AF_INET, host, dst) !== 1) {
    throw new SocketCallError('inet_pton', 0, `'${host}' is not an IP address`);
  }
  dst.copy(buf, v6 ? 8 : 4);
  return buf;
}

function boundPort(c: Libc, fd: number): number {
  const addr = Buffer.alloc(28);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(addr.length);
  if (c.getsockname(fd, addr, len) !== 0) fail(c, 'getsockname');
  return addr.readUInt16BE(2);
}

function setInt(c: Libc, fd: number, level: number, name: number, value: number, what: string): void {
  const buf = Buffer.alloc(4);
  buf.writeInt32LE(value);
  if (c.setsockopt(fd, level, name, buf, 4) !== 0) fail(c, `setsockopt ${what}`);
}

export function getInt(c: Libc, fd: number, level: number, name: number): number {
  const buf = Buffer.alloc(4);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(4);
  if (c.getsockopt(fd, level, name, buf, len) !== 0) fail(c, 'getsockopt');
  return buf.readInt32LE();
}

function fail(c: Libc, call: string): never {
  const errno = c.errno();
  throw new SocketCallError(call, errno, c.strerror(errno));
}

function readSomaxconn(): number | null {
  try {
    return Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
  } catch {
    return null;
  }
}
