import type { Socket } from 'node:net';
import { loadStreamWrap, type StreamWrap, type WriteReq } from './stream-binding.js';
import { EMPTY } from '../base/bytes.js';

/** Segment counts whose writev array is kept for reuse (more is rare: a long pipelined batch). */
const VEC_CACHE_MAX = 64;

/**
 * Raw socket writes: a batch goes to the stream handle in one writeBuffer (one segment) or one
 * writev (several), skipping the Writable machinery (a write request, a callback closure and
 * buffering per call). Node's own net.Socket does the same calls; this file uses its internal
 * stream binding (stream-binding.ts, not public API): where that or the handle's
 * methods are not there as expected, `adoptHandleWriter` returns null and the caller keeps
 * socket.write. Completion runs without a closure per write: a write the kernel took whole
 * (the usual case) reuses its request object; one left queued gets a fresh request whose
 * completion calls the owner's `written` with what the write kept alive.
 */

interface WritableHandle {
  writeBuffer(req: WriteReq, buf: Uint8Array): number;
  writev(req: WriteReq, chunks: Uint8Array[], allBuffers: boolean): number;
  /** Bytes libuv still holds for the kernel. */
  readonly writeQueueSize: number;
}

/** Who is told when a write the kernel did not take at once completes. */
export interface WriteOwner {
  /** `hold` is what write() was given; status < 0: the write failed (the socket is gone). */
  written(hold: unknown, status: number): void;
}

/** Write results. */
export const WRITE_DONE = 0;
export const WRITE_QUEUED = 1;

function onWriteComplete(this: WriteReq, status: number): void {
  const w = this.writer as HandleWriter;
  const hold = this.hold;
  w.inFlight--;
  this.writer = null;
  this.hold = null;
  this.buffer = null;
  w.owner.written(hold, status);
}

export class HandleWriter {
  /** Writes the kernel has not finished taking. */
  inFlight = 0;
  private req: WriteReq;
  /**
   * vecs[n]: the array writev gets for n segments. writev reads the array's length, and setting
   * a length is a runtime call that may reallocate, so each count has its own array, filled per
   * write and emptied after (no stale slot keeps a large body alive).
   */
  private readonly vecs: (Uint8Array[] | undefined)[] = [];
  private last: WriteReq | null = null;

  /** What the write just queued keeps alive, handed back to owner.written on its completion. */
  holdLast(hold: unknown): void {
    if (this.last !== null) this.last.hold = hold;
    this.last = null;
  }

  private constructor(
    private readonly handle: WritableHandle,
    private readonly sw: StreamWrap,
    readonly owner: WriteOwner,
  ) {
    this.req = this.newReq();
  }

  /** Bytes handed to the handle and not yet taken by the kernel. */
  get pending(): number {
    return this.inFlight === 0 ? 0 : this.handle.writeQueueSize;
  }

  private newReq(): WriteReq {
    const req = new this.sw.WriteWrap();
    req.handle = this.handle;
    req.oncomplete = onWriteComplete;
    req.hold = null;
    req.buffer = null;
    req.writer = null;
    return req;
  }

  /**
   * Writes segs[0, n). WRITE_DONE: the kernel took everything, nothing is kept. WRITE_QUEUED:
   * the rest waits in the handle; what `holdLast` is then given goes to owner.written on
   * completion. A negative value is the error (the connection is to be destroyed).
   */
  write(segs: readonly Uint8Array[], n: number): number {
    const req = this.req;
    let err: number;
    if (n === 1) {
      err = this.handle.writeBuffer(req, segs[0]!);
      if (err !== 0) return err < 0 ? err : -err;
      if (this.sw.streamBaseState[this.sw.kLastWriteWasAsync] === 0) return WRITE_DONE;
      return this.queued(req, segs[0]!);
    }
    let vec = this.vecs[n];
    if (vec === undefined) {
      vec = new Array<Uint8Array>(n).fill(EMPTY);
      if (n <= VEC_CACHE_MAX) this.vecs[n] = vec;
    }
    for (let i = 0; i < n; i++) vec[i] = segs[i]!;
    err = this.handle.writev(req, vec, true);
    const async = err === 0 && this.sw.streamBaseState[this.sw.kLastWriteWasAsync] !== 0;
    const kept = async ? vec.slice() : null;
    for (let i = 0; i < n; i++) vec[i] = EMPTY;
    if (err !== 0) return err < 0 ? err : -err;
    return kept === null ? WRITE_DONE : this.queued(req, kept);
  }

  /** The write is queued in libuv: `req` is in flight, keeping `buffers` alive until completion. */
  private queued(req: WriteReq, buffers: unknown): number {
    req.writer = this;
    this.last = req;
    req.buffer = buffers;
    this.inFlight++;
    this.req = this.newReq();
    return WRITE_QUEUED;
  }
}

/** The socket's handle as a HandleWriter, or null where Node's internals are not as expected. */
export function adoptHandleWriter(socket: Socket, owner: WriteOwner): HandleWriter | null {
  const sw = loadStreamWrap();
  if (sw === null) return null;
  const handle = (socket as unknown as { _handle: Partial<WritableHandle> | null })._handle;
  if (
    handle === null ||
    typeof handle !== 'object' ||
    typeof handle.writeBuffer !== 'function' ||
    typeof handle.writev !== 'function' ||
    typeof handle.writeQueueSize !== 'number'
  ) {
    return null;
  }
  try {
    return new (
      HandleWriter as unknown as new (h: WritableHandle, s: StreamWrap, o: WriteOwner) => HandleWriter
    )(handle as WritableHandle, sw, owner);
  } catch {
    return null;
  }
}
