import { EMPTY, decimalDigits } from '../base/bytes.js';
import { WRITE_DONE, type HandleWriter } from '../socket/handle-write.js';

/**
 * Where a batch goes when no handle writer takes it: a socket, or anything that takes its
 * segments the same way (the HTTP/2 answer). `done` on the last segment releases the batch's
 * pinned values once the bytes are written.
 */
export interface Sink {
  write(chunk: Uint8Array, done?: () => void): unknown;
  cork(): void;
  uncork(): void;
}

/**
 * Arena slab size. A slab is rewritten only once no write still points into it: after a batch
 * the kernel took whole (the usual case) the arena starts again at 0; a slab a queued write
 * still reads is left alone and recycled once that write completes.
 */
const SLAB_BYTES = 256 * 1024;
/** Free slabs kept for reuse. */
const SPARE_SLABS = 4;
/** Batches up to this size starting at the slab's beginning reuse one view per length (headView). */
const VIEW_CACHE_MAX = 16 * 1024;
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
  /** Writes still reading the current slab. */
  private holds = 0;
  /** socket.write had a slice of the current slab: it is never reused. */
  private given = false;
  /** Earlier slabs of this batch (the batch swapped slabs): each holds one count in `slabHolds`. */
  private readonly batchSlabs: Buffer[] = [];
  /** Hold counts of slabs that are not current and still read by a batch or a queued write. */
  private readonly slabHolds = new Map<Buffer, number>();
  private readonly spare: Buffer[] = [];
  /** Store pins of the views in this batch (pushView), released once the kernel took them. */
  private readonly pins: number[] = [];
  /** Pins in use in `pins`: a count, so that emptying the list costs no length store. */
  private nPins = 0;
  /** Releases a pin (the thread's store.unpin); a no-op until the server sets it. */
  unpin: (pin: number) => void = noUnpin;
  private segStart = 0;
  /** The first slab: headView keeps views of it (dense, indexed by length). */
  private home: Buffer | null = this.slab;
  private readonly views: (Buffer | undefined)[] = new Array<Buffer | undefined>(VIEW_CACHE_MAX + 1);
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
    const old = this.slab;
    let held = this.holds;
    // Segments of this batch in the old slab keep it until the batch is written.
    if (this.nSegs !== 0 && this.segs[this.nSegs - 1]!.buffer === old.buffer) {
      held++;
      this.batchSlabs.push(old);
    }
    if (this.given) {
      // Left to socket.write and the GC.
    } else if (held === 0) this.recycle(old);
    else this.slabHolds.set(old, held);
    this.slab =
      n <= SLAB_BYTES ? (this.spare.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES)) : Buffer.allocUnsafeSlow(n);
    this.holds = 0;
    this.given = false;
    this.pos = 0;
    this.segStart = 0;
  }

  private recycle(slab: Buffer): void {
    if (slab.length === SLAB_BYTES && this.spare.length < SPARE_SLABS) this.spare.push(slab);
  }

  /** One hold on `slab` is gone. */
  private unhold(slab: Buffer): void {
    if (slab === this.slab) {
      this.holds--;
      return;
    }
    const left = (this.slabHolds.get(slab) ?? 1) - 1;
    if (left > 0) {
      this.slabHolds.set(slab, left);
    } else {
      this.slabHolds.delete(slab);
      this.recycle(slab);
    }
  }

  /** Ends the current segment at `pos`. */
  private cut(): void {
    const start = this.segStart;
    const end = this.pos;
    if (end > start) {
      this.segs[this.nSegs++] =
        start === 0 && end <= VIEW_CACHE_MAX ? this.headView(end) : this.slab.subarray(start, end);
      this.segStart = end;
    }
  }

  /**
   * slab[0, n) of the home slab, made once per length: a batch the kernel took whole leaves the
   * next one starting at 0 again, so small batches cost no view (a Buffer allocation, ~0.1 µs)
   * per flush. A view is only a window: reusing it while a queued write still holds it is safe,
   * the slab's holds say when its bytes may be rewritten.
   */
  private headView(n: number): Buffer {
    if (this.slab !== this.home) return this.slab.subarray(0, n);
    let v = this.views[n];
    if (v === undefined) {
      v = this.slab.subarray(0, n);
      this.views[n] = v;
    }
    return v;
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
    this.pins[this.nPins++] = pin;
  }

  /** Appends a Buffer as its own segment, without copying it. */
  external(buf: Uint8Array): void {
    this.cut();
    this.segs[this.nSegs++] = buf;
    this.batchBytes += buf.length;
  }

  /**
   * Appends a pinned store view as its own segment, without copying it; `pin` is released
   * (`unpin`) once the kernel took the view or the connection is gone.
   */
  pushView(view: Uint8Array, pin: number): void {
    this.external(view);
    if (pin !== 0) this.pins[this.nPins++] = pin;
  }

  get empty(): boolean {
    return this.pos === this.segStart && this.nSegs === 0;
  }

  /**
   * Hands the batch to the socket: through `writer` (the stream handle, one writeBuffer or
   * writev) when there is one, else socket.write. Returns the bytes written, or -1 when the
   * handle refused the write (the connection is to be destroyed).
   */
  flush(socket: Sink, writer: HandleWriter | null = null): number {
    this.cut();
    const segs = this.segs;
    const n = this.nSegs;
    const bytes = this.batchBytes;
    this.batchBytes = 0;
    if (n === 0) return 0;
    this.writes++;
    if (writer !== null) {
      const r = writer.write(segs, n);
      if (r === WRITE_DONE) {
        this.written(null);
      } else if (r > 0) {
        // Queued: what the write reads stays held until the handle calls `written` with it.
        this.holds++;
        writer.holdLast(new QueuedWrite(this.slab, this.batchSlabs.splice(0), this.takePins()));
      } else {
        this.drop();
        return -1;
      }
    } else {
      // socket.write keeps slices without telling when they are done: the slab is never reused.
      this.given = true;
      if (this.slab === this.home) {
        this.home = null;
        this.views.fill(undefined);
      }
      for (const s of this.batchSlabs) this.slabHolds.delete(s);
      const pins = this.nPins === 0 ? null : this.takePins();
      if (n === 1) {
        socket.write(segs[0]!, pins === null ? undefined : () => this.release(pins));
      } else {
        socket.cork();
        for (let i = 0; i < n; i++)
          socket.write(segs[i]!, i === n - 1 && pins !== null ? () => this.release(pins) : undefined);
        socket.uncork();
      }
      this.batchSlabs.length = 0;
    }
    // Do not keep large bodies alive through a stale slot.
    for (let i = 0; i < n; i++) segs[i] = EMPTY;
    this.nSegs = 0;
    return bytes;
  }

  /** A write finished: `hold` null, the batch just flushed was taken whole; else a queued one completed. */
  written(hold: QueuedWrite | null): void {
    if (hold === null) {
      this.unpinBatch();
      const earlier = this.batchSlabs;
      // an array's length store is a runtime call: skipped when there is nothing to forget
      if (earlier.length !== 0) {
        for (let i = 0; i < earlier.length; i++) this.unhold(earlier[i]!);
        earlier.length = 0;
      }
      // Nothing reads the current slab: the next batch starts at its beginning.
      if (this.holds === 0 && !this.given) {
        this.pos = 0;
        this.segStart = 0;
      }
      return;
    }
    this.unhold(hold.slab);
    for (const s of hold.slabs) this.unhold(s);
    this.release(hold.pins);
  }

  /** Releases the batch's pins (the kernel took its views, or the batch is dropped). */
  private unpinBatch(): void {
    const pins = this.pins;
    for (let i = 0; i < this.nPins; i++) this.unpin(pins[i]!);
    this.nPins = 0;
  }

  /** The batch's pins as a list of their own (for a write that completes later). */
  private takePins(): number[] {
    const taken = this.pins.slice(0, this.nPins);
    this.nPins = 0;
    return taken;
  }

  private release(pins: number[]): void {
    for (let i = 0; i < pins.length; i++) this.unpin(pins[i]!);
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

  /** Forgets the batch (its socket is gone). */
  drop(): void {
    this.segStart = this.pos;
    for (let i = 0; i < this.nSegs; i++) this.segs[i] = EMPTY;
    this.nSegs = 0;
    this.batchBytes = 0;
    this.unpinBatch();
    const earlier = this.batchSlabs;
    for (let i = 0; i < earlier.length; i++) this.unhold(earlier[i]!);
    earlier.length = 0;
  }
}

/** What a queued write keeps: the slabs its segments lie in and the pins of its views. */
export class QueuedWrite {
  constructor(
    readonly slab: Buffer,
    readonly slabs: Buffer[],
    readonly pins: number[],
  ) {}
}

function noUnpin(): void {}

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** Two hex digits per byte value, high digit in the high byte. */
const HEX2 = Uint16Array.from({ length: 256 }, (_, b) => (HEX[b >>> 4]! << 8) | HEX[b & 15]!);
