/**
 * Making room, in ONE eviction order over the whole store. Each stripe keeps its SIEVE list (FIFO
 * by insertion, a hand walking from oldest to newest, visited bits), and every entry carries the
 * global insertion sequence it was linked with (E_SEQ), so entries of different stripes compare
 * by age. A victim (`evictGlobalLocked`, the set's stripe s locked):
 *
 * - when s's SIEVE candidate (the first unvisited entry from its hand) is NOT s's oldest entry,
 *   the hand has passed older entries that SIEVE spared because they were hit: s's own SIEVE
 *   victim is evicted (SIEVE's quick demotion of new entries that got no hit: its hit ratio);
 * - so is it when the candidate is older than the store's entry count in insertions (exact FIFO,
 *   which SIEVE is without hits, would have evicted it too): no sampling for a balanced stream;
 * - else s has nothing older than its candidate, which may be new (a stripe holding one or two
 *   big values): s and `sample - 1` random other stripes (try-locked only, never blocking on a
 *   second stripe, so the lock order in stripe-locks.ts holds; at most two held besides s) offer
 *   their candidates and the OLDEST by sequence is evicted, by its stripe's SIEVE step.
 *
 * The approximation, stated: an exact global SIEVE evicts the first unvisited entry in front of one
 * global hand. Here (1) the oldest of `sample` stripes' candidates stands for the oldest of all
 * (uniform hashing: the chance that no sampled stripe offers an entry older than the newest share
 * f of the store is about f^8), (2) each stripe's hand walks its own list, so hands advance
 * together only on average, and a hand past spared entries decides alone, (3) a peek looks past at
 * most `peek` visited entries, and (4) the sequence is 32 bits, compared as an age modulo 2^32 (an
 * entry that outlives 2^31 newer insertions looks new again). Measured: bench/store/order.mjs
 * (write-only streams against exact global FIFO, which is what SIEVE is without hits) and
 * bench/store/sieve.mjs (Zipf miss ratio against exact LRU and exact global SIEVE).
 *
 * Pages: evicting a large value frees its pages at once (when pinned: at its last unpin). The
 * oldest entries may be small, and their slots free no page until their slab page is empty; only
 * after SLOT_TRIES / PAGE_TRIES evictions in order without a free page is the rest of the last
 * victim's slab page evicted, one entry at a time, stopping as soon as a page is free. A large
 * value's head frees its own pages, so it never takes its slab page's neighbours with it: no page's
 * worth of unrelated entries goes to free one page. Slot and page allocation retry through here
 * until the allocator succeeds. Every `...Locked` method needs the lock of stripe `s` held.
 */
import type { Entries } from './entries.js';
import type { KeyIndex } from './key-index.js';
import {
  E_HASH,
  E_NEWER,
  E_SEQ,
  E_TAG,
  EB_FLAGS,
  F_LARGE,
  F_LINKED,
  F_VISITED,
  H_ENTRIES,
  H_PAGE_CURSOR,
  H_SEQ,
  KIND_LARGE,
  KIND_SHIFT,
  KIND_SLAB,
  S_HAND,
  S_TAIL,
  SF_EVICTIONS,
} from './layout.js';
import type { StripeLocks } from './stripe-locks.js';
import type { Views } from './views.js';

/** Stripes offering a candidate per eviction (the set's own one included). */
const SAMPLE = 8;
/** Visited entries a candidate peek looks past (reading only) before it settles for the next one. */
const PEEK_MAX = 32;
/** Evictions in global order per allocation before the slab page of the last victim is emptied. */
const SLOT_TRIES = 256;
const PAGE_TRIES = 256;
/** Passes over the other stripes looking for a key to evict when the key cap is reached. */
const KEY_EVICT_ROUNDS = 8;

export class Eviction {
  /** Stripes sampled per eviction, and the peek bound; benchmarks vary them (bench/store/*.mjs). */
  sample = SAMPLE;
  peek = PEEK_MAX;
  /** Set by candidateAgeLocked: the candidate is its stripe's oldest entry. */
  private candidateIsOldest = false;
  private otherCursor = 0;
  private rnd: number;
  /** The page and kind of the last entry `evictGlobalLocked` evicted. */
  private lastPage = -1;
  private lastLarge = false;

  constructor(
    private readonly v: Views,
    private readonly locks: StripeLocks,
    private readonly index: KeyIndex,
    private readonly entries: Entries,
  ) {
    this.rnd = ((Math.random() * 0x100000000) ^ Math.imul(v.me, 0x9e3779b9)) >>> 0 || 1;
  }

