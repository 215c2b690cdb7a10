/**
 * TTLs: an entry's expiry is a u32 in 1/16 s units since the store was created (0 = never), so
 * every worker reads the same deadline. Expired entries are dropped lazily by the operation that
 * finds them, and eagerly by `sweepExpired`, which scans a bounded run of a stripe's list per
 * visit so the stripe lock is held briefly even with `--stripes 1` and a full store.
 *
 * A stripe whose whole list was walked with no entry left holding a TTL, and whose version
 * (S_VER, bumped under the lock by every set and publish, the only writes that give an entry a
 * TTL) has not moved since the walk began, holds no TTL'd entry: the sweep skips it without
 * taking the lock until its version moves. A store that never sees a TTL costs the sweep a few
 * loads per stripe, and `allClean` lets the supervisor tick less often.
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
  S_VER_HI,
  S_VER_LO,
  SF_EXPIRATIONS,
} from './layout.js';
import type { StripeLocks } from './stripe-locks.js';
import type { Views } from './views.js';

/** Entries one sweep visit scans in a stripe before it lets go of the lock. */
const SWEEP_BUDGET = 2048;

export class Expiry {
  /** Milliseconds clock for TTLs; tests replace it (through `Store#now`). */
  now: () => number = Date.now;

  /**
   * This sweeper's walk of each stripe (local: another sweeper moving a stripe's cursor restarts
   * it). A walk counts only if it began at the oldest entry and the cursor stayed where this
   * sweeper left it between visits.
   */
  private readonly walking: Uint8Array;
  /** Where this sweeper left each stripe's cursor (S_SWEEP). */
  private readonly leftAt: Uint32Array;
  /** The stripe's version when its walk began, and whether the walk met a live TTL'd entry. */
  private readonly walkVerLo: Uint32Array;
  private readonly walkVerHi: Uint32Array;
  private readonly walkTtl: Uint8Array;
  /** Stripes known to hold no TTL'd entry while their version stays at cleanVer*. */
  private readonly clean: Uint8Array;
  private readonly cleanVerLo: Uint32Array;
  private readonly cleanVerHi: Uint32Array;
  private cleanCount = 0;

  constructor(
    private readonly v: Views,
    private readonly locks: StripeLocks,
    private readonly index: KeyIndex,
    private readonly entries: Entries,
  ) {
    const n = v.L.stripes;
    this.walking = new Uint8Array(n);
    this.leftAt = new Uint32Array(n);
    this.walkVerLo = new Uint32Array(n);
    this.walkVerHi = new Uint32Array(n);
    this.walkTtl = new Uint8Array(n);
    this.clean = new Uint8Array(n);
    this.cleanVerLo = new Uint32Array(n);
    this.cleanVerHi = new Uint32Array(n);
  }

  /** Stripe `s` is clean and its version has not moved since; a stale read only delays a sweep. */
  private stillClean(s: number): boolean {
    if (this.clean[s] === 0) return false;
    const sw = this.v.stripeWord(s);
    const u32 = this.v.u32;
    if (
      Atomics.load(u32, sw + S_VER_LO) === this.cleanVerLo[s] &&
      Atomics.load(u32, sw + S_VER_HI) === this.cleanVerHi[s]
    )
      return true;
    this.clean[s] = 0;
    this.cleanCount--;
    return false;
  }

  /** No stripe holds an entry with a TTL (as of the last sweep visits and a look at versions). */
  allClean(): boolean {
    if (this.cleanCount !== this.v.L.stripes) return false;
    for (let s = 0; s < this.v.L.stripes; s++) if (!this.stillClean(s)) return false;
    return true;
  }

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
      if (this.stillClean(s)) continue;
      const now = this.unitsNow();
      const sw = v.stripeWord(s);
      this.locks.lockStripe(s);
      try {
        let ref = u32[sw + S_SWEEP]!;
        if (ref === 0) {
          ref = u32[sw + S_TAIL]!;
          this.walking[s] = 1;
          this.walkVerLo[s] = u32[sw + S_VER_LO]!;
          this.walkVerHi[s] = u32[sw + S_VER_HI]!;
          this.walkTtl[s] = 0;
        } else if (ref !== this.leftAt[s]) {
          this.walking[s] = 0;
        }
        let ttl = 0;
        for (let budget = SWEEP_BUDGET; ref !== 0 && budget > 0; budget--) {
          const next = u32[ref * 2 + E_NEWER]!;
          const exp = u32[ref * 2 + E_EXPIRY]!;
          if (exp !== 0) {
            if (now >= exp) {
              this.entries.removeLocked(s, ref, this.index.slotOfRefLocked(s, u32[ref * 2 + E_HASH]!, ref));
              v.f64[v.stripeF64(s) + SF_EXPIRATIONS]++;
              reclaimed++;
            } else {
              ttl = 1;
            }
          }
          ref = next;
        }
        u32[sw + S_SWEEP] = ref;
        this.leftAt[s] = ref;
        this.walkTtl[s] |= ttl;
        if (
          ref === 0 &&
          this.walking[s] === 1 &&
          this.walkTtl[s] === 0 &&
          u32[sw + S_VER_LO] === this.walkVerLo[s] &&
          u32[sw + S_VER_HI] === this.walkVerHi[s]
        ) {
          this.clean[s] = 1;
          this.cleanVerLo[s] = this.walkVerLo[s]!;
          this.cleanVerHi[s] = this.walkVerHi[s]!;
          this.cleanCount++;
        }
        if (ref === 0) this.walking[s] = 0;
      } finally {
        this.locks.unlockStripe(s);
      }
    }
    return reclaimed;
  }
}
