import type { Socket } from 'node:net';
import { EMPTY, decimalDigits } from '../base/bytes.js';

/** Arena slab size. A slab is dropped (never rewritten) once full, so slices handed to sockets stay valid. */
const SLAB_BYTES = 256 * 1024;
/** Bodies up to this size are moved next to their header instead of becoming a separate write segment. */
export const MOVE_LIMIT = 16 * 1024;

/**
 * The thread's output arena and the current batch. A data event (or a timer) writes every
 * response of its batch into the slab with a bump pointer, then `flush` hands the batch to the
 * socket in one call: one `write` of one slice (one syscall), or, when a large body lives in its
 * own Buffer, one cork()/uncork() pair around the segments (one writev). Nothing is corked
 * across an await or a loop turn: begin..flush always runs synchronously.
 */
export class Output {
  slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  pos = 0;
  private segStart = 0;
  /** Segments of the batch in [0, nSegs); slots are reused (no array length churn). */
  private readonly segs: Uint8Array[] = [];
  private nSegs = 0;
  /** Bytes in the current batch (a handler yields when this grows past its budget). */
  batchBytes = 0;
  /** socket.write calls made by flush (one per batch) — exported as a metric. */
  writes = 0;

  /** Makes room for `n` contiguous bytes at `pos`. */
  ensure(n: number): void {
    if (this.slab.length - this.pos >= n) return;
    this.cut();
    this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, n));
    this.pos = 0;
    this.segStart = 0;
  }

  /** Ends the current segment at `pos`. */
  private cut(): void {
    if (this.pos > this.segStart) {
      this.segs[this.nSegs++] = this.slab.subarray(this.segStart, this.pos);
      this.segStart = this.pos;
    }
  }

  put(src: Uint8Array): void {
    const n = src.length;
    this.ensure(n);
    const slab = this.slab;
    const p = this.pos;
    // TypedArray.set has a fixed cost that a short loop beats for the tiny preencoded pieces.
    if (n <= 16) for (let i = 0; i < n; i++) slab[p + i] = src[i]!;
    else slab.set(src, p);
    this.pos = p + n;
    this.batchBytes += n;
  }

  putRange(src: Uint8Array, start: number, len: number): void {
    this.ensure(len);
    const slab = this.slab;
    const p = this.pos;
    if (len <= 64) for (let i = 0; i < len; i++) slab[p + i] = src[start + i]!;
    else slab.set(src.subarray(start, start + len), p);
    this.pos = p + len;
    this.batchBytes += len;
  }

  /** Writes a non-negative integer in decimal (room must have been ensured). */
  decimal(n: number): void {
    const slab = this.slab;
    const digits = decimalDigits(n);
    let p = this.pos + digits;
    this.pos = p;
    this.batchBytes += digits;
    do {
      slab[--p] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
  }

  /** Writes 16 lowercase hex digits of hi:lo (room must have been ensured). */
  hex64(hi: number, lo: number): void {
    const slab = this.slab;
    let p = this.pos;
    for (let s = 24; s >= 0; s -= 8) {
      const pair = HEX2[(hi >>> s) & 255]!;
      slab[p++] = pair >>> 8;
      slab[p++] = pair & 255;
    }
    for (let s = 24; s >= 0; s -= 8) {
      const pair = HEX2[(lo >>> s) & 255]!;
      slab[p++] = pair >>> 8;
      slab[p++] = pair & 255;
    }
    this.pos = p;
    this.batchBytes += 16;
  }

  /**
   * Appends a body that `ReadResult.get` may have copied into the slab at `at` (past a header
   * reserve). Small bodies are moved to `pos` so header and body stay one slice; large ones, or
   * bodies in their own Buffer, become their own segment.
   */
  body(body: Uint8Array, at: number): void {
    const n = body.length;
    if (n === 0) return;
    this.batchBytes += n;
    if (body.buffer === this.slab.buffer && body.byteOffset === this.slab.byteOffset + at) {
      if (n <= MOVE_LIMIT) {
        const slab = this.slab;
        const p = this.pos;
        if (n <= 128) for (let i = 0; i < n; i++) slab[p + i] = slab[at + i]!;
        else slab.copyWithin(p, at, at + n);
        this.pos = p + n;
        return;
      }
      this.cut();
      this.segs[this.nSegs++] = body;
      this.pos = at + n;
      this.segStart = this.pos;
      return;
    }
    if (n <= MOVE_LIMIT) {
      this.ensure(n);
      this.slab.set(body, this.pos);
      this.pos += n;
      return;
    }
    this.cut();
    this.segs[this.nSegs++] = body;
  }

  /**
   * Appends the `n` body bytes that sit in the slab at `at` (at or past `pos`): when they follow
   * the head already, nothing is copied.
   */
  bodyAt(at: number, n: number): void {
    this.batchBytes += n;
    const p = this.pos;
    if (at === p) {
      this.pos = p + n;
      return;
    }
    if (n <= MOVE_LIMIT) {
      const slab = this.slab;
      if (n <= 128) for (let i = 0; i < n; i++) slab[p + i] = slab[at + i]!;
      else slab.copyWithin(p, at, at + n);
      this.pos = p + n;
      return;
    }
    this.cut();
    this.segs[this.nSegs++] = this.slab.subarray(at, at + n);
    this.pos = at + n;
    this.segStart = this.pos;
  }

  /**
   * Appends pinned views of the store's buffer (`ReadResult.views`) as segments, without copying
   * them; `pin` is released through `unpin` once the socket has taken the batch (its write
   * callback) or the batch is dropped. Their bytes count toward the batch budget.
   */
  pushViews(views: readonly Uint8Array[], pin: number): void {
    this.cut();
    for (let i = 0; i < views.length; i++) {
      const v = views[i]!;
      this.segs[this.nSegs++] = v;
      this.batchBytes += v.length;
    }
    this.pins.push(pin);
  }

  /** Releases a store pin (set by the responder to its store's `unpin`). */
  unpin: (pin: number) => void = () => undefined;
  /** Pins of the views in the current batch. */
  private readonly pins: number[] = [];

  /** Appends a Buffer as its own segment, without copying it. */
  external(buf: Uint8Array): void {
    this.cut();
    this.segs[this.nSegs++] = buf;
    this.batchBytes += buf.length;
  }

  get empty(): boolean {
    return this.pos === this.segStart && this.nSegs === 0;
  }

  /** Hands the batch to `socket`; returns the bytes written. */
  flush(socket: Socket): number {
    this.cut();
    const segs = this.segs;
    const n = this.nSegs;
    const bytes = this.batchBytes;
    this.batchBytes = 0;
    if (n === 0) return 0;
    this.nSegs = 0;
    this.writes++;
    // pinned views: released by the last write's callback, which runs once the kernel took the
    // bytes, or with an error when the socket is destroyed first
    const done = this.pins.length === 0 ? undefined : this.releaser(this.pins.splice(0));
    if (n === 1) {
      socket.write(segs[0]!, done);
      segs[0] = EMPTY;
    } else {
      socket.cork();
      for (let i = 0; i < n; i++) {
        socket.write(segs[i]!, i === n - 1 ? done : undefined);
        // Do not keep large bodies alive through a stale slot.
        segs[i] = EMPTY;
      }
      socket.uncork();
    }
    return bytes;
  }

  private markSlab: Buffer | null = null;
  private markPos = 0;
  private markSegs = 0;
  private markBytes = 0;

  /** Remembers where the answer being built starts. */
  mark(): void {
    this.markSlab = this.slab;
    this.markPos = this.pos;
    this.markSegs = this.nSegs;
    this.markBytes = this.batchBytes;
  }

  /** Drops a half-built answer back to the mark (or the whole batch when that is not possible). */
  rewind(): void {
    if (this.markSlab === this.slab && this.markSegs === this.nSegs && this.markPos >= this.segStart) {
      this.pos = this.markPos;
      this.batchBytes = this.markBytes;
    } else {
      this.drop();
    }
  }

  private releaser(pins: number[]): () => void {
    return () => {
      for (const p of pins) this.unpin(p);
    };
  }

  /** Forgets the batch (its socket is gone). */
  drop(): void {
    for (const p of this.pins.splice(0)) this.unpin(p);
    this.segStart = this.pos;
    for (let i = 0; i < this.nSegs; i++) this.segs[i] = EMPTY;
    this.nSegs = 0;
    this.batchBytes = 0;
  }
}

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** Two hex digits per byte value, high digit in the high byte. */
const HEX2 = Uint16Array.from({ length: 256 }, (_, b) => (HEX[b >>> 4]! << 8) | HEX[b & 15]!);
