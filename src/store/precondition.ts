/**
 * A `Precondition` evaluated against a stored entry, under its stripe lock: the entry's ETag is
 * the store's epoch XOR the entry's version, exactly what `get` reports.
 */
import type { Precondition } from './api.js';
import { E_VER_HI, E_VER_LO } from './layout.js';
import type { Views } from './views.js';

/** `pre` against entry `ref` (ignored when !exists); `exists` false for an absent or expired key. */
export function holdsAt(v: Views, pre: Precondition, exists: boolean, ref: number): boolean {
  if (!exists) return pre.holds(false, 0, 0);
  return pre.holds(
    true,
    (v.u32[ref * 2 + E_VER_HI]! ^ v.epochHi) >>> 0,
    (v.u32[ref * 2 + E_VER_LO]! ^ v.epochLo) >>> 0,
  );
}
