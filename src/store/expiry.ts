/**
 * TTLs: an entry's expiry is a u32 in 1/16 s units since the store was created (0 = never), so
 * every worker reads the same deadline. Expired entries are dropped lazily by the operation that
 * finds them, and eagerly by `sweepExpired`, which scans a bounded run of a stripe's list per
 * visit so the stripe lock is held briefly even with `--stripes 1` and a full store.
 */
import type { Entries } from './entries.js';
import type { KeyIndex } from './key-index.js';
import {
  E_EXPIRY,
  E_HASH,
  E_NEWER,
  EXPIRY_UNITS_PER_S,
  H_SWEEP_CURSOR,
  S_SWEEP,
  S_TAIL,
  SF_EXPIRATIONS,
} from './layout.js';
import type { StripeLocks } from './stripe-locks.js';
import type { Views } from './views.js';

/** Entries one sweep visit scans in a stripe before it lets go of the lock. */
const SWEEP_BUDGET = 2048;

export class Expiry {
  /** Milliseconds clock for TTLs; tests replace it (through `Store#now`). */
  now: () => number = Date.now;

  constructor(
    private readonly v: Views,
    private readonly locks: StripeLocks,
    private readonly index: KeyIndex,
    private readonly entries: Entries,
  ) {}

  /** The stored expiry for a TTL (> 0) given now. */
  deadlineFor(ttlSeconds: number): number {
    const units = Math.ceil(
      ((this.now() - this.v.createdMs + ttlSeconds * 1000) * EXPIRY_UNITS_PER_S) / 1000,
    );
    return Math.min(Math.max(units, 1), 0xffffffff);
  }

  private unitsNow(): number {
    return Math.floor(((this.now() - this.v.createdMs) * EXPIRY_UNITS_PER_S) / 1000);
  }

  isExpired(ref: number): boolean {
    const exp = this.v.u32[ref * 2 + E_EXPIRY]!;
    return exp !== 0 && this.unitsNow() >= exp;
  }

  /** Reclaims expired entries in up to `maxStripes` stripes (round robin); returns how many. */
  sweep(maxStripes: number): number {
    const v = this.v;
    const n = Math.min(Math.max(0, Math.floor(maxStripes)), v.L.stripes);
    const u32 = v.u32;
    let reclaimed = 0;
    for (let k = 0; k < n; k++) {
      const s = Atomics.add(u32, H_SWEEP_CURSOR, 1) & (v.L.stripes - 1);
      const now = this.unitsNow();
      const sw = v.stripeWord(s);
      this.locks.lockStripe(s);
      try {
        let ref = u32[sw + S_SWEEP]!;
        if (ref === 0) ref = u32[sw + S_TAIL]!;
        for (let budget = SWEEP_BUDGET; ref !== 0 && budget > 0; budget--) {
          const next = u32[ref * 2 + E_NEWER]!;
          const exp = u32[ref * 2 + E_EXPIRY]!;
          if (exp !== 0 && now >= exp) {
            this.entries.removeLocked(s, ref, this.index.slotOfRefLocked(s, u32[ref * 2 + E_HASH]!, ref));
            v.f64[v.stripeF64(s) + SF_EXPIRATIONS]++;
            reclaimed++;
          }
          ref = next;
        }
        u32[sw + S_SWEEP] = ref;
      } finally {
        this.locks.unlockStripe(s);
      }
    }
    return reclaimed;
  }
}
