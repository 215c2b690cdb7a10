/**
 * Where everything lives in the one SharedArrayBuffer. `--memory` is the whole buffer: header,
 * content-type table, stripe table, index and page table are carved first, the rest is data pages.
 *
 *   [header 512 B][content types 64 x 260 B][class heads][pin table][stripes x 128 B][index][page meta][pages]
 *
 * All offsets are derived from the options alone, so `attach` recomputes them from the header.
 *
 * Prefixes of the offset constants below:
 *   H_   header: u32 word index          HF_  header: f64 slot index
 *   CT_  content-type table (bytes)      S_   stripe line: u32 word, from the line's first word
 *   SF_  stripe counters: f64 slot, from the line's first counter
 *   PM_  page meta: which parallel u32 array   KIND_  page kind, in a page's meta word
 *   E_   entry header: u32 word, from the entry's first word (entry ref * 2)
 *   EB_  entry header: byte, from the entry's first byte (entry ref * 8)
 *   F_   entry flag bits (byte EB_FLAGS)
 */
import { constants } from 'node:buffer';
import type { StoreOptions } from './api.js';

/**
 * Byte offsets are handled with 32-bit integer ops on the hot path (`>>> 2`, `& 3`), so the
 * buffer is at most 4 GiB (and never more than this Node's largest Buffer).
 */
const MAX_MEMORY = Math.min(2 ** 32, constants.MAX_LENGTH);

export const MAGIC = 0x53435331; // "SCS1"
export const LAYOUT_VERSION = 5;

/** Data page: the unit the global allocator hands out (slab pages and large-value pages). */
export const PAGE_SHIFT = 16;
export const PAGE = 1 << PAGE_SHIFT;

/**
 * `--max-keys` is enforced exactly by one global entry count (H_ENTRIES). A stripe's index must
 * then hold whatever share of the keys the hash spread gives it, not just the mean: it is sized
 * for the mean + 8 standard deviations of that (binomial) share, + 8, at most 80% full. A stripe
 * is past that with a probability far under 1e-12 per stripe; only then does it evict on its own
 * below `--max-keys`.
 */
const SPREAD_SIGMAS = 8;
const INDEX_MAX_LOAD = 0.8;

// header words (u32 index)
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_MAX_KEYS = 2;
export const H_STRIPES = 3;
export const H_MAX_VALUE = 4;
export const H_NUM_PAGES = 5;
export const H_SLOTS_PER_STRIPE = 6;
export const H_STRIPE_CAP = 7;
export const H_SEED = 8;
export const H_EPOCH_HI = 9;
export const H_EPOCH_LO = 10;
export const H_SWEEP_CURSOR = 11;
export const H_PAGE_CURSOR = 12;
export const H_POOL_COUNT = 13;
export const H_POOL_HEAD = 14;
/** Entries linked + entries being created (claimed): never above maxKeys once a claim settles. */
export const H_ENTRIES = 15;
/** Reservations in flight (uploads not yet published) and the bytes of budget they hold. */
export const H_RESV_COUNT = 20;
export const H_RESV_BYTES = 21;
/**
 * The global insertion sequence (u32, wraps): every entry linked into a stripe takes the next
 * one (E_SEQ), so entries of different stripes compare by age (eviction.ts: one order).
 */
export const H_SEQ = 22;
/** f64 slots (Float64Array index; slot 8 = u32 words 16-17, slot 9 = words 18-19). */
export const HF_MEMORY = 8;
export const HF_CREATED_MS = 9;
/** Allocator lock word and its waiter count, on their own cache line. */
export const H_ALLOC_LOCK = 32;

export const CT_SLOTS = 64;
/** Length byte, 3 spare bytes so the type's bytes start 4-aligned (copied as words), 255 bytes. */
export const CT_SLOT_BYTES = 260;
export const CT_BYTES_AT = 4;
const MAX_CLASSES = 128;

// stripe line: 128 bytes = 32 u32 words; f64 counters in the second half
export const STRIPE_BYTES = 128;
export const S_LOCK = 0; // + S_LOCK+1 = waiters
export const S_HEAD = 2; // newest entry
export const S_TAIL = 3; // oldest entry
export const S_HAND = 4; // SIEVE hand
export const S_COUNT = 5;
export const S_VER_LO = 6;
export const S_VER_HI = 7;
/** Where the expiry sweep resumes in this stripe's list (0 = from the oldest). */
export const S_SWEEP = 8;
/** f64 counters, index relative to the stripe's first f64 (byte 64 of the line). */
export const SF_HITS = 0;
export const SF_MISSES = 1;
export const SF_SETS = 2;
export const SF_DELETES = 3;
export const SF_EVICTIONS = 4;
export const SF_EXPIRATIONS = 5;
export const SF_PAYLOAD = 6;

// page meta: parallel u32 arrays of numPages
export const PM_META = 0;
export const PM_BUMP = 1;
export const PM_FREE_COUNT = 2;
/** Slab page: first free slot + 1 (intrusive list). Large page: the owning entry's ref. */
export const PM_FREE_HEAD = 3;
export const PM_NEXT = 4;
export const PM_PREV = 5;
const PAGE_META_ARRAYS = 6;

export const KIND_SHIFT = 24;
export const KIND_SLAB = 1;
export const KIND_LARGE = 2;

/**
 * Entry header, in u32 words from the entry's first word (entry ref = byte offset / 8).
 * 44 bytes, then key, then an inline content type (only when not interned), then for large
 * values the page table (u32 aligned), then the inline value or the value's tail.
 */
