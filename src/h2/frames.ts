import type { Socket } from 'node:net';

/** HTTP/2 framing (RFC 9113 §4, §6): frame and error codes, and the connection's output. */

export const FRAME_HEADER = 9;

export const T_DATA = 0x0;
export const T_HEADERS = 0x1;
export const T_PRIORITY = 0x2;
export const T_RST_STREAM = 0x3;
export const T_SETTINGS = 0x4;
export const T_PUSH_PROMISE = 0x5;
export const T_PING = 0x6;
export const T_GOAWAY = 0x7;
export const T_WINDOW_UPDATE = 0x8;
export const T_CONTINUATION = 0x9;

export const F_END_STREAM = 0x1;
export const F_ACK = 0x1;
export const F_END_HEADERS = 0x4;
export const F_PADDED = 0x8;
export const F_PRIORITY = 0x20;

export const E_NO_ERROR = 0x0;
export const E_PROTOCOL = 0x1;
export const E_INTERNAL = 0x2;
export const E_FLOW_CONTROL = 0x3;
export const E_SETTINGS_TIMEOUT = 0x4;
export const E_STREAM_CLOSED = 0x5;
export const E_FRAME_SIZE = 0x6;
export const E_REFUSED_STREAM = 0x7;
export const E_CANCEL = 0x8;
export const E_COMPRESSION = 0x9;
export const E_ENHANCE_YOUR_CALM = 0xb;

export const S_HEADER_TABLE_SIZE = 0x1;
export const S_ENABLE_PUSH = 0x2;
export const S_MAX_CONCURRENT_STREAMS = 0x3;
export const S_INITIAL_WINDOW_SIZE = 0x4;
export const S_MAX_FRAME_SIZE = 0x5;
export const S_MAX_HEADER_LIST_SIZE = 0x6;

export const DEFAULT_WINDOW = 65535;
export const DEFAULT_MAX_FRAME = 16384;
export const MAX_WINDOW = 0x7fffffff;
export const MAX_FRAME_LIMIT = 0xffffff;

/** Bodies at most this long are copied next to their frame header; longer ones are sent as they are. */
const COPY_MAX = 1024;
/** Room for the frames of one read batch; a fresh block is taken when it is used up. */
const BLOCK = 32 * 1024;

/**
 * Collects the frames one batch of input produced and hands them to the socket in one write
 * (or one corked series of writes when large bodies are among them). Small frames are written
 * into a block that is only ever appended to: a part handed to the socket is never written
 * again, so no copy is needed however long the kernel takes. Large bodies go out as the views
 * they are (a store value stays where the store keeps it), with `after` callbacks (releases of
 * pinned store values) run once the write that carried them is done.
 */
export class FrameOut {
  private block = Buffer.allocUnsafe(BLOCK);
  private start = 0;
  pos = 0;
  private readonly segs: Buffer[] = [];
  private after: (() => void)[] = [];

  constructor(private readonly socket: Socket) {}

  /** Makes room for `n` contiguous bytes at `pos` in `buf`. */
  room(n: number): Buffer {
    if (this.pos + n > this.block.length) {
      this.cut();
      this.block = Buffer.allocUnsafe(Math.max(BLOCK, n));
      this.start = 0;
      this.pos = 0;
    }
    return this.block;
  }

  get buf(): Buffer {
    return this.block;
  }

  header(len: number, type: number, flags: number, stream: number): void {
    const b = this.room(FRAME_HEADER);
    let p = this.pos;
    b[p++] = len >>> 16;
    b[p++] = (len >>> 8) & 0xff;
    b[p++] = len & 0xff;
    b[p++] = type;
    b[p++] = flags;
    b.writeUInt32BE(stream & 0x7fffffff, p);
    this.pos = p + 4;
  }

  /** Fills in the length of a frame whose header starts at `at` in the current block. */
  patchLength(at: number, len: number): void {
    const b = this.block;
    b[at] = len >>> 16;
    b[at + 1] = (len >>> 8) & 0xff;
    b[at + 2] = len & 0xff;
  }

