/**
 * The store's contract with the rest of the server. The HTTP layer codes against `KvStore`;
 * `src/store/store.ts` implements it over one SharedArrayBuffer shared by every worker.
 *
 * Everything is bytes: keys, values and content types are Uint8Array views, never strings.
 * Results come back through caller-owned records (`ReadResult`) so a request allocates nothing
 * the caller could have reused.
 */

/** Fixed when the SharedArrayBuffer is allocated; every worker attaches with the same values. */
import { EMPTY } from '../base/bytes.js';
export interface StoreOptions {
  /** Hard budget in bytes for everything the store holds: index, metadata, keys, values, slack. */
  readonly memory: number;
  /** Index capacity, preallocated. */
  readonly maxKeys: number;
  /** Lock stripes, a power of two; 1 is one global lock. */
  readonly stripes: number;
  /** Largest value accepted by `set`. */
  readonly maxValueSize: number;
}

export const MAX_KEY_BYTES = 1024;
export const MAX_CONTENT_TYPE_BYTES = 255;

export const SetOutcome = {
  Created: 1,
  Replaced: 2,
  /** Larger than the store can ever hold, even empty: the HTTP layer answers 507. */
  TooLarge: 3,
} as const;
export type SetOutcome = (typeof SetOutcome)[keyof typeof SetOutcome];

export const ReadStatus = {
  Miss: 0,
  /** Whole value: 200. */
  Hit: 1,
  /** One of the If-None-Match candidates matched: 304, no body copied. */
  NotModified: 2,
  /** A span chosen by the selector: 206, `bodyStart`..`bodyStart + bodyLength - 1` of `totalLength`. */
  Partial: 3,
  /** 416 with `Content-Range: bytes *\/totalLength`. */
  RangeNotSatisfiable: 4,
} as const;
export type ReadStatus = (typeof ReadStatus)[keyof typeof ReadStatus];

/**
 * What `get` returns for a found entry, decided by the caller's HTTP semantics (If-None-Match,
 * Range: src/http/conditional.ts and range.ts). Called under the stripe lock once `out` holds the
 * entry's ETag and `totalLength`; returns Hit (whole value), NotModified, RangeNotSatisfiable, or
 * Partial after setting `out.bodyStart` and `out.bodyLength` to a span inside the value. It must
 * not call back into the store.
 */
export interface ReadSelector {
  select(out: ReadResult): ReadStatus;
}

/**
 * One reusable record per connection (or per thread): the caller fills the inputs, `get` fills
 * the outputs.
 */
export class ReadResult {
  // ---- inputs ----
  /** null: the whole value (Hit). */
  select: ReadSelector | null = null;
  /** false for HEAD: metadata only, nothing copied. */
  wantBody = true;
  /**
   * Where to copy the body when it fits (e.g. the connection's output arena); when null or too
   * small, `get` allocates a Buffer of exactly the body length.
   */
  target: Uint8Array | null = null;
  targetOffset = 0;

  // ---- outputs ----
  status: ReadStatus = ReadStatus.Miss;
  totalLength = 0;
  bodyStart = 0;
  bodyLength = 0;
  /** View of the copied bytes (into `target` or a fresh Buffer); empty when !wantBody or 304/416. */
  body: Uint8Array = EMPTY;
  readonly contentType = new Uint8Array(MAX_CONTENT_TYPE_BYTES);
  contentTypeLength = 0;
  /**
   * Strong ETag, 64 bits: the store's random epoch XOR the entry's version. The same in every
   * thread and across worker restarts; changes on every set; never reissued (new epoch per process).
   */
  etagHi = 0;
  etagLo = 0;

  // ---- kept by `get` ----
  /**
   * The last view `get` made into a target, and where it points: the next `get` of the same length
   * into the same place reuses it (no allocation) without asking the view for its buffer and
   * offset (`.buffer` is a call into the runtime).
   */
  bodyView: Uint8Array = EMPTY;
  bodyViewTarget: Uint8Array | null = null;
  bodyViewAt = 0;
  /** Which store's interned content type `contentType` holds (the copy is skipped when unchanged). */
  contentTypeOf: object | null = null;
  contentTypeRef = 0;

  /** Resets the inputs to "plain GET of the whole value". */
  reset(): void {
    this.select = null;
    this.wantBody = true;
    this.target = null;
    this.targetOffset = 0;
  }
}

/** Summed over stripes on demand; no hot shared counter. */
export interface StoreStats {
  entries: number;
  /** Bytes of the budget in use (data memory incl. metadata and allocation slack). */
  bytesUsed: number;
  /** Bytes of keys plus values actually stored. */
  payloadBytes: number;
  memoryBudget: number;
  hits: number;
  misses: number;
  sets: number;
  deletes: number;
  evictions: number;
  expirations: number;
}

/**
 * Where a prefix purge of one stripe stands, filled by `KvStore.purgePrefix` (one reusable record
 * per purge). Start a stripe with `cursor` 0; call again with the returned cursor until `done`.
 */
export class PurgeProgress {
  /** Index slot to resume at. */
  cursor = 0;
  /** The stripe has been scanned to its end. */
  done = false;
  /** Slots looked at by the last step (the bound on its time under the lock). */
  examined = 0;
  /** Live entries the last step removed. */
  purged = 0;
}

export interface KvStore {
  /**
   * Stores `value` (one view, or chunks concatenated in order) under `key`.
   * `ttlSeconds` 0 means no expiry. Evicts until the entry fits; TooLarge when it never can.
   * Throws RangeError for a key of 0 or over MAX_KEY_BYTES bytes, a content type over
   * MAX_CONTENT_TYPE_BYTES, or a value over maxValueSize (the HTTP layer checks first).
   */
  set(
    key: Uint8Array,
    value: Uint8Array | readonly Uint8Array[],
    contentType: Uint8Array,
    ttlSeconds: number,
  ): SetOutcome;
  /**
   * Fills `out`; returns `out.status`. Copies only the bytes that will be sent: the whole value,
   * or the span `out.select` chose.
   */
  get(key: Uint8Array, out: ReadResult): ReadStatus;
  /** true when the key existed (and had not expired). */
  delete(key: Uint8Array): boolean;
  stats(): StoreStats;
  /** Lock stripes: the units a prefix purge steps through (0 .. stripeCount - 1). */
  readonly stripeCount: number;
  /**
   * One bounded step of a prefix purge in `stripe`: under that stripe's lock, removes every live
   * entry whose key starts with `prefix` in at least `budget` index slots from `cursor` (plus the
   * rest of the run of occupied slots it ends in), and fills `out`. Returns `out`.
   */
  purgePrefix(
    prefix: Uint8Array,
    stripe: number,
    cursor: number,
    budget: number,
    out: PurgeProgress,
  ): PurgeProgress;
}