export const E_TAG = 0; // allocator truth: owning stripe + 1, 0 when the slot is free
export const E_NEWER = 1; // SIEVE list; free-list link when the slot is free
export const E_OLDER = 2;
export const E_HASH = 3;
export const E_VALUE_LEN = 4;
export const E_MISC = 5; // key length (u16), then byte 22 = ct ref, byte 23 = flags
export const E_EXPIRY = 6; // 1/16 s since creation; 0 = never
export const E_VER_LO = 7;
export const E_VER_HI = 8;
/** Pins (readers sending the value as views of the buffer) + PIN_UNLINKED once unlinked. */
export const E_PINS = 9;
/** Global insertion sequence (H_SEQ) taken when the entry was linked: its age across stripes. */
export const E_SEQ = 10;
export const E_HEADER_BYTES = 44;
export const PIN_UNLINKED = 0x80000000;
/** Pin table: slots of (owner + 1, entry ref); a pin id is its slot + 1. */
export const PIN_SLOTS = 4096;
export const EB_CT_REF = 22;
export const EB_FLAGS = 23;
export const F_VISITED = 1;
export const F_LINKED = 2;
export const F_LARGE = 4;
/** Large value whose tail did not fit in the head slot: one more (partial) page. */
export const F_TAIL_PAGE = 8;
/**
 * An unpublished reservation: its slot and pages are tagged with the pseudo-stripe `stripes`
 * (no real stripe, so a stripe reset never frees it and eviction never picks it), and E_OLDER
 * holds its owner (ownerId + 1) so a dead thread's reservations are reclaimed.
 */
export const F_RESERVED = 16;

export const EXPIRY_UNITS_PER_S = 16;

export interface Layout {
  readonly memory: number;
  readonly maxKeys: number;
  readonly stripes: number;
  readonly stripeBits: number;
  readonly maxValueSize: number;
  readonly slotsPerStripe: number;
  readonly stripeCap: number;
  readonly ctTable: number; // byte offset
  readonly classHeads: number; // byte offset
  readonly pinTable: number; // byte offset
  readonly stripeTable: number; // byte offset
  readonly index: number; // byte offset
  readonly pageMeta: number; // byte offset
  readonly numPages: number;
  readonly data: number; // byte offset of page 0
  /** Bytes before the data pages: counted as used from the start. */
  readonly fixedBytes: number;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

function human(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

function positiveInt(name: string, v: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < 1 || v > max) {
    throw new RangeError(`${name} must be an integer from 1 to ${max}, got ${v}`);
  }
}

/** Validates the options and computes every region; throws RangeError with a human message. */
export function computeLayout(opts: StoreOptions): Layout {
  positiveInt('memory', opts.memory, MAX_MEMORY);
  positiveInt('stripes', opts.stripes, 65536);
  if ((opts.stripes & (opts.stripes - 1)) !== 0) {
    throw new RangeError(`stripes must be a power of two (1, 2, 4, ... 65536), got ${opts.stripes}`);
  }
  positiveInt('maxKeys', opts.maxKeys, 2 ** 31);
  if (!Number.isSafeInteger(opts.maxValueSize) || opts.maxValueSize < 0 || opts.maxValueSize > 2 ** 31) {
    throw new RangeError(`maxValueSize must be an integer from 0 to 2 GiB, got ${opts.maxValueSize}`);
  }
  const stripes = opts.stripes;
  const mean = opts.maxKeys / stripes;
  const stripeCap = Math.min(opts.maxKeys, Math.ceil(mean + SPREAD_SIGMAS * Math.sqrt(mean) + 8));
  const slotsPerStripe = Math.max(8, Math.ceil(stripeCap / INDEX_MAX_LOAD));
  const ctTable = 512;
  const classHeads = ctTable + CT_SLOTS * CT_SLOT_BYTES;
  const pinTable = align(classHeads + MAX_CLASSES * 4, 64);
  const stripeTable = pinTable + PIN_SLOTS * 8;
  const index = stripeTable + stripes * STRIPE_BYTES;
  const pageMeta = index + stripes * slotsPerStripe * 8;
  const perPage = PAGE + PAGE_META_ARRAYS * 4;
  const minPages = 2;
  const room = opts.memory - pageMeta - 64;
  const numPages = Math.floor(room / perPage);
  if (numPages < minPages) {
    const need = pageMeta + 64 + minPages * perPage;
    throw new RangeError(
      `memory ${human(opts.memory)} is too small: the index for ${opts.maxKeys} keys and ` +
        `${stripes} stripes takes ${human(pageMeta)}; at least ${human(need)} is needed ` +
        `(raise --memory or lower --max-keys)`,
    );
  }
  const data = align(pageMeta + numPages * PAGE_META_ARRAYS * 4, 64);
  return {
    memory: opts.memory,
    maxKeys: opts.maxKeys,
    stripes,
    stripeBits: Math.log2(stripes),
    maxValueSize: opts.maxValueSize,
    slotsPerStripe,
    stripeCap,
    ctTable,
    classHeads,
    pinTable,
    stripeTable,
    index,
    pageMeta,
    numPages,
    data,
    fixedBytes: data,
  };
}

/**
 * Slab size classes (bytes, multiples of 8): every 8 bytes up to 256 so small entries waste
 * little, then steps of ~12%, then page/n so the big classes tile a page exactly.
 */
export function slabClasses(): number[] {
  const out: number[] = [];
  for (let s = 40; s <= 256; s += 8) out.push(s);
  let s = 256;
  for (;;) {
    s = Math.floor((s * 1.12) / 8) * 8;
    if (s >= PAGE / 32) break;
    out.push(s);
  }
  for (let n = 32; n >= 1; n--) {
    const c = Math.floor(PAGE / n / 8) * 8;
    if (c > out[out.length - 1]!) out.push(c);
  }
  if (out.length > MAX_CLASSES) throw new Error('too many slab classes');
  return out;
}
