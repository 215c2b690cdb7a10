/**
 * Prefix purge, one bounded step of one stripe at a time: `purgeStripeLocked` walks the stripe's
 * index slots from a cursor and removes every live entry whose key starts with the prefix bytes.
 * The caller (`Store.purgePrefix`) holds the stripe lock for one step only and resumes later, so
 * other requests to the stripe are served between steps.
 *
 * Why resuming at a slot is exact under concurrent writes: a step stops only on an empty slot
 * `c` (or the end of the stripe). At that moment every entry whose home slot is before `c` sits
 * before `c` (linear probing keeps the run from an entry's home to its slot occupied, and `c` is
 * empty), and it was examined. Between steps, entries only ever move towards their home
 * (backward-shift deletion), never past it, so an entry whose home is at or after `c` stays at or
 * after `c`, to be examined by a later step. Entries written while the purge runs may or may not
 * be removed; every entry that was there when it began and was not rewritten meanwhile is.
 */
import { MAX_KEY_BYTES, type PurgeProgress } from './api.js';
import type { Entries } from './entries.js';
import type { Expiry } from './expiry.js';
import type { KeyIndex } from './key-index.js';
import { E_HEADER_BYTES, E_MISC, SF_EXPIRATIONS } from './layout.js';
import type { StripeLocks } from './stripe-locks.js';
import type { Views } from './views.js';

/** Whether the key stored in entry `ref` starts with `prefix`. */
function keyStartsWith(v: Views, ref: number, prefix: Uint8Array): boolean {
  const n = prefix.length;
  if ((v.u32[ref * 2 + E_MISC]! & 0xffff) < n) return false;
  const u8 = v.u8;
  const at = ref * 8 + E_HEADER_BYTES;
  for (let i = 0; i < n; i++) if (u8[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * One step over stripe `s` (its lock held): examines at least `budget` slots from `cursor`
 * (fewer at the end of the stripe), then goes on to the next empty slot, and records in `out`
 * where to resume, whether the stripe is done and what was removed. An expired entry that
 * matches is removed as an expiration, not counted as purged (as `delete` treats it).
 */
export function purgeStripeLocked(
  v: Views,
  index: KeyIndex,
  entries: Entries,
  expiry: Expiry,
  s: number,
  prefix: Uint8Array,
  cursor: number,
  budget: number,
  out: PurgeProgress,
): void {
  const u32 = v.u32;
  const base = index.slotWord(s);
  const n = v.slotsPerStripe;
  const start = Math.max(0, cursor);
  let i = start;
  let examined = 0;
  let purged = 0;
  let expired = 0;
  while (i < n) {
    const ref = u32[base + i * 2]!;
    examined++;
    if (ref === 0) {
      // the empty slot a step ends on is where the next one starts: that one goes past it
      if (examined >= budget && i !== start) break;
      i++;
      continue;
    }
    if (keyStartsWith(v, ref, prefix)) {
      if (expiry.isExpired(ref)) expired++;
      else purged++;
      entries.removeLocked(s, ref, i);
      // backward-shift deletion may have moved a later entry into slot i: look at it again
      continue;
    }
    i++;
  }
  if (expired !== 0) v.f64[v.stripeF64(s) + SF_EXPIRATIONS] += expired;
  out.cursor = i;
  out.done = i >= n;
  out.examined = examined;
  out.purged = purged;
}

/** The parts of a `Store` a purge works with. */
export interface PurgeParts {
  readonly views: Views;
  readonly locks: StripeLocks;
  readonly index: KeyIndex;
  readonly entries: Entries;
  readonly expiry: Expiry;
}

/** `KvStore.purgePrefix` for `store`: checks its arguments, then one locked step. */
export function purgeFor(
  store: PurgeParts,
  prefix: Uint8Array,
  stripe: number,
  cursor: number,
  budget: number,
  out: PurgeProgress,
): PurgeProgress {
  const v = store.views;
  const stripes = v.L.stripes;
  out.stripes = stripes;
  if (!(Number.isInteger(stripe) && stripe >= 0 && stripe < stripes)) {
    throw new RangeError(`stripe must be an integer from 0 to ${stripes - 1}, got ${stripe}`);
  }
  if (prefix.length === 0 || prefix.length > MAX_KEY_BYTES) {
    throw new RangeError(`prefix must be 1 to ${MAX_KEY_BYTES} bytes, got ${prefix.length}`);
  }
  store.locks.lockStripe(stripe);
  try {
    purgeStripeLocked(v, store.index, store.entries, store.expiry, stripe, prefix, cursor, budget, out);
  } finally {
    store.locks.unlockStripe(stripe);
  }
  return out;
}
