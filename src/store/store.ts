/**
 * The shared store: one SharedArrayBuffer, lock stripes, a per-stripe open-addressing index,
 * per-stripe SIEVE eviction, and a global slab/page allocator.
 *
 * Lock order: stripe lock -> allocator lock. A thread holds at most one stripe lock while it
 * may block; other stripes are only ever try-locked (eviction), so there is no deadlock.
 *
 * Layout and crash safety: see layout.ts and allocator.ts. A stripe's index slots and SIEVE list
 * are only touched under its lock, so a worker that dies holding it can corrupt only that
 * stripe: `reclaimOwner` drops the stripe's entries, frees every slot and page tagged with it and
 * rebuilds the allocator's derived lists.
 *
 * ETag: a random 64-bit epoch chosen at `create` XOR a per-stripe 64-bit version counter bumped
 * by every set. O(1) per set (a content hash would cost a pass over every stored byte, 10 MiB
 * values included), identical in every worker (it lives in the buffer), survives worker
 * restarts, and is never reused: versions only grow (a stripe reset skips to the next 2^32), and
 * a new process draws a new epoch.
 */
import { randomFillSync } from 'node:crypto';
import { endianness } from 'node:os';
import {
  MAX_CONTENT_TYPE_BYTES,
  MAX_KEY_BYTES,
  RangeKind,
  ReadStatus,
  SetOutcome,
  type KvStore,
  type ReadResult,
  type StoreOptions,
  type StoreStats,
} from './api.js';
import { Allocator } from './allocator.js';
import { hashBytes, hashBytesInto } from './hash.js';
import {
  CT_BYTES_AT,
  CT_SLOT_BYTES,
  CT_SLOTS,
  E_EXPIRY,
  E_HASH,
  E_HEADER_BYTES,
  E_MISC,
  E_NEWER,
  E_OLDER,
  E_TAG,
  E_VALUE_LEN,
  E_VER_HI,
  E_VER_LO,
  EB_CT_REF,
  EB_FLAGS,
  EXPIRY_UNITS_PER_S,
  F_LARGE,
  F_LINKED,
  F_TAIL_PAGE,
  F_VISITED,
  H_ALLOC_LOCK,
  H_EPOCH_HI,
  H_EPOCH_LO,
  H_MAGIC,
  H_MAX_KEYS,
  H_MAX_VALUE,
  H_NUM_PAGES,
  H_PAGE_CURSOR,
  H_SEED,
  H_SLOTS_PER_STRIPE,
  H_STRIPE_CAP,
  H_STRIPES,
  H_SWEEP_CURSOR,
  H_VERSION,
  HF_CREATED_MS,
  HF_MEMORY,
  KIND_LARGE,
  KIND_SHIFT,
  KIND_SLAB,
  LAYOUT_VERSION,
  MAGIC,
  PAGE,
  PAGE_SHIFT,
  S_COUNT,
  S_HAND,
  S_HEAD,
  S_LOCK,
  S_SWEEP,
  S_TAIL,
  S_VER_HI,
  S_VER_LO,
  SF_DELETES,
  SF_EVICTIONS,
  SF_EXPIRATIONS,
  SF_HITS,
  SF_MISSES,
  SF_PAYLOAD,
  SF_SETS,
  STRIPE_BYTES,
  computeLayout,
  type Layout,
} from './layout.js';
import { StoreLockDesyncError, lockSlow, stealLock, tryLock, unlock } from './lock.js';

if (endianness() !== 'LE') throw new Error('stripecache store: little-endian platforms only');

const EMPTY = new Uint8Array(0);
const TWO32 = 2 ** 32;
/** SIEVE evictions tried in the set's own stripe, then in other stripes, before evicting pages. */
const OWN_SIEVE_TRIES = 16;
const OTHER_SIEVE_TRIES = 16;
/** Entries one sweep visit scans in a stripe before it lets go of the lock. */
const SWEEP_BUDGET = 2048;

/** Longest run copied by a word loop; longer runs use TypedArray#set (V8's memcpy). */
const WORD_COPY_MAX = 512;

/**
 * Offset of the value in its entry: 4-aligned for the word loop, 8-aligned for longer values
 * because V8 copies between a SharedArrayBuffer and another buffer word by word only when source
 * and destination agree modulo 8 (else byte by byte: 2x slower for 4 KiB).
 */
function valueStart(keyLen: number, ctInline: number, valueLen: number): number {
  const base = E_HEADER_BYTES + keyLen + ctInline;
  return valueLen > WORD_COPY_MAX ? (base + 7) & ~7 : (base + 3) & ~3;
}

/**
 * SAB bytes at `at` (4-aligned) equal `b`: a word of the SAB against four bytes of `b` at a time
 * (`b` is any view, so it cannot be read by words without allocating one).
 */
function bytesEqual(i32: Int32Array, u8: Uint8Array, at: number, b: Uint8Array): boolean {
  const n = b.length;
  const n4 = n & ~3;
  const w = at >>> 2;
  let i = 0;
  for (; i < n4; i += 4) {
    if (i32[w + (i >>> 2)] !== (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24))) {
      return false;
    }
  }
  for (; i < n; i++) if (u8[at + i] !== b[i]) return false;
  return true;
}

/** Where a value's bytes live; filled by `geometry` (one per Store, reused). */
interface Geometry {
  large: boolean;
  tailPage: boolean;
  slotBytes: number;
  cls: number;
  nPages: number;
  /** byte offset from the entry start: inline value, or the page table for large values */
  valueOff: number;
  /** large only: byte offset of the in-slot tail, and where the tail starts in the value */
  tailOff: number;
  tailStart: number;
}

export class Store implements KvStore {
  readonly sab: SharedArrayBuffer;
  readonly ownerId: number;
  /** Stripe lock acquisitions by this instance that missed the fast path (for benchmarks). */
  contendedLocks = 0;
  /** Milliseconds clock for TTLs; tests replace it. */
  now: () => number = Date.now;

