import { FillTable } from './fill-table.js';

/**
 * The negative cache (--negative-ttl), shared by every thread: origin 404/410 answers remembered
 * per key, in a region of the fill table's SharedArrayBuffer, so a 404 one thread learned is
 * answered by every thread without an origin request. A small open-addressed table of
 * (64-bit key tag, deadline) slots; when a key's probe window is full, the slot that expires
 * first is reused: forgetting a negative answer early costs one more origin request, never a
 * wrong answer. Each slot is a seqlock (a version word, odd while written): a reader that sees
 * the version move discards what it read, and a writer that finds another writer in the slot
 * skips it.
 */

const SLOTS = 16384;
const PROBE = 8;
/** Bytes per slot: version, the two tag words, spare (Int32 words 0-3), then the deadline in ms (Float64, bytes 16-23). */
const SLOT_BYTES = 24;
const I_VER = 0;
const I_TAG_A = 1;
const I_TAG_B = 2;
const F_UNTIL = 2;

export const NEGATIVE_BYTES = SLOTS * SLOT_BYTES;

export class NegativeCache {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;

  /** `at`: the region's byte offset in `sab` (8-aligned), NEGATIVE_BYTES long. */
  constructor(sab: SharedArrayBuffer, at: number) {
    this.i32 = new Int32Array(sab, at, NEGATIVE_BYTES / 4);
    this.f64 = new Float64Array(sab, at, NEGATIVE_BYTES / 8);
  }

  /** Whether `key` is remembered as not found at `now` (ms). */
  has(key: Uint8Array, now: number): boolean {
    const [a, b] = FillTable.tags(key);
    const i = this.i32;
    const home = (a ^ (b >>> 11)) & (SLOTS - 1);
    for (let p = 0; p < PROBE; p++) {
      const s = (home + p) & (SLOTS - 1);
      const w = s * (SLOT_BYTES / 4);
      const v = Atomics.load(i, w + I_VER);
      if ((v & 1) !== 0) continue;
      if (Atomics.load(i, w + I_TAG_A) !== a || Atomics.load(i, w + I_TAG_B) !== b) continue;
      const until = this.f64[s * (SLOT_BYTES / 8) + F_UNTIL]!;
      if (Atomics.load(i, w + I_VER) !== v) continue;
      return now < until;
    }
    return false;
  }

  /** Remembers `key` as not found until `until` (ms). */
  remember(key: Uint8Array, until: number, now: number): void {
    const [a, b] = FillTable.tags(key);
    const i = this.i32;
    const home = (a ^ (b >>> 11)) & (SLOTS - 1);
    // The key's own slot if it has one, else a free or expired one, else the one expiring first.
    let pick = -1;
    let pickUntil = Infinity;
    for (let p = 0; p < PROBE; p++) {
      const s = (home + p) & (SLOTS - 1);
      const w = s * (SLOT_BYTES / 4);
      const u = this.f64[s * (SLOT_BYTES / 8) + F_UNTIL]!;
      if (Atomics.load(i, w + I_TAG_A) === a && Atomics.load(i, w + I_TAG_B) === b) {
        pick = s;
        break;
      }
      const left = u <= now ? -Infinity : u;
      if (left < pickUntil) {
        pick = s;
        pickUntil = left;
      }
    }
    const w = pick * (SLOT_BYTES / 4);
    const v = Atomics.load(i, w + I_VER);
    if ((v & 1) !== 0 || Atomics.compareExchange(i, w + I_VER, v, v + 1) !== v) return;
    Atomics.store(i, w + I_TAG_A, a);
    Atomics.store(i, w + I_TAG_B, b);
    this.f64[pick * (SLOT_BYTES / 8) + F_UNTIL] = until;
    Atomics.store(i, w + I_VER, v + 2);
  }
}
