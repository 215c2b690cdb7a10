/**
 * Making room: per-stripe SIEVE eviction (the hand walks from oldest to newest, sparing and
 * clearing visited entries), eviction from other stripes (try-locked only, never blocking on a
 * second stripe), and freeing a whole page's worth of entries when per-entry eviction cannot
 * produce a page. Slot and page allocation retry through here until the allocator succeeds.
 * Every `...Locked` method needs the lock of stripe `s` held.
 */
import type { Entries } from './entries.js';
import type { KeyIndex } from './key-index.js';
import {
  E_HASH,
  E_NEWER,
  E_TAG,
  EB_FLAGS,
  F_LINKED,
  F_VISITED,
  H_PAGE_CURSOR,
  KIND_LARGE,
  KIND_SHIFT,
  KIND_SLAB,
  S_HAND,
  S_TAIL,
  SF_EVICTIONS,
} from './layout.js';
import type { StripeLocks } from './stripe-locks.js';
import type { Views } from './views.js';

/** SIEVE evictions tried in the set's own stripe, then in other stripes, before evicting pages. */
const OWN_SIEVE_TRIES = 16;
const OTHER_SIEVE_TRIES = 16;
/** Passes over the other stripes looking for a key to evict when the key cap is reached. */
const KEY_EVICT_ROUNDS = 8;

export class Eviction {
  private otherCursor = 0;

  constructor(
    private readonly v: Views,
    private readonly locks: StripeLocks,
    private readonly index: KeyIndex,
    private readonly entries: Entries,
  ) {}

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
    this.entries.removeLocked(s, hand, this.index.slotOfRefLocked(s, u32[hand * 2 + E_HASH]!, hand));
    this.v.f64[this.v.stripeF64(s) + SF_EVICTIONS]++;
    return true;
  }

  /**
   * Makes room for one more key under `--max-keys`: one SIEVE victim of stripe s, else of another
   * stripe (try-locked, a bounded number of rounds); false when none could be evicted.
   */
  evictForKeyLocked(s: number): boolean {
    if (this.evictOneLocked(s)) return true;
    const n = this.v.L.stripes;
    for (let round = 0; round < KEY_EVICT_ROUNDS; round++) {
      for (let k = 1; k < n; k++) {
        const t = (s + k) & (n - 1);
        if (!this.locks.tryLockStripe(t)) continue;
        let ok: boolean;
        try {
          ok = this.evictOneLocked(t);
        } finally {
          this.locks.unlockStripe(t);
        }
        if (ok) return true;
      }
    }
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

  /** Frees a whole page's worth of entries when per-entry eviction cannot produce a page. */
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
        const cls = meta & 0xffffff;
        const bump = a.bump(p);
        let any = false;
        for (let j = 0; j < bump && j < a.perPage[cls]!; j++) {
          const ref = a.slotRef(p, cls, j);
          const tag = Atomics.load(v.u32, ref * 2 + E_TAG);
          if (tag === 0) continue;
          if (!this.evictRefLocked(s, tag - 1, ref)) break;
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
  private makeRoomLocked(s: number, attempt: number, forPage: boolean): boolean {
    const ownTries = forPage ? 2 : OWN_SIEVE_TRIES;
    if (attempt < ownTries && this.evictOneLocked(s)) return true;
    if (!forPage && attempt < ownTries + OTHER_SIEVE_TRIES) {
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
    }
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