  private readonly L: Layout;
  private readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly alloc: Allocator;
  private readonly me: number;
  private readonly seed: number;
  private readonly epochHi: number;
  private readonly epochLo: number;
  private readonly createdMs: number;
  private readonly shift: number;
  private readonly slots: number;
  private readonly cap: number;
  private readonly numPages: number;
  /** u32 index of stripe 0's line, f64 index of its counters, u32 index of its first slot. */
  private readonly sw0: number;
  private readonly sf0: number;
  private readonly iw0: number;
  private readonly g: Geometry = {
    large: false,
    tailPage: false,
    slotBytes: 0,
    cls: 0,
    nPages: 0,
    valueOff: 0,
    tailOff: 0,
    tailStart: 0,
  };
  /** Geometry of entries being freed: evictions run in the middle of a set using `g`. */
  private readonly gFree: Geometry = { ...this.g };
  /** Index slot of the last successful `find`. */
  private foundSlot = -1;
  private otherCursor = 0;
  private lastCtRef = 0;
  /** Word view of the last copy destination's buffer (a connection's arena, reused). */
  private dstA: Uint8Array | null = null;
  private dstU32A: Uint32Array = new Uint32Array(0);
  private dstOffA = 0;
  private dstB: Uint8Array | null = null;
  private dstU32B: Uint32Array = new Uint32Array(0);
  private dstOffB = 0;
  /** Words of the key being looked up (filled while hashing it). */
  private readonly kw = new Int32Array(MAX_KEY_BYTES >>> 2);
  /** Non-shared staging for bulk copies whose ends disagree modulo 8 (see `copyBytes`). */
  private readonly bounce = new Uint8Array(PAGE + 8);

  /** The SharedArrayBuffer size for `opts`: always `opts.memory` (the budget is the buffer). */
  static bytesFor(opts: StoreOptions): number {
    computeLayout(opts);
    return opts.memory;
  }

  /** Allocates and formats the buffer; the caller (supervisor) is owner 0. */
  static create(opts: StoreOptions): Store {
    const L = computeLayout(opts);
    const sab = new SharedArrayBuffer(L.memory);
    const u32 = new Uint32Array(sab);
    const f64 = new Float64Array(sab, 0, 64);
    const rnd = new Uint32Array(3);
    randomFillSync(rnd);
    u32[H_VERSION] = LAYOUT_VERSION;
    u32[H_MAX_KEYS] = L.maxKeys;
    u32[H_STRIPES] = L.stripes;
    u32[H_MAX_VALUE] = L.maxValueSize;
    u32[H_NUM_PAGES] = L.numPages;
    u32[H_SLOTS_PER_STRIPE] = L.slotsPerStripe;
    u32[H_STRIPE_CAP] = L.stripeCap;
    u32[H_SEED] = rnd[0]!;
    u32[H_EPOCH_HI] = rnd[1]!;
    u32[H_EPOCH_LO] = rnd[2]!;
    f64[HF_MEMORY] = L.memory;
    f64[HF_CREATED_MS] = Date.now();
    const alloc = new Allocator(u32, L);
    alloc.rebuildLocked(new Uint8Array(0));
    Atomics.store(u32, H_MAGIC, MAGIC);
    return new Store(sab, 0);
  }

  /** A view of an existing store for a worker; `ownerId` is unique per live worker (>= 1). */
  static attach(sab: SharedArrayBuffer, ownerId: number): Store {
    if (!Number.isSafeInteger(ownerId) || ownerId < 0 || ownerId >= 2 ** 30) {
      throw new RangeError(`ownerId must be an integer from 0 to 2^30-1, got ${ownerId}`);
    }
    return new Store(sab, ownerId);
  }

  private constructor(sab: SharedArrayBuffer, ownerId: number) {
    const u32 = new Uint32Array(sab);
    if (Atomics.load(u32, H_MAGIC) !== MAGIC || u32[H_VERSION] !== LAYOUT_VERSION) {
      throw new RangeError('not a stripecache store buffer (bad magic or layout version)');
    }
    const f64 = new Float64Array(sab);
    this.L = computeLayout({
      memory: f64[HF_MEMORY]!,
      maxKeys: u32[H_MAX_KEYS]!,
      stripes: u32[H_STRIPES]!,
      maxValueSize: u32[H_MAX_VALUE]!,
    });
    if (this.L.numPages !== u32[H_NUM_PAGES] || sab.byteLength !== this.L.memory) {
      throw new RangeError('store buffer layout does not match its header');
    }
    this.sab = sab;
    this.ownerId = ownerId;
    this.me = ownerId + 1;
    this.u8 = new Uint8Array(sab);
    this.u32 = u32;
    this.i32 = new Int32Array(sab);
    this.f64 = f64;
    this.alloc = new Allocator(u32, this.L);
    this.seed = u32[H_SEED]!;
    this.epochHi = u32[H_EPOCH_HI]!;
    this.epochLo = u32[H_EPOCH_LO]!;
    this.createdMs = f64[HF_CREATED_MS]!;
    this.shift = 32 - this.L.stripeBits;
    this.slots = this.L.slotsPerStripe;
    this.cap = this.L.stripeCap;
    this.numPages = this.L.numPages;
    this.sw0 = this.L.stripeTable >>> 2;
    this.sf0 = (this.L.stripeTable + 64) >>> 3;
    this.iw0 = this.L.index >>> 2;
  }

  // ---------------------------------------------------------------- stripe helpers

  private stripeOf(h: number): number {
    return this.shift === 32 ? 0 : h >>> this.shift;
  }

  /** u32 index of stripe s's line. */
  private sw(s: number): number {
    return this.sw0 + s * (STRIPE_BYTES >>> 2);
  }

  /** f64 index of stripe s's counters. */
  private sf(s: number): number {
    return this.sf0 + s * (STRIPE_BYTES >>> 3);
  }

  private lockStripe(s: number): void {
    const i = this.sw(s) + S_LOCK;
    if (Atomics.compareExchange(this.i32, i, 0, this.me) !== 0) {
      this.contendedLocks++;
      lockSlow(this.i32, i, this.me, 'stripe');
    }
  }

  private unlockStripe(s: number): void {
    unlock(this.i32, this.sw(s) + S_LOCK, this.me, 'stripe');
  }

  /** The stripe lock at word `lw` was taken: spin, then wait (out of line of the fast path). */
  private lockStripeContended(lw: number): void {
    this.contendedLocks++;
    lockSlow(this.i32, lw, this.me, 'stripe');
  }

