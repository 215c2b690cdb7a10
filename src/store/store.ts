/**
 * `Store`: the shared store as the rest of the server sees it (`KvStore`), composed of its parts:
 * views of the buffer (views.ts), stripe and allocator locks (stripe-locks.ts), the per-stripe
 * index (key-index.ts), entry geometry (geometry.ts), copies (copy.ts), the entry list and freeing
 * (entries.ts), eviction (eviction.ts), interned content types (content-types.ts), expiry
 * (expiry.ts) and crash reclaim (reclaim.ts). The get and set paths stay here, in one function
 * each, so their hot loop is one piece of code for V8 to optimise; see also reservation.ts,
 * pins.ts, keyed-ops.ts. ETag: random 64-bit epoch XOR a per-stripe 64-bit version (README).
 */
import { EMPTY } from '../base/bytes.js';
import { endianness } from 'node:os';
import {
  PreconditionKind,
  ReadStatus,
  SetOutcome,
  type DeleteOutcome,
  type KvStore,
  type Precondition,
  type ReadResult,
  type Reservation,
  type ReserveOutcome,
  type StoreOptions,
  type StoreStats,
  type WriteResult,
} from './api.js';
import { ContentTypes } from './content-types.js';
import { Copier } from './copy.js';
import { Entries } from './entries.js';
import { Eviction } from './eviction.js';
import { Expiry } from './expiry.js';
import { Geometry, valueStart } from './geometry.js';
import { KeyIndex } from './key-index.js';
import {
  CT_BYTES_AT,
  E_EXPIRY,
  E_HASH,
  E_HEADER_BYTES,
  E_MISC,
  E_NEWER,
  E_OLDER,
  E_PINS,
  E_VALUE_LEN,
  E_VER_HI,
  E_VER_LO,
  EB_CT_REF,
  EB_FLAGS,
  F_LARGE,
  F_LINKED,
  F_TAIL_PAGE,
  F_VISITED,
  H_ENTRIES,
  PAGE,
  S_COUNT,
  S_LOCK,
  S_VER_HI,
  S_VER_LO,
  SF_EXPIRATIONS,
  SF_HITS,
  SF_MISSES,
  SF_PAYLOAD,
  SF_SETS,
  computeLayout,
} from './layout.js';
import { KeyedOps } from './keyed-ops.js';
import { lockWord, unlockWord } from './lock.js';
import { Pins } from './pins.js';
import { holdsAt } from './precondition.js';
import { purgeFor } from './purge.js';
import { reclaimOwner } from './reclaim.js';
import { StripeLocks } from './stripe-locks.js';
import { openReservation, reserveFor } from './reservation.js';
import { sumStats } from './stats.js';
import { checkWriteArgs } from './validate.js';
import { Views, formatBuffer } from './views.js';

if (endianness() !== 'LE') throw new Error('stripecache store: little-endian platforms only');

export class Store implements KvStore {
  readonly sab: SharedArrayBuffer;
  readonly ownerId: number;
  /** The parts, readable by test hooks and benchmarks (test/helpers/store-hooks.ts). */
  readonly views: Views;
  readonly locks: StripeLocks;
  readonly index: KeyIndex;
  readonly eviction: Eviction;
  readonly purgePrefix: KvStore['purgePrefix'] = (...step) => purgeFor(this, ...step);

  /** @internal parts reservation.ts works with (`ReservationParts`) */
  readonly entries: Entries;
  readonly copier: Copier;
  readonly cts: ContentTypes;
  readonly expiry: Expiry;
  /** Geometry of the entry being set or read. */
  private readonly g: Geometry;
  private readonly keyed: KeyedOps;
  private readonly pins: Pins;
  /** Slot the running set allocated and has not linked yet (0 = none): freed if the set throws. */
  private unlinked = 0;
  /** The running set holds a claim on the global entry count (released if it fails). */
  private claimed = false;

  /** The SharedArrayBuffer size for `opts`: always `opts.memory` (the budget is the buffer). */
  static bytesFor(opts: StoreOptions): number {
    computeLayout(opts);
    return opts.memory;
  }

  /** Allocates and formats the buffer; the caller (supervisor) is owner 0. */
  static create(opts: StoreOptions): Store {
    return new Store(formatBuffer(opts), 0);
  }

