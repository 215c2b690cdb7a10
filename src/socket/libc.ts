import { createRequire } from 'node:module';

/**
 * The few libc calls Node does not expose: SO_REUSEPORT (Node 20 ignores
 * `listen({ reusePort })`), SO_SNDBUF/SO_RCVBUF (no Node version can set them on a listener) and
 * thread CPU affinity (sched_setaffinity for --pin-threads).
 * Constants are Linux's (x86_64 and aarch64 share them).
 */
const require = createRequire(import.meta.url);
// koffi is CommonJS with a native addon; load it lazily so importing this module is free.
type Koffi = typeof import('koffi');

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_REUSEPORT = 15;
export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;
export const IPPROTO_IPV6 = 41;
export const IPV6_V6ONLY = 26;
export const EADDRINUSE = 98;
export const EINTR = 4;
export const ECONNABORTED = 103;

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, len: Buffer): number;
  bind(fd: number, addr: Buffer, len: number): number;
  listen(fd: number, backlog: number): number;
  /** addr and len null: the peer's address is read later through the socket handle. */
  accept4(fd: number, addr: null, len: null, flags: number): number;
  getsockname(fd: number, addr: Buffer, len: Buffer): number;
  inetPton(af: number, src: string, dst: Buffer): number;
  close(fd: number): number;
  /** pid 0: the calling thread. `mask` is a cpu_set_t of `size` bytes. */
  schedSetaffinity(pid: number, size: number, mask: Buffer): number;
  schedGetaffinity(pid: number, size: number, mask: Buffer): number;
  /** The calling thread's kernel id (as in /proc/self/task). */
  gettid(): number;
  /** errno of the last failed call on this thread */
  errno(): number;
  strerror(errno: number): string;
}

let libc: Libc | undefined;

export function loadLibc(): Libc {
  if (libc) return libc;
  if (process.platform !== 'linux')
    throw new Error(`stripecache's listener needs Linux (this is ${process.platform})`);
  const koffi = require('koffi') as Koffi;
  const lib = koffi.load('libc.so.6');
  const strerror = lib.func('const char *strerror(int errnum)') as (n: number) => string;
  libc = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, void *value, uint32_t len)'),
    getsockopt: lib.func(
      'int getsockopt(int fd, int level, int name, _Inout_ void *value, _Inout_ void *len)',
    ),
    bind: lib.func('int bind(int fd, void *addr, uint32_t len)'),
    listen: lib.func('int listen(int fd, int backlog)'),
    accept4: lib.func('int accept4(int fd, void *addr, void *len, int flags)'),
    getsockname: lib.func('int getsockname(int fd, _Inout_ void *addr, _Inout_ void *len)'),
    close: lib.func('int close(int fd)'),
    inetPton: lib.func('int inet_pton(int af, const char *src, _Inout_ void *dst)'),
    schedSetaffinity: lib.func('int sched_setaffinity(int pid, size_t size, void *mask)'),
    schedGetaffinity: lib.func('int sched_getaffinity(int pid, size_t size, _Inout_ void *mask)'),
    gettid: lib.func('int gettid()'),
    errno: () => koffi.errno(),
    strerror,
  };
  return libc;
}
