/**
 * Formatting the shared buffer, and one thread's typed-array views of it plus the per-stripe
 * offsets every part of the store derives from the header. Views are built once per `Store` and
 * shared by its parts, so each part reads the same fields instead of recomputing them.
 */
import { randomFillSync } from 'node:crypto';
import type { StoreOptions } from './api.js';
import { Allocator } from './allocator.js';
import {
  H_EPOCH_HI,
  H_EPOCH_LO,
  H_MAGIC,
  H_MAX_KEYS,
  H_MAX_VALUE,
  H_NUM_PAGES,
  H_SEED,
  H_SLOTS_PER_STRIPE,
  H_STRIPE_CAP,
  H_STRIPES,
  H_VERSION,
  HF_CREATED_MS,
  HF_MEMORY,
  LAYOUT_VERSION,
  MAGIC,
  STRIPE_BYTES,
  computeLayout,
  type Layout,
} from './layout.js';

/** A new buffer for `opts`, its header written and the allocator formatted; magic stored last. */
export function formatBuffer(opts: StoreOptions): SharedArrayBuffer {
  const L = computeLayout(opts);
  const sab = new SharedArrayBuffer(L.memory);
  const u32 = new Uint32Array(sab);
  const f64 = new Float64Array(sab, 0, 64);
  const rnd = new Uint32Array(3);
  randomFillSync(rnd);
  u32[H_VERSION] = LAYOUT_VERSION;
  u32[H_MAX_KEYS] = L.maxKeys;
  u32[H_STRIPES] = L.stripes;
  u32[H_MAX_VALUE] = L.maxValueSize;
  u32[H_NUM_PAGES] = L.numPages;
  u32[H_SLOTS_PER_STRIPE] = L.slotsPerStripe;
  u32[H_STRIPE_CAP] = L.stripeCap;
  u32[H_SEED] = rnd[0]!;
  u32[H_EPOCH_HI] = rnd[1]!;
  u32[H_EPOCH_LO] = rnd[2]!;
  f64[HF_MEMORY] = L.memory;
  f64[HF_CREATED_MS] = Date.now();
  new Allocator(u32, L).rebuildLocked(new Uint8Array(0));
  Atomics.store(u32, H_MAGIC, MAGIC);
  return sab;
}

/** One thread's views of a formatted buffer (validated against its header). */
export class Views {
  readonly L: Layout;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly alloc: Allocator;
  /** Lock word value of this instance: ownerId + 1. */
  readonly me: number;
  readonly seed: number;
  readonly epochHi: number;
  readonly epochLo: number;
  readonly createdMs: number;
  /** Right shift from a hash to its stripe (32 with one stripe). */
  readonly shift: number;
  readonly slotsPerStripe: number;
  readonly stripeCap: number;
  readonly numPages: number;
  /** u32 index of stripe 0's line, f64 index of its counters, u32 index of its first slot. */
  readonly stripeWord0: number;
  readonly stripeF64_0: number;
  readonly indexWord0: number;

  constructor(sab: SharedArrayBuffer, me: number) {
    const u32 = new Uint32Array(sab);
    if (Atomics.load(u32, H_MAGIC) !== MAGIC || u32[H_VERSION] !== LAYOUT_VERSION) {
      throw new RangeError('not a stripecache store buffer (bad magic or layout version)');
    }
    const f64 = new Float64Array(sab);
    this.L = computeLayout({
      memory: f64[HF_MEMORY]!,
      maxKeys: u32[H_MAX_KEYS]!,
      stripes: u32[H_STRIPES]!,
      maxValueSize: u32[H_MAX_VALUE]!,
    });
    if (this.L.numPages !== u32[H_NUM_PAGES] || sab.byteLength !== this.L.memory) {
      throw new RangeError('store buffer layout does not match its header');
    }
    this.me = me;
    this.u8 = new Uint8Array(sab);
    this.u32 = u32;
    this.i32 = new Int32Array(sab);
    this.f64 = f64;
    this.alloc = new Allocator(u32, this.L);
    this.seed = u32[H_SEED]!;
    this.epochHi = u32[H_EPOCH_HI]!;
    this.epochLo = u32[H_EPOCH_LO]!;
    this.createdMs = f64[HF_CREATED_MS]!;
    this.shift = 32 - this.L.stripeBits;
    this.slotsPerStripe = this.L.slotsPerStripe;
    this.stripeCap = this.L.stripeCap;
    this.numPages = this.L.numPages;
    this.stripeWord0 = this.L.stripeTable >>> 2;
    this.stripeF64_0 = (this.L.stripeTable + 64) >>> 3;
    this.indexWord0 = this.L.index >>> 2;
  }

  stripeOf(h: number): number {
    return this.shift === 32 ? 0 : h >>> this.shift;
  }

  /** u32 index of stripe s's line. */
  stripeWord(s: number): number {
    return this.stripeWord0 + s * (STRIPE_BYTES >>> 2);
  }

  /** f64 index of stripe s's counters. */
  stripeF64(s: number): number {
    return this.stripeF64_0 + s * (STRIPE_BYTES >>> 3);
  }
}