  /** A view of an existing store for a worker; `ownerId` is unique per live worker (>= 1). */
  static attach(sab: SharedArrayBuffer, ownerId: number): Store {
    if (!Number.isSafeInteger(ownerId) || ownerId < 0 || ownerId >= 2 ** 30) {
      throw new RangeError(`ownerId must be an integer from 0 to 2^30-1, got ${ownerId}`);
    }
    return new Store(sab, ownerId);
  }

  private constructor(sab: SharedArrayBuffer, ownerId: number) {
    const v = new Views(sab, ownerId + 1);
    this.sab = sab;
    this.ownerId = ownerId;
    this.views = v;
    this.locks = new StripeLocks(v);
    this.index = new KeyIndex(v);
    this.entries = new Entries(v, this.locks, this.index);
    this.eviction = new Eviction(v, this.locks, this.index, this.entries);
    this.copier = new Copier(v);
    this.cts = new ContentTypes(v, this.locks);
    this.expiry = new Expiry(v, this.locks, this.index, this.entries);
    this.g = new Geometry(v.alloc);
    this.pins = new Pins(v, this.entries);
    this.entries.pins = this.pins;
    this.keyed = new KeyedOps(v, this.locks, this.index, this.entries, this.expiry);
  }

  /** Milliseconds clock for TTLs; tests replace it. */
  get now(): () => number {
    return this.expiry.now;
  }

  set now(clock: () => number) {
    this.expiry.now = clock;
  }

  /** Stripe lock acquisitions by this instance that missed the fast path (benchmarks). */
  get contendedLocks(): number {
    return this.locks.contended;
  }

