/**
 * ReservationHandles: an upload (or a read-through fill) writes straight into unpublished store memory.
 *
 * `reserve` allocates the entry's slot and pages under the key's stripe lock (evicting to make
 * room) but links nothing: the slot and pages are tagged with the pseudo-stripe `stripes`, so no
 * eviction, expiry sweep or stripe reset touches them, and E_OLDER names the owner so
 * `reclaimOwner` frees a dead thread's. `write` copies body chunks in with no lock at all (only
 * the owner writes; nothing else reads an unpublished entry but `readInto`). `publish` takes the
 * stripe lock only to check the precondition, unlink the old entry and link the new one: the new
 * value is visible only once complete, and the old one stays readable and intact until then.
 *
 * Budget: a reservation's slot and pages count in bytes used like any entry; H_RESV_BYTES counts
 * what reservations hold, so a reserve that cannot get memory answers Busy (503, retry) when
 * reservations in flight hold it and TooLarge (507) when they do not.
 */
import {
  PreconditionKind,
  SetOutcome,
  type Precondition,
  type Reservation,
  type WriteResult,
} from './api.js';
import type { ContentTypes } from './content-types.js';
import type { Copier } from './copy.js';
import type { Entries } from './entries.js';
import type { Eviction } from './eviction.js';
import type { Expiry } from './expiry.js';
import { Geometry } from './geometry.js';
import type { KeyIndex } from './key-index.js';
import {
  E_EXPIRY,
  E_HASH,
  E_HEADER_BYTES,
  E_MISC,
  E_NEWER,
  E_OLDER,
  E_PINS,
  E_TAG,
  E_VALUE_LEN,
  E_VER_HI,
  E_VER_LO,
  EB_CT_REF,
  EB_FLAGS,
  F_LARGE,
  F_LINKED,
  F_RESERVED,
  F_TAIL_PAGE,
  H_ENTRIES,
  H_RESV_BYTES,
  H_RESV_COUNT,
  PAGE,
  S_COUNT,
  S_LOCK,
  S_VER_HI,
  S_VER_LO,
  SF_EXPIRATIONS,
  SF_PAYLOAD,
  SF_SETS,
} from './layout.js';
import { lockWord, unlockWord } from './lock.js';
import { checkWriteArgs } from './validate.js';
import { holdsAt } from './precondition.js';
import type { StripeLocks } from './stripe-locks.js';
import type { Views } from './views.js';

/** The store's parts a reservation works with. */
export interface ReservationParts {
  readonly views: Views;
  readonly locks: StripeLocks;
  readonly index: KeyIndex;
  readonly entries: Entries;
  readonly eviction: Eviction;
  readonly copier: Copier;
  readonly cts: ContentTypes;
  readonly expiry: Expiry;
}

/** Bytes of the budget an entry of geometry `g` holds (slot class + whole pages). */
function heldBytes(p: ReservationParts, g: Geometry): number {
  return p.views.alloc.classSize[g.cls]! + g.nPages * PAGE;
}

/**
 * One unpublished entry. `id` (the entry ref) re-opens it read-only from another thread
 * (`KvStore.openReservationHandle`). After publish or abort the object is spent (`open` false).
 */
export class ReservationHandle implements Reservation {
  /** Entry ref: the id another thread re-opens it by; 0 once published or aborted. */
  id = 0;
  /** Bytes the entry holds room for (the declared Content-Length, or the current step). */
  length = 0;
  private readonly g: Geometry;
  private readonly key: Uint8Array;
  private contentType: Uint8Array;

  /** @internal made by `reserve` / `open` */
  constructor(
    private readonly p: ReservationParts,
    key: Uint8Array,
    contentType: Uint8Array,
    private readonly ttlSeconds: number,
    /** false for a re-opened reservation: reading only */
    readonly writable: boolean,
  ) {
    this.g = new Geometry(p.views.alloc);
    this.key = Uint8Array.from(key);
    // Copied like the key: the caller's bytes are a view of a read buffer that the next read
    // reuses, and grow()/publish() re-reserve with them after the head is gone.
    this.contentType = Uint8Array.from(contentType);
  }