  u32(v: number): void {
    this.room(4).writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** A DATA frame's payload: copied when small, else queued as it is. */
  payload(body: Uint8Array): void {
    const n = body.length;
    if (n <= COPY_MAX) {
      const b = this.room(n);
      b.set(body, this.pos);
      this.pos += n;
      return;
    }
    this.cut();
    this.segs.push(Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, n));
    this.bodyBytes += n;
  }

  /** Bytes of large bodies queued since the last flush (not yet on the socket). */
  bodyBytes = 0;

  settings(pairs: readonly number[], ack: boolean): void {
    this.header(pairs.length * 3, T_SETTINGS, ack ? F_ACK : 0, 0);
    for (let i = 0; i < pairs.length; i += 2) {
      const b = this.room(6);
      b.writeUInt16BE(pairs[i]!, this.pos);
      b.writeUInt32BE(pairs[i + 1]! >>> 0, this.pos + 2);
      this.pos += 6;
    }
  }

  windowUpdate(stream: number, inc: number): void {
    this.header(4, T_WINDOW_UPDATE, 0, stream);
    this.u32(inc);
  }

  rst(stream: number, code: number): void {
    this.header(4, T_RST_STREAM, 0, stream);
    this.u32(code);
  }

  goaway(last: number, code: number): void {
    this.header(8, T_GOAWAY, 0, 0);
    this.u32(last);
    this.u32(code);
  }

  ping(data: Uint8Array, at: number): void {
    this.header(8, T_PING, F_ACK, 0);
    const b = this.room(8);
    b.set(data.subarray(at, at + 8), this.pos);
    this.pos += 8;
  }

  /** Runs `fn` once everything queued so far was written (or the socket is gone). */
  onWritten(fn: () => void): void {
    this.after.push(fn);
  }

  /** Whether anything waits to be written. */
  get empty(): boolean {
    return this.pos === this.start && this.segs.length === 0;
  }

  /** Told the bytes of each socket write made (the thread's write metrics). */
  counter: ((bytes: number) => void) | null = null;

  /** Hands what was collected to the socket. */
  flush(): void {
    this.cut();
    this.bodyBytes = 0;
    const segs = this.segs;
    if (this.counter !== null && segs.length !== 0) {
      let bytes = 0;
      for (let i = 0; i < segs.length; i++) bytes += segs[i]!.length;
      this.counter(bytes);
    }
    const after = this.after;
    const s = this.socket;
    if (segs.length === 0) {
      if (after.length === 0) return;
      this.after = [];
      if (s.writableLength === 0 || s.destroyed) runAll(after);
      else s.write(EMPTY, this.track(after));
      return;
    }
    const cb = after.length === 0 ? undefined : this.track(after);
    if (after.length !== 0) this.after = [];
    if (s.destroyed) {
      segs.length = 0;
      if (cb !== undefined) cb();
      return;
    }
    if (segs.length === 1) {
      s.write(segs[0]!, cb);
    } else {
      s.cork();
      const last = segs.length - 1;
      for (let i = 0; i < last; i++) s.write(segs[i]!);
      s.write(segs[last]!, cb);
      s.uncork();
    }
    segs.length = 0;
  }

  /** Callbacks handed to the socket whose write has not completed yet. */
  private readonly waiting = new Set<() => void>();

  /** One callback for `fns`, run at most once: by the write, or by `closed`. */
  private track(fns: (() => void)[]): () => void {
    const cb = (): void => {
      if (!this.waiting.delete(cb)) return;
      runAll(fns);
    };
    this.waiting.add(cb);
    return cb;
  }

  /** The socket closed: nothing it was given is read any more, so every release may run. */
  closed(): void {
    for (const cb of [...this.waiting]) cb();
    const after = this.after;
    this.after = [];
    runAll(after);
    this.segs.length = 0;
  }

  /** Ends the current part of the block (what is after it may be written meanwhile). */
  private cut(): void {
    if (this.pos > this.start) {
      this.segs.push(this.block.subarray(this.start, this.pos));
      this.start = this.pos;
    }
  }
}

const EMPTY = Buffer.alloc(0);

function runAll(fns: (() => void)[]): void {
  for (const f of fns) f();
}
