/**
 * Entry lifecycle within a stripe: the stripe's doubly linked entry list (newest at the head, the
 * order SIEVE and the expiry sweep walk), and unlinking plus freeing an entry. Every `...Locked`
 * method needs the stripe's lock held.
 */
import { Geometry } from './geometry.js';
import type { KeyIndex } from './key-index.js';
import type { Pins } from './pins.js';
import {
  E_MISC,
  E_NEWER,
  E_OLDER,
  E_SEQ,
  E_VALUE_LEN,
  EB_FLAGS,
  F_LARGE,
  F_LINKED,
  H_ENTRIES,
  H_SEQ,
  S_COUNT,
  S_HAND,
  S_HEAD,
  S_SWEEP,
  S_TAIL,
  SF_PAYLOAD,
} from './layout.js';
import type { StripeLocks } from './stripe-locks.js';
import type { Views } from './views.js';

export class Entries {
  /** Geometry of entries being freed: evictions run in the middle of a set that holds its own. */
  private readonly gFree: Geometry;
  /** Unlinked entries whose free could not take the allocator lock (freed by the next freeEntry). */
  private readonly later: number[] = [];
  /** Set by Store once the pin table is made (they need each other). */
  pins: Pins | null = null;

  constructor(
    private readonly v: Views,
    private readonly locks: StripeLocks,
    private readonly index: KeyIndex,
  ) {
    this.gFree = new Geometry(v.alloc);
  }

  /** Links `ref` as stripe s's newest entry, stamped with the next global sequence (its age). */
  listPushLocked(s: number, ref: number): void {
    const u32 = this.v.u32;
    const sw = this.v.stripeWord(s);
    const head = u32[sw + S_HEAD]!;
    u32[ref * 2 + E_SEQ] = Atomics.add(u32, H_SEQ, 1);
    u32[ref * 2 + E_NEWER] = 0;
    u32[ref * 2 + E_OLDER] = head;
    if (head !== 0) u32[head * 2 + E_NEWER] = ref;
    else u32[sw + S_TAIL] = ref;
    u32[sw + S_HEAD] = ref;
  }

  private listUnlinkLocked(s: number, ref: number): void {
    const u32 = this.v.u32;
    const sw = this.v.stripeWord(s);
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
  freeEntry(ref: number): void {
    this.locks.lockAllocator();
    try {
      this.freeEntryLocked(ref);
      // entries whose free timed out earlier (see freeEntrySafe): this thread holds the lock now
      const later = this.later;
      while (later.length !== 0) this.freeEntryLocked(later.pop()!);
    } finally {
      this.locks.unlockAllocator();
    }
  }

  /**
   * freeEntry for a path that is already failing (a set unwinding after a throw): when the
   * allocator lock cannot be had either, the entry is kept in this thread's list and freed by its
   * next freeEntry, instead of leaking or throwing over the first error.
   */
  freeEntrySafe(ref: number): void {
    try {
      this.freeEntry(ref);
    } catch {
      this.later.push(ref);
    }
  }

  /** Re-tags entry `ref`'s slot and pages with `stripe` (the allocator lock held). */
  readonly retagAllocLocked = (ref: number, stripe: number): void => {
    const v = this.v;
    const g = this.gFree.measureEntry(v.u8, v.u32, ref);
    v.alloc.retagLocked(ref, stripe, (ref * 8 + g.valueOff) >>> 2, g.large ? g.nPages : 0);
  };

  private readonly retag = (ref: number, stripe: number): void => {
    this.locks.lockAllocator();
    try {
      this.retagAllocLocked(ref, stripe);
    } finally {
      this.locks.unlockAllocator();
    }
  };

  /** Frees entry `ref` (the allocator lock held). */
  freeEntryLocked(ref: number): void {
    const v = this.v;
    if ((v.u8[ref * 8 + EB_FLAGS]! & F_LARGE) !== 0) {
      const g = this.gFree.measureEntry(v.u8, v.u32, ref);
      const pt = (ref * 8 + g.valueOff) >>> 2;
      for (let i = 0; i < g.nPages; i++) {
        const page = v.u32[pt + i]!;
        if (page !== 0xffffffff) v.alloc.freePageLocked(page);
      }
    }
    v.alloc.freeSlotLocked(ref);
  }

  /** Unlinks a live entry from stripe s (index slot `slot`) and frees it. */
  removeLocked(s: number, ref: number, slot: number): void {
    const v = this.v;
    const u32 = v.u32;
    this.index.deleteAtLocked(s, slot);
    this.listUnlinkLocked(s, ref);
    v.u8[ref * 8 + EB_FLAGS] = v.u8[ref * 8 + EB_FLAGS]! & ~F_LINKED;
    const sw = v.stripeWord(s);
    u32[sw + S_COUNT] = u32[sw + S_COUNT]! - 1;
    Atomics.sub(u32, H_ENTRIES, 1);
    v.f64[v.stripeF64(s) + SF_PAYLOAD] -= (u32[ref * 2 + E_MISC]! & 0xffff) + u32[ref * 2 + E_VALUE_LEN]!;
    // a pinned large value is being sent as views: the last unpin frees it (pins.ts)
    if (
      (v.u8[ref * 8 + EB_FLAGS]! & F_LARGE) !== 0 &&
      this.pins?.deferFreeLocked(ref, v.L.stripes, this.retag)
    ) {
      return;
    }
    this.freeEntry(ref);
  }
}