  get open(): boolean {
    return this.id !== 0;
  }

  /** Copies `chunk` to value offset `offset`; no lock (only the owner writes). */
  write(chunk: Uint8Array, offset: number): void {
    if (!this.writable || this.id === 0) throw new Error('reservation: not open for writing');
    if (!(offset >= 0 && offset + chunk.length <= this.length)) {
      throw new RangeError(`reservation: ${chunk.length} bytes at ${offset} overrun ${this.length}`);
    }
    if (chunk.length !== 0) this.p.copier.copyIn(this.id, this.g, offset, chunk);
  }

  /** Copies bytes already written (value offsets) into `target`. */
  readInto(offset: number, length: number, target: Uint8Array, targetOffset: number): void {
    if (this.id === 0) throw new Error('reservation: closed');
    if (!(offset >= 0 && length >= 0 && offset + length <= this.length)) {
      throw new RangeError(`reservation: span ${offset}+${length} outside ${this.length}`);
    }
    if (length === 0) return;
    const g = this.g;
    if (g.large) this.p.copier.copyOutLarge(this.id, g, offset, length, target, targetOffset);
    else this.p.copier.copyBytes(this.id * 8 + g.valueOff + offset, length, target, targetOffset);
  }

  /**
   * Room for `newLength` bytes (chunked bodies reserve in steps): a new entry of that size, the
   * bytes so far copied over, the old one freed. false (this one unchanged) when the store cannot
   * hold it; the caller answers 507 (or 503 when `lastRefusal` is Busy).
   */
  grow(newLength: number): boolean {
    if (newLength <= this.length) return true;
    const next = reserveFor(this.p, this.key, newLength, this.contentType, this.ttlSeconds);
    if (!(next instanceof ReservationHandle)) {
      this.lastRefusal = next;
      return false;
    }
    copyBetween(this, next, this.length);
    this.abort();
    this.id = next.id;
    this.length = next.length;
    this.g.measure(this.key.length, ctInlineOf(this.p, this.id), newLength);
    next.id = 0; // handed over: `next` must not free it
    return true;
  }

  /** Why the last grow failed: TooLarge or Busy. */
  lastRefusal: SetOutcome = SetOutcome.TooLarge;

  /**
   * Makes the value (its first `finalLength` bytes) the key's current value, checking `pre`
   * atomically under the stripe lock. Any outcome but Created/Replaced frees the reservation
   * and leaves the old value as it was.
   */
  publish(finalLength: number, pre?: Precondition, written?: WriteResult): SetOutcome {
    if (!this.writable || this.id === 0) throw new Error('reservation: not open for publishing');
    if (!(finalLength >= 0 && finalLength <= this.length)) {
      throw new RangeError(`reservation: final length ${finalLength} over ${this.length}`);
    }
    if (finalLength !== this.length) {
      // a chunked body ended inside its last step: the value's layout depends on its length
      const exact = reserveFor(this.p, this.key, finalLength, this.contentType, this.ttlSeconds);
      if (!(exact instanceof ReservationHandle)) {
        this.abort();
        return exact;
      }
      copyBetween(this, exact, finalLength);
      this.abort();
      return exact.publish(finalLength, pre, written);
    }
    return this.link(pre, written);
  }

