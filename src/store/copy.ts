/**
 * Copies between the shared buffer and ordinary buffers at word speed. Short runs go through a
 * word loop (no view allocated), long ones through Buffer#copy where that is a native memmove,
 * else TypedArray#set, and then a bulk copy whose ends disagree modulo 8 bounces through a
 * private buffer aligned like the source (V8 copies out of a SharedArrayBuffer word by word only
 * when both ends agree modulo 8).
 */
import type { Allocator } from './allocator.js';
import { WORD_COPY_MAX, type Geometry } from './geometry.js';
import { PAGE, PAGE_SHIFT } from './layout.js';
import type { Views } from './views.js';

type BufferCopy = (
  this: Uint8Array,
  target: Uint8Array,
  targetStart: number,
  start?: number,
  end?: number,
) => number;
const BUFFER_COPY = Buffer.prototype.copy as unknown as BufferCopy;

/**
 * Buffer#copy is a native memmove from Node 22 on, whatever the ends' alignment (Node 24: 134 ns
 * for 4 KiB from the SharedArrayBuffer, against 1.4 µs for TypedArray#set when the ends disagree
 * modulo 8; bench/micro/store-copy.mjs). On Node 20 it is TypedArray#set underneath, so the
 * set/bounce choice below stays.
 */
const NATIVE_COPY = Number(process.versions.node.split('.')[0]) >= 22;

/** Word views of a copy destination's buffer: .buffer and .byteOffset are slow getters on Buffers. */
class Dest {
  u32: Uint32Array = new Uint32Array(0);
  dv: DataView = new DataView(new ArrayBuffer(0));
  off = 0;
  constructor(public dst: Uint8Array | null) {}

  set(dst: Uint8Array): void {
    const buf = dst.buffer;
    this.dst = dst;
    this.u32 = new Uint32Array(buf, 0, buf.byteLength >>> 2);
    this.dv = new DataView(buf);
    this.off = dst.byteOffset;
  }
}

export class Copier {
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly alloc: Allocator;
  /** The last two copy destinations (a connection's arena, the content-type bytes), last first. */
  private a = new Dest(null);
  private b = new Dest(null);
  /** Non-shared staging for bulk copies whose ends disagree modulo 8. */
  private readonly bounce = new Uint8Array(PAGE + 8);

  constructor(v: Views) {
    this.u8 = v.u8;
    this.u32 = v.u32;
    this.alloc = v.alloc;
  }

  /**
   * Copies SAB bytes [from, from+n) to dst. Short runs go word by word (no view allocated): a
   * typed-array word store where the destination is 4-aligned, a DataView store where it is not
   * (a GET's body lands right after a head of any length). Long runs: Buffer#copy where it is a
   * native memmove (Node 24), else one TypedArray#set, bounced when the ends disagree modulo 8.
   */
  copyBytes(from: number, n: number, dst: Uint8Array, dstOff: number): void {
    const u8 = this.u8;
    if (n >= 8 && n <= WORD_COPY_MAX && (from & 3) === 0) {
      // Views are cached by destination object (the connection's arena, the content-type bytes)
      // because .buffer and .byteOffset are slow getters on Buffers.
      let d = this.a;
      let at: number;
      if (dst === d.dst) {
        at = d.off + dstOff;
      } else if (dst === this.b.dst) {
        d = this.b;
        this.b = this.a;
        this.a = d;
        at = d.off + dstOff;
      } else if (dst.buffer === d.u32.buffer) {
        // a fresh Buffer from the same allocation pool as the last one
        at = dst.byteOffset + dstOff;
      } else {
        d = this.b;
        this.b = this.a;
        this.a = d;
        d.set(dst);
        at = d.off + dstOff;
      }
      const s32 = this.u32;
      const words = n >>> 2;
      const sw = from >>> 2;
      let i = 0;
      if ((at & 3) === 0) {
        const d32 = d.u32;
        const dw = at >>> 2;
        // unrolled: the loop's own compare and branch cost as much as a word's load and store
        for (const w4 = words & ~3; i < w4; i += 4) {
          d32[dw + i] = s32[sw + i]!;
          d32[dw + i + 1] = s32[sw + i + 1]!;
          d32[dw + i + 2] = s32[sw + i + 2]!;
          d32[dw + i + 3] = s32[sw + i + 3]!;
        }
        for (; i < words; i++) d32[dw + i] = s32[sw + i]!;
      } else {
        // unaligned word stores: 4x faster than bytes, and no view + set (~60 ns) for 64 B
        const dv = d.dv;
        for (; i < words; i++) dv.setUint32(at + (i << 2), s32[sw + i]!, true);
      }
      for (let i = words << 2; i < n; i++) dst[dstOff + i] = u8[from + i]!;
      return;
    }
    if (n <= 32) {
      for (let i = 0; i < n; i++) dst[dstOff + i] = u8[from + i]!;
    } else if (NATIVE_COPY) {
      BUFFER_COPY.call(u8, dst, dstOff, from, from + n);
    } else if (((from - dst.byteOffset - dstOff) & 7) === 0) {
      dst.set(u8.subarray(from, from + n), dstOff);
    } else {
      const b = this.bounce;
      const k = from & 7;
      for (let done = 0; done < n;) {
        const c = Math.min(n - done, PAGE);
        b.set(u8.subarray(from + done, from + done + c), k);
        dst.set(b.subarray(k, k + c), dstOff + done);
        done += c;
      }
    }
  }

