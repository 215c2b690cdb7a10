/**
 * Entry geometry: where a value's bytes live for given key, inline content-type and value
 * lengths. A value that fits beside its header stays in the slab slot; a larger one keeps a page
 * table in the slot, whole 64 KiB pages, and its tail either in the slot or in one more page.
 */
import type { Allocator } from './allocator.js';
import { E_HEADER_BYTES, E_MISC, E_VALUE_LEN, EB_CT_REF, PAGE } from './layout.js';

/** Longest run copied by a word loop; longer runs use TypedArray#set (V8's memcpy). */
export const WORD_COPY_MAX = 512;

/**
 * Offset of the value in its entry: 4-aligned for the word loop, 8-aligned for longer values
 * because V8 copies between a SharedArrayBuffer and another buffer word by word only when source
 * and destination agree modulo 8 (else byte by byte: 2x slower for 4 KiB).
 */
export function valueStart(keyLen: number, ctInline: number, valueLen: number): number {
  const base = E_HEADER_BYTES + keyLen + ctInline;
  return valueLen > WORD_COPY_MAX ? (base + 7) & ~7 : (base + 3) & ~3;
}

/** One reusable record per use (a set, a free): filled by `measure` / `measureEntry`. */
export class Geometry {
  large = false;
  tailPage = false;
  slotBytes = 0;
  cls = 0;
  nPages = 0;
  /** byte offset from the entry start: inline value, or the page table for large values */
  valueOff = 0;
  /** large only: byte offset of the in-slot tail, and where the tail starts in the value */
  tailOff = 0;
  tailStart = 0;

  constructor(private readonly alloc: Allocator) {}

  /** Fills this record for an entry with these sizes. */
  measure(keyLen: number, ctInline: number, valueLen: number): this {
    const aligned = valueStart(keyLen, ctInline, valueLen);
    if (aligned + valueLen <= PAGE) {
      this.large = false;
      this.tailPage = false;
      this.nPages = 0;
      this.valueOff = aligned;
      this.slotBytes = aligned + valueLen;
      this.tailOff = 0;
      this.tailStart = valueLen;
    } else {
      const pt = aligned;
      const full = Math.floor(valueLen / PAGE);
      const tail = valueLen - full * PAGE;
      this.large = true;
      this.valueOff = pt;
      if (((pt + 4 * full + 7) & ~7) + tail <= PAGE) {
        this.tailPage = false;
        this.nPages = full;
      } else {
        this.tailPage = true;
        this.nPages = full + 1;
      }
      this.tailStart = this.tailPage ? valueLen : full * PAGE;
      // 8-aligned like the pages, so a bulk copy of the tail takes V8's word path too
      this.tailOff = (pt + 4 * this.nPages + 7) & ~7;
      this.slotBytes = this.tailOff + (valueLen - this.tailStart);
    }
    this.cls = this.alloc.classFor(this.slotBytes);
    return this;
  }

  /** Fills this record for the stored entry `ref`. */
  measureEntry(u8: Uint8Array, u32: Uint32Array, ref: number): this {
    const keyLen = u32[ref * 2 + E_MISC]! & 0xffff;
    const ctRef = u8[ref * 8 + EB_CT_REF]!;
    const ctInline = ctRef === 0 ? 1 + u8[ref * 8 + E_HEADER_BYTES + keyLen]! : 0;
    return this.measure(keyLen, ctInline, u32[ref * 2 + E_VALUE_LEN]!);
  }
}