  private link(pre: Precondition | undefined, written: WriteResult | undefined): SetOutcome {
    const { views: v, index, entries, eviction, expiry } = this.p;
    const u32 = v.u32;
    const ref = this.id;
    const key = this.key;
    const h = index.hashKey(key);
    const s = v.stripeOf(h);
    const sw = v.stripeWord(s);
    const sf = v.stripeF64(s);
    let outcome: SetOutcome = SetOutcome.Created;
    lockWord(v.i32, sw + S_LOCK, v.me, 'stripe');
    try {
      const old = index.findLocked(s, h, key.length);
      let existed = false;
      if (old !== 0) {
        existed = !expiry.isExpired(old);
        if (!existed) v.f64[sf + SF_EXPIRATIONS]++;
      }
      if (pre !== undefined && pre.kind !== PreconditionKind.None && !holdsAt(v, pre, existed, old)) {
        outcome = SetOutcome.PreconditionFailed;
        return outcome;
      }
      // --max-keys: a replaced key frees its own count (removed below, before linking)
      if (Atomics.add(u32, H_ENTRIES, 1) >= v.L.maxKeys && old === 0 && !eviction.evictForKeyLocked(s)) {
        Atomics.sub(u32, H_ENTRIES, 1);
        outcome = SetOutcome.Busy;
        return outcome;
      }
      if (old !== 0) entries.removeLocked(s, old, index.foundSlot);
      const g = this.g;
      this.p.locks.lockAllocator();
      try {
        v.alloc.retagLocked(ref, s, (ref * 8 + g.valueOff) >>> 2, g.large ? g.nPages : 0);
      } finally {
        this.p.locks.unlockAllocator();
      }
      const lo = (u32[sw + S_VER_LO]! + 1) >>> 0;
      let hi = u32[sw + S_VER_HI]!;
      if (lo === 0) hi = (hi + 1) >>> 0;
      u32[sw + S_VER_LO] = lo;
      u32[sw + S_VER_HI] = hi;
      u32[ref * 2 + E_VER_LO] = lo;
      u32[ref * 2 + E_VER_HI] = hi;
      if (written !== undefined) {
        written.etagHi = (hi ^ v.epochHi) >>> 0;
        written.etagLo = (lo ^ v.epochLo) >>> 0;
      }
      u32[ref * 2 + E_EXPIRY] = this.ttlSeconds > 0 ? expiry.deadlineFor(this.ttlSeconds) : 0;
      const fb = ref * 8 + EB_FLAGS;
      v.u8[fb] = (v.u8[fb]! & ~F_RESERVED) | F_LINKED;
      index.insertLocked(s, h, ref);
      entries.listPushLocked(s, ref);
      u32[sw + S_COUNT] = u32[sw + S_COUNT]! + 1;
      v.f64[sf + SF_SETS]++;
      v.f64[sf + SF_PAYLOAD] += key.length + this.length;
      Atomics.sub(u32, H_RESV_BYTES, heldBytes(this.p, g));
      Atomics.sub(u32, H_RESV_COUNT, 1);
      this.id = 0;
      outcome = existed ? SetOutcome.Replaced : SetOutcome.Created;
      return outcome;
    } finally {
      unlockWord(v.i32, sw + S_LOCK, v.me, 'stripe');
      if (this.id !== 0) this.abort();
    }
  }

  /** Frees the reservation; the key's old value (if any) was never touched. Idempotent. */
  abort(): void {
    const ref = this.id;
    if (ref === 0 || !this.writable) return;
    this.id = 0;
    const u32 = this.p.views.u32;
    Atomics.sub(u32, H_RESV_BYTES, heldBytes(this.p, this.g));
    Atomics.sub(u32, H_RESV_COUNT, 1);
    this.p.entries.freeEntrySafe(ref);
  }

  /** @internal binds this object to a freshly reserved or re-opened entry */
  bind(ref: number, length: number): void {
    this.id = ref;
    this.length = length;
    this.g.measure(this.key.length, ctInlineOf(this.p, ref), length);
  }
}

function ctInlineOf(p: ReservationParts, ref: number): number {
  const u8 = p.views.u8;
  const keyLen = p.views.u32[ref * 2 + E_MISC]! & 0xffff;
  return u8[ref * 8 + EB_CT_REF] === 0 ? 1 + u8[ref * 8 + E_HEADER_BYTES + keyLen]! : 0;
}

/** Copies the first `n` value bytes of `from` into `to` through a bounded private buffer. */
function copyBetween(from: ReservationHandle, to: ReservationHandle, n: number): void {
  const buf = Buffer.allocUnsafe(Math.min(n, PAGE));
  for (let at = 0; at < n; at += buf.length) {
    const len = Math.min(buf.length, n - at);
    from.readInto(at, len, buf, 0);
    to.write(buf.subarray(0, len), at);
  }
}

