import { Socket } from 'node:net';
import { loadStreamWrap } from './stream-binding.js';

/**
 * Raw socket adoption: every connection of a thread reads into one static buffer. This file knows
 * sockets only; what the bytes mean is the caller's business.
 */

/** Reads of every connection of this thread land here (see adoptWithReadBuffer). */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);
/** Views of READ_BUFFER[0, n) for short reads, made once: a GET costs no view per read. */
const VIEW_CACHE_MAX = 4096;
const readViews: (Buffer | undefined)[] = [];

export function readView(n: number): Buffer {
  if (n > VIEW_CACHE_MAX) return READ_BUFFER.subarray(0, n);
  let v = readViews[n];
  if (v === undefined) {
    v = READ_BUFFER.subarray(0, n);
    readViews[n] = v;
  }
  return v;
}

/** The slice of net.Socket internals that adoptWithReadBuffer relies on; checked before use. */
interface SocketInternals {
  _handle: { useUserBuffer?: unknown; readStart?: unknown; readStop?: unknown; onread?: unknown } | null;
}

type OnRead = (this: unknown, arrayBuffer: unknown) => unknown;

/**
 * Wraps an accepted, paused socket's handle in a new net.Socket that reads through `onread`
 * (net.Socket's documented read-into-a-given-buffer mode): each read lands in the thread's static
 * buffer and goes straight to `onRead`, skipping the Readable machinery (a Buffer, a push, a
 * 'data' emit and a nextTick per read). net.Server offers no `onread` for accepted sockets, so
 * this takes the handle from the socket it made (`_handle`, not public API): where that is not
 * there as expected, or the wrapping throws, it returns null and the caller keeps the plain
 * socket and its 'data' events. The old socket is left without a handle, so it can never touch
 * the connection.
 */
export function adoptWithReadBuffer(
  socket: Socket,
  onRead: (n: number) => void,
  timeouts = false,
): Socket | null {
  const raw = socket as unknown as SocketInternals;
  const handle = raw._handle;
  if (
    handle === null ||
    typeof handle !== 'object' ||
    typeof handle.useUserBuffer !== 'function' ||
    typeof handle.readStart !== 'function' ||
    typeof handle.readStop !== 'function' ||
    socket.readableFlowing === true
  ) {
    return null;
  }
  let adopted: Socket;
  try {
    adopted = new Socket({
      handle,
      readable: true,
      writable: true,
      onread: { buffer: READ_BUFFER, callback: (n: number) => onRead(n) },
    } as ConstructorParameters<typeof Socket>[0]);
  } catch {
    return null;
  }
  if ((adopted as unknown as SocketInternals)._handle !== handle) return null;
  // Reading starts with resume(); pause() stops the handle reading in this mode.
  adopted.pause();
  raw._handle = null;
  readDirect(adopted, onRead, timeouts);
  return adopted;
}

/**
 * The handle calls its `onread` (Node's onStreamRead) for every read; that refreshes a socket
 * timeout and calls the socket's onread callback through two symbol lookups. An HTTP/1.1
 * connection sets no socket timeout (idle timeouts are swept), so a read with bytes goes from
 * the handle straight to `onRead`; EOF and errors still go through Node's own onread, unchanged
 * (a destroyed socket's handle no longer calls this one at all). `timeouts`: the owner may set a
 * socket timeout (the HTTP/2 session after a takeover), and then a socket with one goes through
 * Node's onread too, which refreshes it; an owner without timeouts skips that check (a
 * megamorphic load per read). Without the binding's read-length slot the socket keeps Node's path.
 */
function readDirect(socket: Socket, onRead: (n: number) => void, timeouts: boolean): void {
  const sw = loadStreamWrap();
  const raw = socket as unknown as SocketInternals;
  const handle = raw._handle;
  if (sw === null || handle === null || typeof handle.onread !== 'function') return;
  const nodeOnread = handle.onread as OnRead;
  const state = sw.streamBaseState;
  const k = sw.kReadBytesOrError;
  // No look at the socket per read (at 1,000 connections its object is a cache miss): a
  // destroyed socket's handle gets Node's no-op onread in place of this one (net.Socket#_destroy),
  // and a socket that gives its handle to another (the HTTP/2 takeover) has the new owner's
  // onread installed over it.
  handle.onread = function (this: unknown, arrayBuffer: unknown): unknown {
    const n = state[k]!;
    if (n > 0 && !(timeouts && socket.timeout)) {
      onRead(n);
      return undefined;
    }
    return nodeOnread.call(this, arrayBuffer);
  };
}
