import { Socket } from 'node:net';

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
  _handle: { useUserBuffer?: unknown; readStart?: unknown; readStop?: unknown } | null;
}

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
export function adoptWithReadBuffer(socket: Socket, onRead: (n: number) => void): Socket | null {
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
  return adopted;
}