/** `KvStore.reserve`: see the file comment. */
export function reserveFor(
  p: ReservationParts,
  key: Uint8Array,
  length: number,
  contentType: Uint8Array,
  ttlSeconds: number,
): ReservationHandle | typeof SetOutcome.TooLarge | typeof SetOutcome.Busy {
  const v = p.views;
  const keyLen = key.length;
  checkWriteArgs(key, contentType, ttlSeconds, length, v.L.maxValueSize);
  const ctRef = p.cts.intern(contentType);
  const ctInline = ctRef === 0 ? 1 + contentType.length : 0;
  const r = new ReservationHandle(p, key, contentType, ttlSeconds, true);
  const g = new Geometry(v.alloc).measure(keyLen, ctInline, length);
  if (g.slotBytes > PAGE || g.nPages + 1 > v.numPages) return SetOutcome.TooLarge;
  const pseudo = v.L.stripes;
  const h = p.index.hashKey(key);
  const s = v.stripeOf(h);
  const u32 = v.u32;
  const u8 = v.u8;
  const lw = v.stripeWord(s) + S_LOCK;
  let ref = 0;
  let ok = false;
  lockWord(v.i32, lw, v.me, 'stripe');
  try {
    ref = p.eviction.allocSlotLocked(s, g.cls, pseudo);
    if (ref === 0) return refusal(v);
    const eb = ref * 8;
    const flags = (g.large ? F_LARGE : 0) | (g.tailPage ? F_TAIL_PAGE : 0) | F_RESERVED;
    u32[ref * 2 + E_NEWER] = 0;
    u32[ref * 2 + E_OLDER] = v.me; // owner, for reclaimOwner
    u32[ref * 2 + E_PINS] = 0;
    u32[ref * 2 + E_HASH] = h;
    u32[ref * 2 + E_VALUE_LEN] = length;
    u32[ref * 2 + E_MISC] = keyLen | (ctRef << 16) | (flags << 24);
    u32[ref * 2 + E_EXPIRY] = 0;
    // Key and inline type first: freeing the slot after a refused page measures the entry from them.
    u8.set(key, eb + E_HEADER_BYTES);
    if (ctRef === 0) {
      u8[eb + E_HEADER_BYTES + keyLen] = contentType.length;
      u8.set(contentType, eb + E_HEADER_BYTES + keyLen + 1);
    }
    if (g.large) {
      const pt = (eb + g.valueOff) >>> 2;
      u32.fill(0xffffffff, pt, pt + g.nPages);
      for (let i = 0; i < g.nPages; i++) {
        const page = p.eviction.allocPageLocked(s, ref, pseudo);
        if (page < 0) return refusal(v);
        u32[pt + i] = page;
      }
    }
    Atomics.add(u32, H_RESV_BYTES, heldBytes(p, g));
    Atomics.add(u32, H_RESV_COUNT, 1);
    ok = true;
  } finally {
    unlockWord(v.i32, lw, v.me, 'stripe');
    if (!ok && ref !== 0) p.entries.freeEntrySafe(ref);
  }
  r.bind(ref, length);
  return r;
}

/** No memory: Busy when reservations in flight hold budget (they will publish or abort), else TooLarge. */
function refusal(v: Views): typeof SetOutcome.TooLarge | typeof SetOutcome.Busy {
  return Atomics.load(v.u32, H_RESV_BYTES) > 0 ? SetOutcome.Busy : SetOutcome.TooLarge;
}

/** `KvStore.openReservationHandle`: a read-only handle on another thread's reservation, or null. */
export function openReservation(p: ReservationParts, id: number): ReservationHandle | null {
  const v = p.views;
  if (!Number.isSafeInteger(id) || id * 8 < v.L.data || id * 8 >= v.L.memory) return null;
  if (Atomics.load(v.u32, id * 2 + E_TAG) !== v.L.stripes + 1) return null;
  if ((v.u8[id * 8 + EB_FLAGS]! & F_RESERVED) === 0) return null;
  const keyLen = v.u32[id * 2 + E_MISC]! & 0xffff;
  const key = v.u8.subarray(id * 8 + E_HEADER_BYTES, id * 8 + E_HEADER_BYTES + keyLen);
  const r = new ReservationHandle(p, key, new Uint8Array(0), 0, false);
  r.bind(id, v.u32[id * 2 + E_VALUE_LEN]!);
  return r;
}
