/**
 * Node's internal stream binding (`process.binding('stream_wrap')`, not public API): the request
 * class of handle writes and the shared state array through which a handle reports a read's
 * length and whether a write went async. Both raw paths (read-buffer.ts, handle-write.ts) use it
 * only after checking its shape here, and fall back to the public socket API when it is not there.
 */

export interface WriteReq {
  handle: unknown;
  oncomplete: (this: WriteReq, status: number) => void;
  /** What must stay alive (and be released) until the kernel took the bytes. */
  hold: unknown;
  /** The buffers of an async write, kept alive for libuv. */
  buffer: unknown;
  writer: unknown;
}

export interface StreamWrap {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
  kBytesWritten: number;
}

let streamWrap: StreamWrap | null | undefined;

export function loadStreamWrap(): StreamWrap | null {
  if (streamWrap !== undefined) return streamWrap;
  streamWrap = null;
  try {
    const b = (process as unknown as { binding(name: string): Partial<StreamWrap> }).binding('stream_wrap');
    if (
      typeof b.WriteWrap === 'function' &&
      b.streamBaseState instanceof Int32Array &&
      typeof b.kReadBytesOrError === 'number' &&
      typeof b.kLastWriteWasAsync === 'number' &&
      typeof b.kBytesWritten === 'number'
    ) {
      streamWrap = b as StreamWrap;
    }
  } catch {
    streamWrap = null;
  }
  return streamWrap;
}