  /** After an unlock CAS that found `found`: desync error, or wake a waiter. */
  private unlockStripeTail(lw: number, found: number): void {
    if (found !== this.me) throw new StoreLockDesyncError('stripe', this.me, found);
    Atomics.notify(this.i32, lw, 1);
  }

  private lockAlloc(): void {
    if (Atomics.compareExchange(this.i32, H_ALLOC_LOCK, 0, this.me) !== 0) {
      lockSlow(this.i32, H_ALLOC_LOCK, this.me, 'allocator');
    }
  }

  private unlockAlloc(): void {
    unlock(this.i32, H_ALLOC_LOCK, this.me, 'allocator');
  }

  // ---------------------------------------------------------------- index

  /** u32 index of stripe s's first index slot. */
  private iw(s: number): number {
    return this.iw0 + s * this.slots * 2;
  }

  private home(h: number): number {
    const rest = this.shift === 32 ? h : (h << (32 - this.shift)) >>> 0;
    return Math.floor((rest * this.slots) / TWO32);
  }

  /**
   * The stored key of `ref` equals the key whose words `hashBytesInto` left in `kw`: word
   * compares only (stored keys start 4-aligned; the word holding a key's last bytes lies inside
   * the entry, before its 4-aligned value).
   */
  private keyEquals(ref: number, keyLen: number): boolean {
    if ((this.u32[ref * 2 + E_MISC]! & 0xffff) !== keyLen) return false;
    const i32 = this.i32;
    const kw = this.kw;
    const w = (ref * 8 + E_HEADER_BYTES) >>> 2;
    const full = keyLen >>> 2;
    for (let j = 0; j < full; j++) if (i32[w + j] !== kw[j]) return false;
    const rest = keyLen & 3;
    return rest === 0 || (i32[w + full]! & ((1 << (rest * 8)) - 1)) === kw[full];
  }

  /**
   * Entry ref for key in stripe s (0 when absent); sets `foundSlot`. Stripe lock held, and `kw`
   * filled by `hashBytesInto(key)`.
   */
  private find(s: number, h: number, key: Uint8Array): number {
    const u32 = this.u32;
    const base = this.iw(s);
    const n = this.slots;
    let i = this.home(h);
    for (let probes = 0; probes < n; probes++) {
      const ref = u32[base + i * 2]!;
      if (ref === 0) return 0;
      if (u32[base + i * 2 + 1] === h && this.keyEquals(ref, key.length)) {
        this.foundSlot = i;
        return ref;
      }
      if (++i === n) i = 0;
    }
    return 0;
  }

  private slotOfRef(s: number, h: number, ref: number): number {
    const u32 = this.u32;
    const base = this.iw(s);
    const n = this.slots;
    let i = this.home(h);
    for (let probes = 0; probes < n; probes++) {
      const r = u32[base + i * 2]!;
      if (r === 0) return -1;
      if (r === ref) return i;
      if (++i === n) i = 0;
    }
    return -1;
  }

  private indexInsert(s: number, h: number, ref: number): void {
    const u32 = this.u32;
    const base = this.iw(s);
    const n = this.slots;
    let i = this.home(h);
    while (u32[base + i * 2] !== 0) if (++i === n) i = 0;
    u32[base + i * 2 + 1] = h;
    u32[base + i * 2] = ref;
  }

  /** Backward-shift deletion keeps linear probing tombstone-free. */
  private indexDeleteAt(s: number, hole: number): void {
    const u32 = this.u32;
    const base = this.iw(s);
    const n = this.slots;
    let i = hole;
    let j = hole;
    for (;;) {
      if (++j === n) j = 0;
      const ref = u32[base + j * 2]!;
      if (ref === 0) break;
      const k = this.home(u32[base + j * 2 + 1]!);
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      u32[base + i * 2] = ref;
      u32[base + i * 2 + 1] = u32[base + j * 2 + 1]!;
      i = j;
    }
    u32[base + i * 2] = 0;
    u32[base + i * 2 + 1] = 0;
  }

  // ---------------------------------------------------------------- entries

  private flags(ref: number): number {
    return this.u8[ref * 8 + EB_FLAGS]!;
  }

  /** Fills `this.g` for an entry with these sizes. */
  private geometry(keyLen: number, ctInline: number, valueLen: number, g: Geometry = this.g): Geometry {
    const aligned = valueStart(keyLen, ctInline, valueLen);
    if (aligned + valueLen <= PAGE) {
      g.large = false;
      g.tailPage = false;
      g.nPages = 0;
      g.valueOff = aligned;
      g.slotBytes = aligned + valueLen;
      g.tailOff = 0;
      g.tailStart = valueLen;
    } else {
      const pt = aligned;
      const full = Math.floor(valueLen / PAGE);
      const tail = valueLen - full * PAGE;
      g.large = true;
      g.valueOff = pt;
      if (((pt + 4 * full + 7) & ~7) + tail <= PAGE) {
        g.tailPage = false;
        g.nPages = full;
      } else {
        g.tailPage = true;
        g.nPages = full + 1;
      }
      g.tailStart = g.tailPage ? valueLen : full * PAGE;
      // 8-aligned like the pages, so a bulk copy of the tail takes V8's word path too
      g.tailOff = (pt + 4 * g.nPages + 7) & ~7;
      g.slotBytes = g.tailOff + (valueLen - g.tailStart);
    }
    g.cls = this.alloc.classFor(g.slotBytes);
    return g;
  }

  /** Recomputes geometry of a stored entry. */
  private geometryOf(ref: number, g: Geometry): Geometry {
    const u8 = this.u8;
    const keyLen = this.u32[ref * 2 + E_MISC]! & 0xffff;
    const ctRef = u8[ref * 8 + EB_CT_REF]!;
    const ctInline = ctRef === 0 ? 1 + u8[ref * 8 + E_HEADER_BYTES + keyLen]! : 0;
    return this.geometry(keyLen, ctInline, this.u32[ref * 2 + E_VALUE_LEN]!, g);
  }

