/**
 * The per-stripe open-addressing index: slots of (entry ref, full 32-bit hash), linear probing,
 * backward-shift deletion (no tombstones). Stripe = high hash bits, home slot = the remaining
 * bits scaled to the slot count. Every `...Locked` method needs the stripe's lock held.
 */
import { MAX_KEY_BYTES } from './api.js';
import { hashBytesInto } from './hash.js';
import { E_HEADER_BYTES, E_MISC } from './layout.js';
import type { Views } from './views.js';

const TWO32 = 2 ** 32;

export class KeyIndex {
  /** Index slot of the last successful `findLocked`. */
  foundSlot = -1;
  /** Words of the key being looked up (filled while hashing it). */
  private readonly kw = new Int32Array(MAX_KEY_BYTES >>> 2);

  constructor(private readonly v: Views) {}

  /** The key's hash; leaves its words in `kw` for `findLocked`. */
  hashKey(key: Uint8Array): number {
    return hashBytesInto(key, this.v.seed, this.kw);
  }

  /** u32 index of stripe s's first index slot. */
  slotWord(s: number): number {
    return this.v.indexWord0 + s * this.v.slotsPerStripe * 2;
  }

  private home(h: number): number {
    const shift = this.v.shift;
    const rest = shift === 32 ? h : (h << (32 - shift)) >>> 0;
    return Math.floor((rest * this.v.slotsPerStripe) / TWO32);
  }

  /**
   * The stored key of `ref` equals the key whose words `hashKey` left in `kw`: word compares
   * only (stored keys start 4-aligned; the word holding a key's last bytes lies inside the entry,
   * before its 4-aligned value).
   */
  private keyEquals(ref: number, keyLen: number): boolean {
    if ((this.v.u32[ref * 2 + E_MISC]! & 0xffff) !== keyLen) return false;
    const i32 = this.v.i32;
    const kw = this.kw;
    const w = (ref * 8 + E_HEADER_BYTES) >>> 2;
    const full = keyLen >>> 2;
    for (let j = 0; j < full; j++) if (i32[w + j] !== kw[j]) return false;
    const rest = keyLen & 3;
    return rest === 0 || (i32[w + full]! & ((1 << (rest * 8)) - 1)) === kw[full];
  }

  /** Entry ref for the key last given to `hashKey` (hash h) in stripe s, 0 when absent; sets `foundSlot`. */
  findLocked(s: number, h: number, keyLen: number): number {
    const u32 = this.v.u32;
    const base = this.slotWord(s);
    const n = this.v.slotsPerStripe;
    let i = this.home(h);
    for (let probes = 0; probes < n; probes++) {
      const ref = u32[base + i * 2]!;
      if (ref === 0) return 0;
      if (u32[base + i * 2 + 1] === h && this.keyEquals(ref, keyLen)) {
        this.foundSlot = i;
        return ref;
      }
      if (++i === n) i = 0;
    }
    return 0;
  }

  /** Index slot holding `ref` (hash h) in stripe s, -1 when none does. */
  slotOfRefLocked(s: number, h: number, ref: number): number {
    const u32 = this.v.u32;
    const base = this.slotWord(s);
    const n = this.v.slotsPerStripe;
    let i = this.home(h);
    for (let probes = 0; probes < n; probes++) {
      const r = u32[base + i * 2]!;
      if (r === 0) return -1;
      if (r === ref) return i;
      if (++i === n) i = 0;
    }
    return -1;
  }

  insertLocked(s: number, h: number, ref: number): void {
    const u32 = this.v.u32;
    const base = this.slotWord(s);
    const n = this.v.slotsPerStripe;
    let i = this.home(h);
    while (u32[base + i * 2] !== 0) if (++i === n) i = 0;
    u32[base + i * 2 + 1] = h;
    u32[base + i * 2] = ref;
  }

  /** Backward-shift deletion keeps linear probing tombstone-free. */
  deleteAtLocked(s: number, hole: number): void {
    const u32 = this.v.u32;
    const base = this.slotWord(s);
    const n = this.v.slotsPerStripe;
    let i = hole;
    let j = hole;
    for (;;) {
      if (++j === n) j = 0;
      const ref = u32[base + j * 2]!;
      if (ref === 0) break;
      const k = this.home(u32[base + j * 2 + 1]!);
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      u32[base + i * 2] = ref;
      u32[base + i * 2 + 1] = u32[base + j * 2 + 1]!;
      i = j;
    }
    u32[base + i * 2] = 0;
    u32[base + i * 2 + 1] = 0;
  }

  /** Empties stripe s's slots (crash reclaim; the caller holds the stolen stripe lock). */
  clearLocked(s: number): void {
    const base = this.slotWord(s);
    this.v.u32.fill(0, base, base + this.v.slotsPerStripe * 2);
  }
}
