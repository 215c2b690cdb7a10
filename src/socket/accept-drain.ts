import net from 'node:net';
import { ECONNABORTED, EINTR, SOCK_CLOEXEC, SOCK_NONBLOCK, loadLibc } from './libc.js';

/**
 * libuv hands a listener one connection per event-loop turn while the loop is busy (measured on
 * Node 20 and 24: one accept4 per turn, never run to EAGAIN). A thread saturated by 1,000 keep-alive
 * connections turns every few milliseconds, so connections queue in the kernel for seconds and their
 * first requests see a p99 of over a second. When libuv reports one connection, the rest of the
 * queue is taken here with accept4 on the same fd, up to `max`, and each fd becomes a paused
 * net.Socket exactly like the ones the server emits.
 *
 * Returns how many were accepted. Stops at EAGAIN, or at any other error (EMFILE and the like are
 * left to libuv's own handling on its next turn).
 */
export function drainAccepts(listenFd: number, max: number, onSocket: (socket: net.Socket) => void): number {
  const c = loadLibc();
  let n = 0;
  while (n < max) {
    const fd = c.accept4(listenFd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const e = c.errno();
      if (e === EINTR || e === ECONNABORTED) continue;
      break;
    }
    n++;
    onSocket(socketFor(fd));
  }
  return n;
}

/** Node's own option for sockets that start paused (what pauseOnConnect passes); not in its types. */
interface FdSocketOptions extends net.SocketConstructorOpts {
  pauseOnCreate: boolean;
}

function socketFor(fd: number): net.Socket {
  const options: FdSocketOptions = {
    fd,
    readable: true,
    writable: true,
    allowHalfOpen: false,
    pauseOnCreate: true,
  };
  return new net.Socket(options);
}