  /** SIEVE: evicts one entry of stripe s; false when the stripe is empty. */
  evictOneLocked(s: number): boolean {
    const { u8, u32 } = this.v;
    const sw = this.v.stripeWord(s);
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
    this.lastPage = this.v.alloc.pageOfRef(hand);
    this.lastLarge = (u8[hand * 8 + EB_FLAGS]! & F_LARGE) !== 0;
    this.entries.removeLocked(s, hand, this.index.slotOfRefLocked(s, u32[hand * 2 + E_HASH]!, hand));
    this.v.f64[this.v.stripeF64(s) + SF_EVICTIONS]++;
    return true;
  }

  /**
   * Age (global sequences since it was linked) of stripe t's SIEVE candidate: the first unvisited
   * entry from its hand, looking past at most `peek` visited ones; -1 when t is empty. Reads only
   * (t's lock held): the visited bits are cleared by the SIEVE step of the stripe that is chosen.
   */
  private candidateAgeLocked(t: number, now: number): number {
    const { u8, u32 } = this.v;
    const sw = this.v.stripeWord(t);
    let hand = u32[sw + S_HAND]!;
    if (hand === 0) hand = u32[sw + S_TAIL]!;
    if (hand === 0) return -1;
    for (let i = 0; i < this.peek && (u8[hand * 8 + EB_FLAGS]! & F_VISITED) !== 0; i++) {
      const next = u32[hand * 2 + E_NEWER]!;
      hand = next !== 0 ? next : u32[sw + S_TAIL]!;
    }
    this.candidateIsOldest = hand === u32[sw + S_TAIL];
    // an entry another thread linked after `now` was read is the newest there is, not 2^32 old
    const age = (now - u32[hand * 2 + E_SEQ]!) | 0;
    return age < 0 ? 0 : age;
  }

  private randomStripe(): number {
    let x = this.rnd;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rnd = x >>> 0;
    return this.rnd & (this.v.L.stripes - 1);
  }

  /**
   * One eviction in the global order (see the file comment): the oldest candidate of stripe s and
   * `sample - 1` randomly chosen, try-locked other stripes; false when none offered one. Holds at
   * most two stripe locks besides s's, both only try-locked.
   */
  evictGlobalLocked(s: number): boolean {
    const n = this.v.L.stripes;
    const u32 = this.v.u32;
    const now = Atomics.load(u32, H_SEQ);
    let bestAge = this.candidateAgeLocked(s, now);
    // The hand passed older entries of this stripe (spared: they were visited): SIEVE's own
    // choice here, the quick demotion of a new entry that got no hit, is what keeps its hit ratio
    // So is a candidate older than the store's entry count: exact FIFO would have evicted it too
    if ((bestAge >= 0 && (!this.candidateIsOldest || bestAge >= Atomics.load(u32, H_ENTRIES))) || n === 1) {
      return bestAge >= 0 && this.evictOneLocked(s);
    }
    let best = bestAge >= 0 ? s : -1;
    let held = -1; // the best other stripe so far, kept locked until the eviction
    try {
      // `sample` candidates: empty or busy stripes do not count, up to 4x as many looks
      let found = best >= 0 ? 1 : 0;
      for (let k = 1; found < this.sample && k < 4 * this.sample; k++) {
        const t = this.randomStripe();
        if (t === s || t === held || !this.locks.tryLockStripe(t)) continue;
        const age = this.candidateAgeLocked(t, now);
        if (age >= 0) found++;
        if (age > bestAge) {
          if (held >= 0) this.locks.unlockStripe(held);
          held = t;
          best = t;
          bestAge = age;
        } else {
          this.locks.unlockStripe(t);
        }
      }
      return best >= 0 && this.evictOneLocked(best);
    } finally {
      if (held >= 0) this.locks.unlockStripe(held);
    }
  }

  /** Any stripe's SIEVE victim, round robin over the try-locked other stripes (sampling found none). */
  private evictAnyLocked(s: number): boolean {
    if (this.evictOneLocked(s)) return true;
    const n = this.v.L.stripes;
    for (let k = 1; k < n; k++) {
      const t = (s + k + this.otherCursor++) & (n - 1);
      if (t === s || !this.locks.tryLockStripe(t)) continue;
      let ok: boolean;
      try {
        ok = this.evictOneLocked(t);
      } finally {
        this.locks.unlockStripe(t);
      }
      if (ok) return true;
    }
    return false;
  }

  /**
   * Makes room for one more key under `--max-keys`: one victim in the global order, else any
   * stripe's (try-locked, a bounded number of rounds); false when none could be evicted.
   */
  evictForKeyLocked(s: number): boolean {
    if (this.evictGlobalLocked(s)) return true;
    for (let round = 0; round < KEY_EVICT_ROUNDS; round++) if (this.evictAnyLocked(s)) return true;
    return false;
  }

