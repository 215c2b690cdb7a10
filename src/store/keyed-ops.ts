/**
 * The keyed operations off the get/set hot paths: delete (optionally guarded by a
 * `Precondition`) and the early precondition check made at head time. Both run under the key's
 * stripe lock, so a guarded delete is atomic with its check.
 */
import { MAX_KEY_BYTES, PreconditionKind, type DeleteOutcome, type Precondition } from './api.js';
import type { Entries } from './entries.js';
import type { Expiry } from './expiry.js';
import type { KeyIndex } from './key-index.js';
import { SF_DELETES, SF_EXPIRATIONS } from './layout.js';
import { holdsAt } from './precondition.js';
import type { StripeLocks } from './stripe-locks.js';
import type { Views } from './views.js';

export class KeyedOps {
  constructor(
    private readonly v: Views,
    private readonly locks: StripeLocks,
    private readonly index: KeyIndex,
    private readonly entries: Entries,
    private readonly expiry: Expiry,
  ) {}

  delete(key: Uint8Array, pre?: Precondition): DeleteOutcome {
    const guarded = pre !== undefined && pre.kind !== PreconditionKind.None;
    if (key.length === 0 || key.length > MAX_KEY_BYTES) {
      return guarded && !pre.holds(false, 0, 0) ? 'precondition-failed' : false;
    }
    const v = this.v;
    const h = this.index.hashKey(key);
    const s = v.stripeOf(h);
    this.locks.lockStripe(s);
    try {
      const ref = this.index.findLocked(s, h, key.length);
      const expired = ref !== 0 && this.expiry.isExpired(ref);
      if (guarded && !holdsAt(v, pre, ref !== 0 && !expired, ref)) return 'precondition-failed';
      if (ref === 0) return false;
      this.entries.removeLocked(s, ref, this.index.foundSlot);
      v.f64[v.stripeF64(s) + (expired ? SF_EXPIRATIONS : SF_DELETES)]++;
      return !expired;
    } finally {
      this.locks.unlockStripe(s);
    }
  }

  check(key: Uint8Array, pre: Precondition): boolean {
    if (pre.kind === PreconditionKind.None) return true;
    if (key.length === 0 || key.length > MAX_KEY_BYTES) return pre.holds(false, 0, 0);
    const v = this.v;
    const h = this.index.hashKey(key);
    const s = v.stripeOf(h);
    this.locks.lockStripe(s);
    try {
      const ref = this.index.findLocked(s, h, key.length);
      return holdsAt(v, pre, ref !== 0 && !this.expiry.isExpired(ref), ref);
    } finally {
      this.locks.unlockStripe(s);
    }
  }
}