  /**
   * Copies SAB bytes [from, from+n) to dst. A loop for short runs (no view allocated); else one
   * TypedArray#set, which is what Buffer#copy would do after allocating an extra view.
   */
  private copyBytes(from: number, n: number, dst: Uint8Array, dstOff: number): void {
    const u8 = this.u8;
    if (n >= 8 && n <= 512 && (from & 3) === 0) {
      // word copy: several times faster than bytes or a view + set for short runs from a SAB.
      // Views are cached by destination object (the connection's arena, the content-type bytes)
      // because .buffer and .byteOffset are slow getters on Buffers.
      let d32: Uint32Array;
      let at: number;
      if (dst === this.dstA) {
        d32 = this.dstU32A;
        at = this.dstOffA + dstOff;
      } else if (dst === this.dstB) {
        d32 = this.dstU32B;
        at = this.dstOffB + dstOff;
      } else if (dst.buffer === this.dstU32A.buffer) {
        // a fresh Buffer from the same allocation pool as the last one
        d32 = this.dstU32A;
        at = dst.byteOffset + dstOff;
      } else {
        const buf = dst.buffer;
        d32 = new Uint32Array(buf, 0, buf.byteLength >>> 2);
        this.dstB = this.dstA;
        this.dstU32B = this.dstU32A;
        this.dstOffB = this.dstOffA;
        this.dstA = dst;
        this.dstU32A = d32;
        this.dstOffA = dst.byteOffset;
        at = this.dstOffA + dstOff;
      }
      if ((at & 3) === 0) {
        const s32 = this.u32;
        const words = n >>> 2;
        const dw = at >>> 2;
        const sw = from >>> 2;
        let i = 0;
        // unrolled: the loop's own compare and branch cost as much as a word's load and store
        for (const w4 = words & ~3; i < w4; i += 4) {
          d32[dw + i] = s32[sw + i]!;
          d32[dw + i + 1] = s32[sw + i + 1]!;
          d32[dw + i + 2] = s32[sw + i + 2]!;
          d32[dw + i + 3] = s32[sw + i + 3]!;
        }
        for (; i < words; i++) d32[dw + i] = s32[sw + i]!;
        for (let i = words << 2; i < n; i++) dst[dstOff + i] = u8[from + i]!;
        return;
      }
    }
    if (n <= 32) {
      for (let i = 0; i < n; i++) dst[dstOff + i] = u8[from + i]!;
    } else if (((from - dst.byteOffset - dstOff) & 7) === 0) {
      dst.set(u8.subarray(from, from + n), dstOff);
    } else {
      // source and destination disagree modulo 8: V8 would copy byte by byte out of the SAB;
      // two word-speed copies through a private buffer aligned like the source are faster
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

  /** Copies value bytes [start, start+len) of entry `ref` to dst[dstOff...]. */
  private copyOut(
    ref: number,
    g: Geometry,
    start: number,
    len: number,
    dst: Uint8Array,
    dstOff: number,
  ): void {
    const eb = ref * 8;
    if (!g.large) {
      this.copyBytes(eb + g.valueOff + start, len, dst, dstOff);
      return;
    }
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
  private copyIn(ref: number, g: Geometry, pos: number, src: Uint8Array): void {
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

  private listPush(s: number, ref: number): void {
    const u32 = this.u32;
    const sw = this.sw(s);
    const head = u32[sw + S_HEAD]!;
    u32[ref * 2 + E_NEWER] = 0;
    u32[ref * 2 + E_OLDER] = head;
    if (head !== 0) u32[head * 2 + E_NEWER] = ref;
    else u32[sw + S_TAIL] = ref;
    u32[sw + S_HEAD] = ref;
  }

  private listUnlink(s: number, ref: number): void {
    const u32 = this.u32;
    const sw = this.sw(s);
    const newer = u32[ref * 2 + E_NEWER]!;
    const older = u32[ref * 2 + E_OLDER]!;
    if (newer !== 0) u32[newer * 2 + E_OLDER] = older;
    else u32[sw + S_HEAD] = older;
    if (older !== 0) u32[older * 2 + E_NEWER] = newer;
    else u32[sw + S_TAIL] = newer;
    if (u32[sw + S_HAND] === ref) u32[sw + S_HAND] = newer;
    if (u32[sw + S_SWEEP] === ref) u32[sw + S_SWEEP] = newer;
  }

  /** Frees the memory of an unlinked (or never linked) entry; takes the allocator lock. */
  private freeEntry(ref: number): void {
    const large = (this.flags(ref) & F_LARGE) !== 0;
    const g = large ? this.geometryOf(ref, this.gFree) : null;
    this.lockAlloc();
    try {
      if (g !== null) {
        const pt = (ref * 8 + g.valueOff) >>> 2;
        for (let i = 0; i < g.nPages; i++) {
          const page = this.u32[pt + i]!;
          if (page !== 0xffffffff) this.alloc.freePageLocked(page);
        }
      }
      this.alloc.freeSlotLocked(ref);
    } finally {
      this.unlockAlloc();
    }
  }

  /** Unlinks a live entry from stripe s (index slot `slot`) and frees it. Stripe lock held. */
  private removeEntry(s: number, ref: number, slot: number): void {
    const u32 = this.u32;
    this.indexDeleteAt(s, slot);
    this.listUnlink(s, ref);
    this.u8[ref * 8 + EB_FLAGS] = this.flags(ref) & ~F_LINKED;
    const sw = this.sw(s);
    u32[sw + S_COUNT] = u32[sw + S_COUNT]! - 1;
    this.f64[this.sf(s) + SF_PAYLOAD] -= (u32[ref * 2 + E_MISC]! & 0xffff) + u32[ref * 2 + E_VALUE_LEN]!;
    this.freeEntry(ref);
  }

  /** SIEVE: the hand walks from oldest to newest, sparing (and clearing) visited entries. */
  private evictOne(s: number): boolean {
    const u32 = this.u32;
    const u8 = this.u8;
    const sw = this.sw(s);
    let hand = u32[sw + S_HAND]!;
    if (hand === 0) hand = u32[sw + S_TAIL]!;
    if (hand === 0) return false;
    for (;;) {
      const fb = hand * 8 + EB_FLAGS;
      const f = u8[fb]!;
      if ((f & F_VISITED) === 0) break;
      u8[fb] = f & ~F_VISITED;
      hand = u32[hand * 2 + E_NEWER]!;
      if (hand === 0) hand = u32[sw + S_TAIL]!;
    }
    u32[sw + S_HAND] = u32[hand * 2 + E_NEWER]!;
    this.removeEntry(s, hand, this.slotOfRef(s, u32[hand * 2 + E_HASH]!, hand));
    this.f64[this.sf(s) + SF_EVICTIONS]++;
    return true;
  }

  /**
   * Evicts entry `ref` believed to belong to stripe t, if it really is a linked entry of t.
   * We hold stripe s; any other stripe is only try-locked (never block on a second stripe).
   */
  private evictRef(s: number, t: number, ref: number): boolean {
    if (t >= this.L.stripes) return false;
    if (t !== s && !tryLock(this.i32, this.sw(t) + S_LOCK, this.me)) return false;
    try {
      if (Atomics.load(this.u32, ref * 2 + E_TAG) !== t + 1) return false;
      if ((this.flags(ref) & F_LINKED) === 0) return false;
      const h = this.u32[ref * 2 + E_HASH]!;
      if (this.stripeOf(h) !== t) return false;
      const slot = this.slotOfRef(t, h, ref);
      if (slot < 0) return false;
      this.removeEntry(t, ref, slot);
      this.f64[this.sf(t) + SF_EVICTIONS]++;
      return true;
    } finally {
      if (t !== s) this.unlockStripe(t);
    }
  }

  /** Frees a whole page's worth of entries when per-entry eviction cannot produce a page. */
  private evictPage(s: number): boolean {
    const a = this.alloc;
    for (let scanned = 0; scanned < this.numPages; scanned++) {
      const p = Atomics.add(this.u32, H_PAGE_CURSOR, 1) % this.numPages;
      const meta = a.meta(p);
      const kind = meta >>> KIND_SHIFT;
      if (kind === KIND_LARGE) {
        if (this.evictRef(s, meta & 0xffffff, a.largeOwner(p))) return true;
      } else if (kind === KIND_SLAB) {
        const cls = meta & 0xffffff;
        const bump = a.bump(p);
        let any = false;
        for (let j = 0; j < bump && j < a.perPage[cls]!; j++) {
          const ref = a.slotRef(p, cls, j);
          const tag = Atomics.load(this.u32, ref * 2 + E_TAG);
          if (tag === 0) continue;
          if (!this.evictRef(s, tag - 1, ref)) break;
          any = true;
        }
        if (any) return true;
      } else {
        return true; // a page is free now: retry the allocation
      }
    }
    return false;
  }

  /** One step of making room for stripe s; false when nothing more can be freed. */
  private makeRoom(s: number, attempt: number, forPage: boolean): boolean {
    const ownTries = forPage ? 2 : OWN_SIEVE_TRIES;
    if (attempt < ownTries && this.evictOne(s)) return true;
    if (!forPage && attempt < ownTries + OTHER_SIEVE_TRIES) {
      const n = this.L.stripes;
      for (let k = 1; k < n; k++) {
        const t = (s + k + this.otherCursor++) & (n - 1);
        if (t === s || !tryLock(this.i32, this.sw(t) + S_LOCK, this.me)) continue;
        let ok: boolean;
        try {
          ok = this.evictOne(t);
        } finally {
          this.unlockStripe(t);
        }
        if (ok) return true;
      }
    }
    return this.evictPage(s);
  }

  private allocSlot(s: number, cls: number): number {
    for (let attempt = 0; ; attempt++) {
      this.lockAlloc();
      let ref: number;
      try {
        ref = this.alloc.allocSlotLocked(cls, s + 1);
      } finally {
        this.unlockAlloc();
      }
      if (ref !== 0) return ref;
      if (attempt > 64 + 2 * this.numPages || !this.makeRoom(s, attempt, false)) return 0;
    }
  }

  private allocPage(s: number, owner: number): number {
    for (let attempt = 0; ; attempt++) {
      this.lockAlloc();
      let p: number;
      try {
        p = this.alloc.allocPageLocked(s, owner);
      } finally {
        this.unlockAlloc();
      }
      if (p >= 0) return p;
      if (attempt > 64 + 2 * this.numPages || !this.makeRoom(s, attempt, true)) return -1;
    }
  }

  /** Interned content type ref (1..CT_SLOTS), or 0 to store it inline. Lock-free lookup. */
  private internCt(ct: Uint8Array): number {
    const n = ct.length;
    if (n === 0) return 0;
    const u8 = this.u8;
    const last = this.lastCtRef;
    if (last !== 0) {
      // most sets repeat the previous content type: compare before hashing
      const at = this.L.ctTable + (last - 1) * CT_SLOT_BYTES;
      if (u8[at] === n && bytesEqual(this.i32, u8, at + CT_BYTES_AT, ct)) return last;
    }
    const ref = this.internCtSlow(ct);
    if (ref !== 0) this.lastCtRef = ref;
    return ref;
  }

  private internCtSlow(ct: Uint8Array): number {
    const n = ct.length;
    const u8 = this.u8;
    const h = hashBytes(ct, this.seed);
    for (let probe = 0; probe < CT_SLOTS; probe++) {
      const i = (h + probe) & (CT_SLOTS - 1);
      const at = this.L.ctTable + i * CT_SLOT_BYTES;
      let len = Atomics.load(u8, at);
      if (len === 0) {
        this.lockAlloc();
        try {
          len = Atomics.load(u8, at);
          if (len === 0) {
            u8.set(ct, at + CT_BYTES_AT);
            Atomics.store(u8, at, n); // publish after the bytes
            return i + 1;
          }
        } finally {
          this.unlockAlloc();
        }
      }
      if (len !== n) continue;
      let same = true;
      for (let k = 0; k < n; k++) {
        if (u8[at + CT_BYTES_AT + k] !== ct[k]) {
          same = false;
          break;
        }
      }
      if (same) return i + 1;
    }
    return 0;
  }

  private expiryUnitsNow(): number {
    return Math.floor(((this.now() - this.createdMs) * EXPIRY_UNITS_PER_S) / 1000);
  }

  private isExpired(ref: number): boolean {
    const exp = this.u32[ref * 2 + E_EXPIRY]!;
    return exp !== 0 && this.expiryUnitsNow() >= exp;
  }

  // ---------------------------------------------------------------- KvStore

  set(
    key: Uint8Array,
    value: Uint8Array | readonly Uint8Array[],
    contentType: Uint8Array,
    ttlSeconds: number,
  ): SetOutcome {
    const keyLen = key.length;
    if (keyLen === 0 || keyLen > MAX_KEY_BYTES) {
      throw new RangeError(`key must be 1 to ${MAX_KEY_BYTES} bytes, got ${keyLen}`);
    }
    if (contentType.length > MAX_CONTENT_TYPE_BYTES) {
      throw new RangeError(`content type must be at most ${MAX_CONTENT_TYPE_BYTES} bytes`);
    }
    if (!(ttlSeconds >= 0) || !Number.isFinite(ttlSeconds)) {
      throw new RangeError(`ttlSeconds must be a finite number >= 0, got ${ttlSeconds}`);
    }
    let valueLen = 0;
    if (value instanceof Uint8Array) valueLen = value.length;
    else for (let i = 0; i < value.length; i++) valueLen += value[i]!.length;
    if (valueLen > this.L.maxValueSize) {
      throw new RangeError(`value of ${valueLen} bytes is over maxValueSize ${this.L.maxValueSize}`);
    }
    const ctRef = this.internCt(contentType);
    const ctInline = ctRef === 0 ? 1 + contentType.length : 0;
    const g = this.geometry(keyLen, ctInline, valueLen);
    // a head slot over one page (a page table for a value over ~1 GiB) or more pages than exist
    if (g.slotBytes > PAGE || g.nPages + 1 > this.numPages) return SetOutcome.TooLarge;
    let expiry = 0;
    if (ttlSeconds > 0) {
      const units = Math.ceil(
        ((this.now() - this.createdMs + ttlSeconds * 1000) * EXPIRY_UNITS_PER_S) / 1000,
      );
      expiry = Math.min(Math.max(units, 1), 0xffffffff);
    }
    const h = hashBytesInto(key, this.seed, this.kw);
    const s = this.shift === 32 ? 0 : h >>> this.shift;
    const u32 = this.u32;
    const sw = this.sw0 + s * (STRIPE_BYTES >>> 2);
    const sf = this.sf0 + s * (STRIPE_BYTES >>> 3);
    const i32 = this.i32;
    const me = this.me;
    const lw = sw + S_LOCK;
    if (Atomics.compareExchange(i32, lw, 0, me) !== 0) this.lockStripeContended(lw);
    try {
      this.f64[sf + SF_SETS]++;
      let existed = false;
      const old = this.find(s, h, key);
      let ref = 0;
      if (old !== 0) {
        existed = !this.isExpired(old);
        if (!existed) this.f64[sf + SF_EXPIRATIONS]++;
        const a = this.alloc;
        if (!g.large && (this.flags(old) & F_LARGE) === 0 && a.classOfLiveRef(old) === g.cls) {
          // same slot class: overwrite in place under the stripe lock, no allocator round trip
          ref = old;
          this.f64[sf + SF_PAYLOAD] -= keyLen + u32[old * 2 + E_VALUE_LEN]!;
        } else {
          this.removeEntry(s, old, this.foundSlot);
        }
      }
      const inPlace = ref !== 0;
      if (!inPlace) {
        while (u32[sw + S_COUNT]! >= this.cap && this.evictOne(s));
        ref = this.allocSlot(s, g.cls);
        if (ref === 0) return SetOutcome.TooLarge;
        u32[ref * 2 + E_NEWER] = 0;
        u32[ref * 2 + E_OLDER] = 0;
      }
      const eb = ref * 8;
      const flags = (g.large ? F_LARGE : 0) | (g.tailPage ? F_TAIL_PAGE : 0);
      u32[ref * 2 + E_HASH] = h;
      u32[ref * 2 + E_VALUE_LEN] = valueLen;
      u32[ref * 2 + E_MISC] = keyLen | (ctRef << 16) | (flags << 24);
      u32[ref * 2 + E_EXPIRY] = expiry;
      const lo = (u32[sw + S_VER_LO]! + 1) >>> 0;
      let hi = u32[sw + S_VER_HI]!;
      if (lo === 0) hi = (hi + 1) >>> 0;
      u32[sw + S_VER_LO] = lo;
      u32[sw + S_VER_HI] = hi;
      u32[ref * 2 + E_VER_LO] = lo;
      u32[ref * 2 + E_VER_HI] = hi;
      if (g.large) {
        const pt = (eb + g.valueOff) >>> 2;
        const nPages = g.nPages;
        u32.fill(0xffffffff, pt, pt + nPages);
        for (let i = 0; i < nPages; i++) {
          const p = this.allocPage(s, ref);
          if (p < 0) {
            this.freeEntry(ref);
            return SetOutcome.TooLarge;
          }
          u32[pt + i] = p;
        }
      }
      if (!inPlace) this.u8.set(key, eb + E_HEADER_BYTES);
      if (ctRef === 0) {
        this.u8[eb + E_HEADER_BYTES + keyLen] = contentType.length;
        this.u8.set(contentType, eb + E_HEADER_BYTES + keyLen + 1);
      }
      if (value instanceof Uint8Array) {
        this.copyIn(ref, g, 0, value);
      } else {
        let pos = 0;
        for (let i = 0; i < value.length; i++) {
          const c = value[i]!;
          if (c.length === 0) continue;
          this.copyIn(ref, g, pos, c);
          pos += c.length;
        }
      }
      if (inPlace) {
        this.u8[eb + EB_FLAGS] = flags | F_LINKED | F_VISITED;
      } else {
        this.indexInsert(s, h, ref);
        this.listPush(s, ref);
        this.u8[eb + EB_FLAGS] = flags | F_LINKED;
        u32[sw + S_COUNT] = u32[sw + S_COUNT]! + 1;
      }
      this.f64[sf + SF_PAYLOAD] += keyLen + valueLen;
      return existed ? SetOutcome.Replaced : SetOutcome.Created;
    } finally {
      const found = Atomics.compareExchange(i32, lw, me, 0);
      // a plain read of the waiter count after the CAS (a full fence): a stale 0 would only
      // delay a waiter to the end of its 2 ms wait slice, never lose it
      if (found !== me || i32[lw + 1] !== 0) this.unlockStripeTail(lw, found);
    }
  }

  get(key: Uint8Array, out: ReadResult): ReadStatus {
    const prevBody = out.body;
    out.body = EMPTY;
    out.bodyStart = 0;
    out.bodyLength = 0;
    out.totalLength = 0;
    out.contentTypeLength = 0;
    out.etagHi = 0;
    out.etagLo = 0;
    const h = hashBytesInto(key, this.seed, this.kw);
    const s = this.shift === 32 ? 0 : h >>> this.shift;
    const sf = this.sf0 + s * (STRIPE_BYTES >>> 3);
    // lock and unlock fast paths inline: the hot path makes no call for them
    const i32 = this.i32;
    const me = this.me;
    const lw = this.sw0 + s * (STRIPE_BYTES >>> 2) + S_LOCK;
    if (Atomics.compareExchange(i32, lw, 0, me) !== 0) this.lockStripeContended(lw);
    try {
      const ref = this.find(s, h, key);
      if (ref === 0) {
        this.f64[sf + SF_MISSES]++;
        return (out.status = ReadStatus.Miss);
      }
      if (this.isExpired(ref)) {
        this.removeEntry(s, ref, this.foundSlot);
        this.f64[sf + SF_EXPIRATIONS]++;
        this.f64[sf + SF_MISSES]++;
        return (out.status = ReadStatus.Miss);
      }
      this.f64[sf + SF_HITS]++;
      const u32 = this.u32;
      const u8 = this.u8;
      const eb = ref * 8;
      const fb = eb + EB_FLAGS;
      const f = u8[fb]!;
      if ((f & F_VISITED) === 0) u8[fb] = f | F_VISITED;
      const total = u32[ref * 2 + E_VALUE_LEN]!;
      const keyLen = u32[ref * 2 + E_MISC]! & 0xffff;
      const ctRef = u8[eb + EB_CT_REF]!;
      let ctInline = 0;
      if (ctRef === 0) {
        const at = eb + E_HEADER_BYTES + keyLen;
        const n = u8[at]!;
        this.copyBytes(at + 1, n, out.contentType, 0);
        out.contentTypeOf = null;
        out.contentTypeLength = n;
        ctInline = 1 + n;
      } else {
        const at = this.L.ctTable + (ctRef - 1) * CT_SLOT_BYTES;
        const n = u8[at]!;
        // interned types never change once published: skip the copy when `out` holds this one
        if (out.contentTypeOf !== this || out.contentTypeRef !== ctRef) {
          this.copyBytes(at + CT_BYTES_AT, n, out.contentType, 0);
          out.contentTypeOf = this;
          out.contentTypeRef = ctRef;
        }
        out.contentTypeLength = n;
      }
      const etagHi = (u32[ref * 2 + E_VER_HI]! ^ this.epochHi) >>> 0;
      const etagLo = (u32[ref * 2 + E_VER_LO]! ^ this.epochLo) >>> 0;
      out.etagHi = etagHi;
      out.etagLo = etagLo;
      out.totalLength = total;
      if (out.inmAny) return (out.status = ReadStatus.NotModified);
      const tags = out.inmTags;
      for (let i = 0, n = Math.min(out.inmCount, tags.length >>> 1); i < n; i++) {
        if (tags[i * 2] === etagHi && tags[i * 2 + 1] === etagLo)
          return (out.status = ReadStatus.NotModified);
      }
      let start = 0;
      let len = total;
      let status: ReadStatus = ReadStatus.Hit;
      switch (out.rangeKind) {
        case RangeKind.FromTo:
          if (out.rangeA > out.rangeB) break; // invalid range: ignored (RFC 9110 §14.1.1)
          if (total === 0 || out.rangeA >= total) return (out.status = ReadStatus.RangeNotSatisfiable);
          start = out.rangeA;
          len = Math.min(out.rangeB, total - 1) - start + 1;
          status = ReadStatus.Partial;
          break;
        case RangeKind.From:
          if (total === 0 || out.rangeA >= total) return (out.status = ReadStatus.RangeNotSatisfiable);
          start = out.rangeA;
          len = total - start;
          status = ReadStatus.Partial;
          break;
        case RangeKind.Suffix:
          if (total === 0 || out.rangeA <= 0) return (out.status = ReadStatus.RangeNotSatisfiable);
          len = Math.min(out.rangeA, total);
          start = total - len;
          status = ReadStatus.Partial;
          break;
      }
      out.bodyStart = start;
      out.bodyLength = len;
      if (out.wantBody && len > 0) {
        const large = (f & F_LARGE) !== 0;
        const g = large ? this.geometry(keyLen, ctInline, total) : this.g;
        const from = large ? 0 : eb + valueStart(keyLen, ctInline, total) + start;
        const t = out.target;
        if (t !== null && out.targetOffset >= 0 && out.targetOffset + len <= t.length) {
          const at = out.targetOffset;
          if (large) this.copyOut(ref, g, start, len, t, at);
          else this.copyBytes(from, len, t, at);
          // reuse the previous view when it already spans exactly these bytes (no allocation)
          if (
            prevBody === out.bodyView &&
            out.bodyViewTarget === t &&
            out.bodyViewAt === at &&
            prevBody.length === len
          ) {
            out.body = prevBody;
          } else {
            const v = t.subarray(at, at + len);
            out.body = v;
            out.bodyView = v;
            out.bodyViewTarget = t;
            out.bodyViewAt = at;
          }
        } else {
          const b = Buffer.allocUnsafe(len);
          if (large) this.copyOut(ref, g, start, len, b, 0);
          else this.copyBytes(from, len, b, 0);
          out.body = b;
        }
      }
      return (out.status = status);
    } finally {
      const found = Atomics.compareExchange(i32, lw, me, 0);
      // a plain read of the waiter count after the CAS (a full fence): a stale 0 would only
      // delay a waiter to the end of its 2 ms wait slice, never lose it
      if (found !== me || i32[lw + 1] !== 0) this.unlockStripeTail(lw, found);
    }
  }

  delete(key: Uint8Array): boolean {
    if (key.length === 0 || key.length > MAX_KEY_BYTES) return false;
    const h = hashBytesInto(key, this.seed, this.kw);
    const s = this.stripeOf(h);
    const sf = this.sf(s);
    this.lockStripe(s);
    try {
      const ref = this.find(s, h, key);
      if (ref === 0) return false;
      const expired = this.isExpired(ref);
      this.removeEntry(s, ref, this.foundSlot);
      this.f64[sf + (expired ? SF_EXPIRATIONS : SF_DELETES)]++;
      return !expired;
    } finally {
      this.unlockStripe(s);
    }
  }

  stats(): StoreStats {
    const st: StoreStats = {
      entries: 0,
      bytesUsed: 0,
      payloadBytes: 0,
      memoryBudget: this.L.memory,
      hits: 0,
      misses: 0,
      sets: 0,
      deletes: 0,
      evictions: 0,
      expirations: 0,
    };
    const f = this.f64;
    for (let s = 0; s < this.L.stripes; s++) {
      const sf = this.sf(s);
      st.entries += Atomics.load(this.u32, this.sw(s) + S_COUNT);
      st.payloadBytes += f[sf + SF_PAYLOAD]!;
      st.hits += f[sf + SF_HITS]!;
      st.misses += f[sf + SF_MISSES]!;
      st.sets += f[sf + SF_SETS]!;
      st.deletes += f[sf + SF_DELETES]!;
      st.evictions += f[sf + SF_EVICTIONS]!;
      st.expirations += f[sf + SF_EXPIRATIONS]!;
    }
    st.bytesUsed = this.L.fixedBytes + (this.numPages - this.alloc.poolCount()) * PAGE;
    return st;
  }

  // ---------------------------------------------------------------- maintenance

  /**
   * Reclaims expired entries in up to `maxStripes` stripes (round robin); returns how many.
   * Each stripe is scanned at most SWEEP_BUDGET entries per visit, resuming where the last
   * visit stopped, so the stripe lock is held briefly even with `--stripes 1` and a full store.
   */
  sweepExpired(maxStripes: number): number {
    const n = Math.min(Math.max(0, Math.floor(maxStripes)), this.L.stripes);
    const u32 = this.u32;
    let reclaimed = 0;
    for (let k = 0; k < n; k++) {
      const s = Atomics.add(u32, H_SWEEP_CURSOR, 1) & (this.L.stripes - 1);
      const now = this.expiryUnitsNow();
      const sw = this.sw(s);
      this.lockStripe(s);
      try {
        let ref = u32[sw + S_SWEEP]!;
        if (ref === 0) ref = u32[sw + S_TAIL]!;
        for (let budget = SWEEP_BUDGET; ref !== 0 && budget > 0; budget--) {
          const next = u32[ref * 2 + E_NEWER]!;
          const exp = u32[ref * 2 + E_EXPIRY]!;
          if (exp !== 0 && now >= exp) {
            this.removeEntry(s, ref, this.slotOfRef(s, u32[ref * 2 + E_HASH]!, ref));
            this.f64[this.sf(s) + SF_EXPIRATIONS]++;
            reclaimed++;
          }
          ref = next;
        }
        u32[sw + S_SWEEP] = ref;
      } finally {
        this.unlockStripe(s);
      }
    }
    return reclaimed;
  }

  /**
   * After worker `ownerId` died: every stripe whose lock names it is emptied (its slots and
   * pages return to the budget) and unlocked; a held allocator lock is taken over and the
   * allocator's lists rebuilt. Returns how many stripes were reset.
   */
  reclaimOwner(ownerId: number): number {
    const dead = ownerId + 1;
    if (dead === this.me) throw new RangeError('reclaimOwner: cannot reclaim this store instance own locks');
    const stripes = this.L.stripes;
    const reset = new Uint8Array(stripes);
    let count = 0;
    for (let s = 0; s < stripes; s++) {
      if (stealLock(this.i32, this.sw(s) + S_LOCK, dead, this.me)) {
        reset[s] = 1;
        count++;
      }
    }
    const allocStolen = stealLock(this.i32, H_ALLOC_LOCK, dead, this.me);
    if (count === 0 && !allocStolen) return 0;
    if (!allocStolen) this.lockAlloc();
    try {
      const u32 = this.u32;
      for (let s = 0; s < stripes; s++) {
        if (reset[s] !== 1) continue;
        const sw = this.sw(s);
        const iw = this.iw(s);
        u32.fill(0, iw, iw + this.slots * 2);
        u32[sw + S_HEAD] = 0;
        u32[sw + S_TAIL] = 0;
        u32[sw + S_HAND] = 0;
        u32[sw + S_SWEEP] = 0;
        u32[sw + S_COUNT] = 0;
        // versions never repeat: skip to the next 2^32 block
        u32[sw + S_VER_HI] = (u32[sw + S_VER_HI]! + 1) >>> 0;
        u32[sw + S_VER_LO] = 0;
        this.f64[this.sf(s) + SF_PAYLOAD] = 0;
      }
      this.alloc.rebuildLocked(reset);
    } finally {
      this.unlockAlloc();
      for (let s = 0; s < stripes; s++) if (reset[s] === 1) this.unlockStripe(s);
    }
    return count;
  }

  // ---------------------------------------------------------------- test hooks

  /** Test hook: takes the stripe lock of `key` and keeps it (simulates dying inside a set). */
  _testLockStripeOf(key: Uint8Array): number {
    const s = this.stripeOf(hashBytes(key, this.seed));
    this.lockStripe(s);
    return s;
  }

  /** Test hook: with that stripe locked, allocates memory a crashed set would leak. */
  _testLeakAllocation(key: Uint8Array, bytes: number): void {
    const s = this.stripeOf(hashBytes(key, this.seed));
    const ref = this.allocSlot(s, this.alloc.classFor(Math.min(bytes, PAGE)));
    if (ref === 0) throw new Error('no memory');
    for (let left = bytes - PAGE; left > 0; left -= PAGE) {
      if (this.allocPage(s, ref) < 0) throw new Error('no memory');
    }
  }

  /** Test hook: which stripe a key maps to. */
  _testStripeOf(key: Uint8Array): number {
    return this.stripeOf(hashBytes(key, this.seed));
  }
}