  /** Evicts entry `ref` believed to belong to stripe t, if it really is a linked entry of t. */
  private evictRefLocked(s: number, t: number, ref: number): boolean {
    const v = this.v;
    if (t >= v.L.stripes) return false;
    if (t !== s && !this.locks.tryLockStripe(t)) return false;
    try {
      if (Atomics.load(v.u32, ref * 2 + E_TAG) !== t + 1) return false;
      if ((v.u8[ref * 8 + EB_FLAGS]! & F_LINKED) === 0) return false;
      const h = v.u32[ref * 2 + E_HASH]!;
      if (v.stripeOf(h) !== t) return false;
      const slot = this.index.slotOfRefLocked(t, h, ref);
      if (slot < 0) return false;
      this.entries.removeLocked(t, ref, slot);
      v.f64[v.stripeF64(t) + SF_EVICTIONS]++;
      return true;
    } finally {
      if (t !== s) this.locks.unlockStripe(t);
    }
  }

  /**
   * Evicts the entries of slab page p one at a time (each under a try-lock of its stripe) until a
   * page is free; true when any was evicted. A large value's head frees its own pages, so it
   * never takes its slab page's neighbours with it.
   */
  private evictSlabPageLocked(s: number, p: number): boolean {
    const v = this.v;
    const a = v.alloc;
    const meta = a.meta(p);
    if (meta >>> KIND_SHIFT !== KIND_SLAB) return false;
    const cls = meta & 0xffffff;
    const bump = a.bump(p);
    let any = false;
    for (let j = 0; j < bump && j < a.perPage[cls]! && a.poolCount() === 0; j++) {
      const ref = a.slotRef(p, cls, j);
      const tag = Atomics.load(v.u32, ref * 2 + E_TAG);
      if (tag !== 0 && this.evictRefLocked(s, tag - 1, ref)) any = true;
    }
    return any;
  }

  /**
   * Last resort when no stripe offered a victim (all empty or locked by others): pages in address
   * order, the owner of a large page, or a slab page's entries until a page is free.
   */
  private evictPageLocked(s: number): boolean {
    const v = this.v;
    const a = v.alloc;
    for (let scanned = 0; scanned < v.numPages; scanned++) {
      const p = Atomics.add(v.u32, H_PAGE_CURSOR, 1) % v.numPages;
      const meta = a.meta(p);
      const kind = meta >>> KIND_SHIFT;
      if (kind === KIND_LARGE) {
        if (this.evictRefLocked(s, meta & 0xffffff, a.largeOwner(p))) return true;
      } else if (kind === KIND_SLAB) {
        if (this.evictSlabPageLocked(s, p)) return true;
      } else {
        return true; // a page is free now: retry the allocation
      }
    }
    return false;
  }

  /**
   * One step of making room for stripe s (see the file comment); false when nothing more can be
   * freed. Attempts count from 0 for one allocation.
   */
  private makeRoomLocked(s: number, attempt: number, forPage: boolean): boolean {
    if (this.evictGlobalLocked(s)) {
      // `tries` evictions of small entries freed no page: empty the last victim's slab page
      if (attempt >= (forPage ? PAGE_TRIES : SLOT_TRIES) && !this.lastLarge && this.lastPage >= 0) {
        this.evictSlabPageLocked(s, this.lastPage);
      }
      return true;
    }
    if (this.evictAnyLocked(s)) return true;
    return this.evictPageLocked(s);
  }

  /**
   * A slab slot of class `cls` tagged with stripe `tag` (s unless a reservation's), evicting as
   * needed; 0 when none can be had.
   */
  allocSlotLocked(s: number, cls: number, tag = s): number {
    const v = this.v;
    for (let attempt = 0; ; attempt++) {
      this.locks.lockAllocator();
      let ref: number;
      try {
        ref = v.alloc.allocSlotLocked(cls, tag + 1);
      } finally {
        this.locks.unlockAllocator();
      }
      if (ref !== 0) return ref;
      if (attempt > 64 + 2 * v.numPages || !this.makeRoomLocked(s, attempt, false)) return 0;
    }
  }

  /** A data page owned by entry `owner` (tagged like allocSlotLocked), evicting; -1 when none can be had. */
  allocPageLocked(s: number, owner: number, tag = s): number {
    const v = this.v;
    for (let attempt = 0; ; attempt++) {
      this.locks.lockAllocator();
      let p: number;
      try {
        p = v.alloc.allocPageLocked(tag, owner);
      } finally {
        this.locks.unlockAllocator();
      }
      if (p >= 0) return p;
      if (attempt > 64 + 2 * v.numPages || !this.makeRoomLocked(s, attempt, true)) return -1;
    }
  }
}
