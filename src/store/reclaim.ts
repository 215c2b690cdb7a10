/**
 * Crash reclaim. A stripe's index slots and list are only touched under its lock, so a worker
 * that dies holding it can corrupt only that stripe: every stripe whose lock names the dead owner
 * is emptied (its slots and pages return to the budget through the allocator rebuild) and
 * unlocked; a held allocator lock is taken over and the allocator's derived lists rebuilt, which
 * also frees the dead owner's unpublished reservations.
 */
import type { Entries } from './entries.js';
import type { KeyIndex } from './key-index.js';
import type { Pins } from './pins.js';
import {
  H_ALLOC_LOCK,
  H_ENTRIES,
  H_RESV_BYTES,
  H_RESV_COUNT,
  S_COUNT,
  S_HAND,
  S_HEAD,
  S_LOCK,
  S_SWEEP,
  S_TAIL,
  S_VER_HI,
  S_VER_LO,
  SF_PAYLOAD,
} from './layout.js';
import { stealLock } from './lock.js';
import type { StripeLocks } from './stripe-locks.js';
import type { Views } from './views.js';

/** Returns how many stripes were reset. */
export function reclaimOwner(
  v: Views,
  locks: StripeLocks,
  index: KeyIndex,
  entries: Entries,
  pins: Pins,
  ownerId: number,
): number {
  const dead = ownerId + 1;
  if (dead === v.me) throw new RangeError('reclaimOwner: cannot reclaim this store instance own locks');
  const stripes = v.L.stripes;
  // one more flag for the reservations' pseudo-stripe (never reset: their owner decides)
  const reset = new Uint8Array(stripes + 1);
  let count = 0;
  for (let s = 0; s < stripes; s++) {
    if (stealLock(v.i32, v.stripeWord(s) + S_LOCK, dead, v.me)) {
      reset[s] = 1;
      count++;
    }
  }
  const allocStolen = stealLock(v.i32, H_ALLOC_LOCK, dead, v.me);
  // no early return without stolen locks: the dead owner's reservations are freed by the rebuild
  if (!allocStolen) locks.lockAllocator();
  try {
    const u32 = v.u32;
    for (let s = 0; s < stripes; s++) {
      if (reset[s] !== 1) continue;
      const sw = v.stripeWord(s);
      index.clearLocked(s);
      u32[sw + S_HEAD] = 0;
      u32[sw + S_TAIL] = 0;
      u32[sw + S_HAND] = 0;
      u32[sw + S_SWEEP] = 0;
      // a claim the dead worker had in flight stays counted: the cap errs low by one, never high
      Atomics.sub(u32, H_ENTRIES, u32[sw + S_COUNT]!);
      u32[sw + S_COUNT] = 0;
      // versions never repeat: skip to the next 2^32 block
      u32[sw + S_VER_HI] = (u32[sw + S_VER_HI]! + 1) >>> 0;
      u32[sw + S_VER_LO] = 0;
      v.f64[v.stripeF64(s) + SF_PAYLOAD] = 0;
    }
    // pins first: the dead owner's are dropped, live owners' in reset stripes keep their entries
    const zombies = pins.reclaimLocked(dead, reset, entries.retagAllocLocked);
    const freed = v.alloc.rebuildLocked(reset, dead);
    for (const ref of zombies) entries.freeEntryLocked(ref);
    Atomics.sub(u32, H_RESV_BYTES, freed);
    Atomics.sub(u32, H_RESV_COUNT, v.alloc.freedReservations);
  } finally {
    locks.unlockAllocator();
    for (let s = 0; s < stripes; s++) if (reset[s] === 1) locks.unlockStripe(s);
  }
  return count;
}