  /** Writes src at SAB byte `at`, bouncing misaligned bulk copies like `copyBytes`. */
  private writeBytes(src: Uint8Array, at: number): void {
    const n = src.length;
    if (n > WORD_COPY_MAX && NATIVE_COPY) {
      BUFFER_COPY.call(src, this.u8, at);
      return;
    }
    if (n <= WORD_COPY_MAX || ((src.byteOffset - at) & 7) === 0) {
      this.u8.set(src, at);
      return;
    }
    const b = this.bounce;
    const k = at & 7;
    for (let done = 0; done < n;) {
      const c = Math.min(n - done, PAGE);
      b.set(c === n ? src : src.subarray(done, done + c), k);
      this.u8.set(b.subarray(k, k + c), at + done);
      done += c;
    }
  }

  /** Copies value bytes [start, start+len) of large entry `ref` (pages, then tail) to dst[dstOff...]. */
  copyOutLarge(ref: number, g: Geometry, start: number, len: number, dst: Uint8Array, dstOff: number): void {
    const eb = ref * 8;
    const u32 = this.u32;
    let pos = start;
    const end = start + len;
    while (pos < end && pos < g.tailStart) {
      const pi = pos >>> PAGE_SHIFT;
      const page = u32[((eb + g.valueOff) >>> 2) + pi]!;
      const inPage = pos - pi * PAGE;
      const n = Math.min(end, g.tailStart, (pi + 1) * PAGE) - pos;
      this.copyBytes(this.alloc.pageByte(page) + inPage, n, dst, dstOff);
      dstOff += n;
      pos += n;
    }
    if (pos < end) {
      this.copyBytes(eb + g.tailOff + (pos - g.tailStart), end - pos, dst, dstOff);
    }
  }

  /** Writes `src` at value offset `pos` of entry `ref`. */
  copyIn(ref: number, g: Geometry, pos: number, src: Uint8Array): void {
    const eb = ref * 8;
    if (!g.large) {
      this.writeBytes(src, eb + g.valueOff + pos);
      return;
    }
    const u32 = this.u32;
    let off = 0;
    const len = src.length;
    while (off < len && pos < g.tailStart) {
      const pi = pos >>> PAGE_SHIFT;
      const page = u32[((eb + g.valueOff) >>> 2) + pi]!;
      const n = Math.min(len - off, g.tailStart - pos, (pi + 1) * PAGE - pos);
      this.writeBytes(
        n === len ? src : src.subarray(off, off + n),
        this.alloc.pageByte(page) + (pos - pi * PAGE),
      );
      off += n;
      pos += n;
    }
    if (off < len) {
      const rest = off === 0 ? src : src.subarray(off);
      this.writeBytes(rest, eb + g.tailOff + (pos - g.tailStart));
    }
  }
}