  set(
    key: Uint8Array,
    value: Uint8Array | readonly Uint8Array[],
    contentType: Uint8Array,
    ttlSeconds: number,
    pre?: Precondition,
    written?: WriteResult,
  ): SetOutcome {
    const v = this.views;
    const keyLen = key.length;
    let valueLen = 0;
    if (value instanceof Uint8Array) valueLen = value.length;
    else for (let i = 0; i < value.length; i++) valueLen += value[i]!.length;
    checkWriteArgs(key, contentType, ttlSeconds, valueLen, v.L.maxValueSize);
    const ctRef = this.cts.intern(contentType);
    const ctInline = ctRef === 0 ? 1 + contentType.length : 0;
    const g = this.g.measure(keyLen, ctInline, valueLen);
    // a head slot over one page (a page table for a value over ~1 GiB) or more pages than exist
    if (g.slotBytes > PAGE || g.nPages + 1 > v.numPages) return SetOutcome.TooLarge;
    // no call at all without a TTL: keeps set within V8's inlining budget (see below)
    const expiry = ttlSeconds > 0 ? this.expiry.deadlineFor(ttlSeconds) : 0;
    const index = this.index;
    const h = index.hashKey(key);
    const s = v.stripeOf(h);
    const u32 = v.u32;
    const u8 = v.u8;
    const f64 = v.f64;
    const sw = v.stripeWord(s);
    const sf = v.stripeF64(s);
    // the lock pair called directly, not via StripeLocks: two fewer inlined wrappers keep findLocked inlined
    const lw = sw + S_LOCK;
    if (lockWord(v.i32, lw, v.me, 'stripe')) this.locks.contended++;
    try {
      f64[sf + SF_SETS]++;
      let existed = false;
      const old = index.findLocked(s, h, keyLen);
      let ref = 0;
      if (old !== 0) {
        existed = !this.expiry.isExpired(old);
        if (!existed) f64[sf + SF_EXPIRATIONS]++;
      }
      if (pre !== undefined && pre.kind !== PreconditionKind.None && !holdsAt(v, pre, existed, old)) {
        f64[sf + SF_SETS]--;
        return SetOutcome.PreconditionFailed;
      }
      if (old !== 0) {
        if (!g.large && (u8[old * 8 + EB_FLAGS]! & F_LARGE) === 0 && v.alloc.classOfLiveRef(old) === g.cls) {
          // same slot class: overwrite in place under the stripe lock, no allocator round trip
          ref = old;
          f64[sf + SF_PAYLOAD] -= keyLen + u32[old * 2 + E_VALUE_LEN]!;
        } else {
          this.entries.removeLocked(s, old, index.foundSlot);
        }
      }
      const inPlace = ref !== 0;
      if (!inPlace) {
        while (u32[sw + S_COUNT]! >= v.stripeCap && this.eviction.evictOneLocked(s));
        // --max-keys, exact: claim a key in the global count; past the cap, evict one key first
        this.claimed = true;
        if (Atomics.add(u32, H_ENTRIES, 1) >= v.L.maxKeys && !this.eviction.evictForKeyLocked(s)) {
          return SetOutcome.Busy;
        }
        ref = this.eviction.allocSlotLocked(s, g.cls);
        if (ref === 0) return SetOutcome.TooLarge;
        u32[ref * 2 + E_NEWER] = 0;
        u32[ref * 2 + E_OLDER] = 0;
        u32[ref * 2 + E_PINS] = 0;
        this.unlinked = ref;
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
      // Key and inline type first: freeing the slot after a refused page measures the entry from them.
      if (!inPlace) u8.set(key, eb + E_HEADER_BYTES);
      if (ctRef === 0) {
        u8[eb + E_HEADER_BYTES + keyLen] = contentType.length;
        u8.set(contentType, eb + E_HEADER_BYTES + keyLen + 1);
      }
      if (written !== undefined) written.etagHi = (hi ^ v.epochHi) >>> 0;
      if (written !== undefined) written.etagLo = (lo ^ v.epochLo) >>> 0;
      if (g.large) {
        const pt = (eb + g.valueOff) >>> 2;
        const nPages = g.nPages;
        u32.fill(0xffffffff, pt, pt + nPages);
        for (let i = 0; i < nPages; i++) {
          const p = this.eviction.allocPageLocked(s, ref);
          if (p < 0) return SetOutcome.TooLarge; // the finally below frees the unlinked slot
          u32[pt + i] = p;
        }
      }
      if (value instanceof Uint8Array) {
        this.copier.copyIn(ref, g, 0, value);
      } else {
        let pos = 0;
        for (let i = 0; i < value.length; i++) {
          const c = value[i]!;
          if (c.length === 0) continue;
          this.copier.copyIn(ref, g, pos, c);
          pos += c.length;
        }
      }
      if (inPlace) {
        u8[eb + EB_FLAGS] = flags | F_LINKED | F_VISITED;
      } else {
        index.insertLocked(s, h, ref);
        this.entries.listPushLocked(s, ref);
        u8[eb + EB_FLAGS] = flags | F_LINKED;
        u32[sw + S_COUNT] = u32[sw + S_COUNT]! + 1;
        this.unlinked = 0;
        this.claimed = false; // the claim is this entry's count now
      }
      f64[sf + SF_PAYLOAD] += keyLen + valueLen;
      return existed ? SetOutcome.Replaced : SetOutcome.Created;
    } finally {
      // a throw (a lock timeout on pages or eviction) after allocating the slot, before linking: free it
      if (this.unlinked !== 0) {
        this.entries.freeEntrySafe(this.unlinked);
        this.unlinked = 0;
      }
      if (this.claimed) {
        this.claimed = false;
        Atomics.sub(u32, H_ENTRIES, 1);
      }
      unlockWord(v.i32, lw, v.me, 'stripe');
    }
  }

  get(key: Uint8Array, out: ReadResult): ReadStatus {
    const prevBody = out.body;
    out.body = EMPTY;
    out.pin = 0;
    out.bodyInTarget = false;
    if (out.views.length !== 0) out.views.length = 0;
    out.bodyStart = 0;
    out.bodyLength = 0;
    out.totalLength = 0;
    out.contentTypeLength = 0;
    out.etagHi = 0;
    out.etagLo = 0;
    const v = this.views;
    const index = this.index;
    const h = index.hashKey(key);
    const s = v.stripeOf(h);
    const sf = v.stripeF64(s);
    const f64 = v.f64;
    const lw = v.stripeWord(s) + S_LOCK; // lock pair called directly: see set
    if (lockWord(v.i32, lw, v.me, 'stripe')) this.locks.contended++;
    try {
      const ref = index.findLocked(s, h, key.length);
      if (ref === 0) {
        f64[sf + SF_MISSES]++;
        return (out.status = ReadStatus.Miss);
      }
      if (this.expiry.isExpired(ref)) {
        this.entries.removeLocked(s, ref, index.foundSlot);
        f64[sf + SF_EXPIRATIONS]++;
        f64[sf + SF_MISSES]++;
        return (out.status = ReadStatus.Miss);
      }
      f64[sf + SF_HITS]++;
      const u32 = v.u32;
      const u8 = v.u8;
      const copier = this.copier;
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
        copier.copyBytes(at + 1, n, out.contentType, 0);
        out.contentTypeOf = null;
        out.contentTypeLength = n;
        ctInline = 1 + n;
      } else {
        const at = this.cts.slotAt(ctRef);
        const n = u8[at]!;
        // interned types never change once published: skip the copy when `out` holds this one
        if (out.contentTypeOf !== this || out.contentTypeRef !== ctRef) {
          copier.copyBytes(at + CT_BYTES_AT, n, out.contentType, 0);
          out.contentTypeOf = this;
          out.contentTypeRef = ctRef;
        }
        out.contentTypeLength = n;
      }
      out.etagHi = (u32[ref * 2 + E_VER_HI]! ^ v.epochHi) >>> 0;
      out.etagLo = (u32[ref * 2 + E_VER_LO]! ^ v.epochLo) >>> 0;
      out.totalLength = total;
      let start = 0;
      let len = total;
      let status: ReadStatus = ReadStatus.Hit;
      const sel = out.select;
      if (sel !== null) {
        status = sel.select(out);
        if (status === ReadStatus.NotModified || status === ReadStatus.RangeNotSatisfiable) {
          return (out.status = status);
        }
        if (status === ReadStatus.Partial) {
          start = out.bodyStart;
          len = out.bodyLength;
          // the copy below trusts this span: a bad one would read another entry's bytes
          if (!(start >= 0 && len >= 0 && start + len <= total)) {
            throw new RangeError(`selected span ${start}+${len} is outside a value of ${total} bytes`);
          }
        }
      }
      out.bodyStart = start;
      out.bodyLength = len;
      if (out.wantBody && len > 0) {
        const large = (f & F_LARGE) !== 0;
        const g = large ? this.g.measure(keyLen, ctInline, total) : null;
        // pinned: views of the buffer, no copy under the lock (pins.ts)
        if (g !== null && out.wantView && this.pins.pinLocked(ref, g, start, len, out)) {
          return (out.status = status);
        }
        const from = eb + valueStart(keyLen, ctInline, total) + start;
        const t = out.target;
        if (t !== null && out.targetOffset >= 0 && out.targetOffset + len <= t.length) {
          const at = out.targetOffset;
          if (g !== null) copier.copyOutLarge(ref, g, start, len, t, at);
          else copier.copyBytes(from, len, t, at);
          out.bodyInTarget = true;
          // a view only when asked for; the previous one is reused when it spans these bytes
          const same = prevBody === out.bodyView && out.bodyViewTarget === t && out.bodyViewAt === at;
          if (!out.wantBodyView) out.body = EMPTY;
          else if (same && prevBody.length === len) out.body = prevBody;
          else {
            const b = t.subarray(at, at + len);
            out.body = b;
            out.bodyView = b;
            out.bodyViewTarget = t;
            out.bodyViewAt = at;
          }
        } else {
          const b = Buffer.allocUnsafe(len);
          if (g !== null) copier.copyOutLarge(ref, g, start, len, b, 0);
          else copier.copyBytes(from, len, b, 0);
          out.body = b;
        }
      }
      return (out.status = status);
    } finally {
      unlockWord(v.i32, lw, v.me, 'stripe');
    }
  }

  delete(key: Uint8Array, pre?: Precondition): DeleteOutcome {
    return this.keyed.delete(key, pre);
  }

  check(key: Uint8Array, pre: Precondition): boolean {
    return this.keyed.check(key, pre);
  }

  reserve(key: Uint8Array, length: number, contentType: Uint8Array, ttlSeconds: number): ReserveOutcome {
    return reserveFor(this, key, length, contentType, ttlSeconds);
  }

  openReservation(id: number): Reservation | null {
    return openReservation(this, id);
  }

  unpin(pin: number): void {
    this.pins.unpin(pin);
  }

  stats(): StoreStats {
    return sumStats(this.views);
  }

  /** Reclaims expired entries in up to `maxStripes` stripes, round robin, a bounded scan each (expiry.ts). */
  sweepExpired(maxStripes: number): number {
    return this.expiry.sweep(maxStripes);
  }

  /**
   * After worker `ownerId` died: each stripe whose lock names it is emptied and unlocked, a held allocator
   * lock taken over and the allocator rebuilt (see reclaim.ts). Returns how many stripes were reset.
   */
  reclaimOwner(ownerId: number): number {
    return reclaimOwner(this.views, this.locks, this.index, this.entries, this.pins, ownerId);
  }
}
