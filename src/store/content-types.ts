/**
 * The shared content-type table: up to CT_SLOTS types interned once per store (open addressing,
 * published with an atomic store of the length byte after the bytes, so lookups take no lock).
 * A type that finds no slot is stored inline in its entry instead.
 */
import { hashBytes } from './hash.js';
import { CT_BYTES_AT, CT_SLOT_BYTES, CT_SLOTS } from './layout.js';
import type { StripeLocks } from './stripe-locks.js';
import type { Views } from './views.js';

/**
 * SAB bytes at `at` (4-aligned) equal `b`: a word of the SAB against four bytes of `b` at a time
 * (`b` is any view, so it cannot be read by words without allocating one).
 */
function bytesEqual(i32: Int32Array, u8: Uint8Array, at: number, b: Uint8Array): boolean {
  const n = b.length;
  const n4 = n & ~3;
  const w = at >>> 2;
  let i = 0;
  for (; i < n4; i += 4) {
    if (i32[w + (i >>> 2)] !== (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24))) {
      return false;
    }
  }
  for (; i < n; i++) if (u8[at + i] !== b[i]) return false;
  return true;
}

export class ContentTypes {
  private lastRef = 0;

  constructor(
    private readonly v: Views,
    private readonly locks: StripeLocks,
  ) {}

  /** Byte offset of interned type `ref`'s slot (its length byte). */
  slotAt(ref: number): number {
    return this.v.L.ctTable + (ref - 1) * CT_SLOT_BYTES;
  }

  /** Interned content type ref (1..CT_SLOTS), or 0 to store it inline. Lock-free lookup. */
  intern(ct: Uint8Array): number {
    const n = ct.length;
    if (n === 0) return 0;
    const u8 = this.v.u8;
    const last = this.lastRef;
    if (last !== 0) {
      // most sets repeat the previous content type: compare before hashing
      const at = this.slotAt(last);
      if (u8[at] === n && bytesEqual(this.v.i32, u8, at + CT_BYTES_AT, ct)) return last;
    }
    const ref = this.internSlow(ct);
    if (ref !== 0) this.lastRef = ref;
    return ref;
  }

  private internSlow(ct: Uint8Array): number {
    // A type carrying per-entry data after a NUL (the read-through tier's metadata,
    // src/origin/meta.ts) is unique to its entry: it stays inline, the table is for shared types.
    if (ct.indexOf(0) >= 0) return 0;
    const n = ct.length;
    const u8 = this.v.u8;
    const h = hashBytes(ct, this.v.seed);
    for (let probe = 0; probe < CT_SLOTS; probe++) {
      const i = (h + probe) & (CT_SLOTS - 1);
      const at = this.v.L.ctTable + i * CT_SLOT_BYTES;
      let len = Atomics.load(u8, at);
      if (len === 0) {
        this.locks.lockAllocator();
        try {
          len = Atomics.load(u8, at);
          if (len === 0) {
            u8.set(ct, at + CT_BYTES_AT);
            Atomics.store(u8, at, n); // publish after the bytes
            return i + 1;
          }
        } finally {
          this.locks.unlockAllocator();
        }
      }
      if (len !== n) continue;
      let same = true;
      for (let k = 0; k < n; k++) {
        if (u8[at + CT_BYTES_AT + k] !== ct[k]) {
          same = false;
          break;
        }
      }
      if (same) return i + 1;
    }
    return 0;
  }
}
