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
  /** The `Precondition` given to the write did not hold (checked under the stripe lock): 412. */
  PreconditionFailed: 4,
  /** Reservations in flight hold the budget: 503 + Retry-After (the write may succeed later). */
  Busy: 5,
} as const;
export type SetOutcome = (typeof SetOutcome)[keyof typeof SetOutcome];

/** Most strong tags one `Precondition` carries (an If-Match list longer than this is refused by http). */
export const MAX_PRECONDITION_TAGS = 8;

/** What a `Precondition` requires of the key's current (unexpired) entry. */
export const PreconditionKind = {
  /** Nothing: the write always proceeds. */
  None: 0,
  /** `If-Match: *`: the key must exist. */
  IfMatchAny: 1,
  /** `If-Match: "tag", ...`: the key must exist with one of the `tags` as its ETag. */
  IfMatchTags: 2,
  /** `If-None-Match: *`: the key must not exist (create only). */
  IfNoneMatchAny: 3,
} as const;
export type PreconditionKind = (typeof PreconditionKind)[keyof typeof PreconditionKind];

/**
 * Precondition checked under the stripe lock, atomically with the write or delete it guards
 * (If-Match / If-None-Match: *). A reusable record, like `ReadResult`: the HTTP layer fills it
 * from the request head. Tags are the 64-bit ETags as `get` reports them (`etagHi`, `etagLo`),
 * stored as (hi, lo) pairs; weak tags never match (If-Match uses the strong comparison), so the
 * caller leaves them out.
 */
export class Precondition {
  kind: PreconditionKind = PreconditionKind.None;
  /** Strong tags in `tags`, 0 to MAX_PRECONDITION_TAGS. */
  count = 0;
  readonly tags = new Uint32Array(MAX_PRECONDITION_TAGS * 2);

  /** Back to "no precondition". */
  reset(): void {
    this.kind = PreconditionKind.None;
    this.count = 0;
  }

  /** Adds one strong tag (kind becomes IfMatchTags); false when MAX_PRECONDITION_TAGS are held. */
  addTag(hi: number, lo: number): boolean {
    if (this.count >= MAX_PRECONDITION_TAGS) return false;
    this.kind = PreconditionKind.IfMatchTags;
    this.tags[this.count * 2] = hi >>> 0;
    this.tags[this.count * 2 + 1] = lo >>> 0;
    this.count++;
    return true;
  }

  /**
   * Whether the precondition holds for the key's current state: `exists` false for an absent or
   * expired key, else the entry's ETag (`etagHi`, `etagLo`).
   */
  holds(exists: boolean, etagHi: number, etagLo: number): boolean {
    switch (this.kind) {
      case PreconditionKind.None:
        return true;
      case PreconditionKind.IfMatchAny:
        return exists;
      case PreconditionKind.IfNoneMatchAny:
        return !exists;
      default: {
        if (!exists) return false;
        const t = this.tags;
        for (let i = 0; i < this.count; i++) {
          if (t[i * 2] === etagHi >>> 0 && t[i * 2 + 1] === etagLo >>> 0) return true;
        }
        return false;
      }
    }
  }
}

/**
 * Where a write reports the strong ETag of the entry it stored (the one `get` of it shows in
 * `ReadResult.etagHi`/`etagLo`), filled only on Created/Replaced. A reusable caller-owned record,
 * like `ReadResult`: the HTTP layer answers a write with the tag without a second lookup.
 */
export class WriteResult {
  etagHi = 0;
  etagLo = 0;
}

/** What `delete` did: `true` deleted, `false` no such (unexpired) key, or the precondition failed. */
export type DeleteOutcome = boolean | 'precondition-failed';

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
  /**
   * The caller accepts a large body (over one 64 KiB page) as views of the store's buffer
   * (`views`, pinned: `pin`) instead of a copy.
   */
  wantView = false;
  /**
   * false: a body copied into `target` gets no `body` view (one allocation per hit when the
   * target offset moves, as an output arena's does); read `bodyInTarget` and `bodyLength`, and
   * find the bytes at `target[targetOffset]`. A fresh Buffer (target too small) is always `body`.
   */
  wantBodyView = true;

  // ---- outputs ----
  /** The body was copied into `target` at `targetOffset` (`bodyLength` bytes). */
  bodyInTarget = false;
  status: ReadStatus = ReadStatus.Miss;
  totalLength = 0;
  bodyStart = 0;
  bodyLength = 0;
  /** View of the copied bytes (into `target` or a fresh Buffer); empty when !wantBody or 304/416. */
  body: Uint8Array = EMPTY;
  /**
   * 0: the body was copied (`body`). Else the body is `views` (SharedArrayBuffer views, in
   * order) and the caller MUST call `store.unpin(pin)` once their socket write completed (or the
   * connection died); until then the bytes stay valid, whatever happens to the key.
   */
  pin = 0;
  readonly views: Uint8Array[] = [];
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
    this.wantView = false;
    this.wantBodyView = true;
  }
}

/**
 * An unpublished entry an upload or a read-through fill writes into (see src/store/reservation.ts).
 * Made by `KvStore.reserve`; owner-tagged in the buffer so a dead thread's are reclaimed.
 */
export interface Reservation {
  /** Re-opens it read-only from another thread (`KvStore.openReservation`); 0 once closed. */
  readonly id: number;
  /** Bytes it holds room for. */
  readonly length: number;
  /** Copies `chunk` to value offset `offset` (no stripe lock; bounds-checked). */
  write(chunk: Uint8Array, offset: number): void;
  /** Chunked bodies: room for `newLength` bytes (bytes so far kept); false: the caller answers 507/503. */
  grow(newLength: number): boolean;
  /** Why the last grow failed (TooLarge or Busy). */
  readonly lastRefusal: SetOutcome;
  /** Copies bytes already written into `target` (read-through waiters). */
  readInto(offset: number, length: number, target: Uint8Array, targetOffset: number): void;
  /**
   * Makes the first `finalLength` bytes the key's value, `pre` checked under the stripe lock; the
   * stripe lock is held only to swap index pointers. Anything but Created/Replaced frees it.
   * `written`, when given, gets the published entry's ETag on Created/Replaced.
   */
  publish(finalLength: number, pre?: Precondition, written?: WriteResult): SetOutcome;
  /** Frees it; the key's old value stays readable. Idempotent. */
  abort(): void;
}

/** What `reserve` gives: the reservation, or why not (TooLarge: 507, Busy: 503). */
export type ReserveOutcome = Reservation | typeof SetOutcome.TooLarge | typeof SetOutcome.Busy;

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
  /**
   * Reservations in flight (uploads not yet published) and the budget bytes they hold. `Store`
   * always fills them; optional so a stats record from an older writer still type-checks.
   */
  reservations?: number;
  reservedBytes?: number;
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
  /** Stripes of the store (filled by every step): a purge is done once stripe `stripes - 1` is. */
  stripes = 1;
}

export interface KvStore {
  /**
   * Stores `value` (one view, or chunks concatenated in order) under `key`.
   * `ttlSeconds` 0 means no expiry. Evicts until the entry fits; TooLarge when it never can.
   * Throws RangeError for a key of 0 or over MAX_KEY_BYTES bytes, a content type over
   * MAX_CONTENT_TYPE_BYTES, or a value over maxValueSize (the HTTP layer checks first).
   * With `pre`, the precondition is checked under the stripe lock against the key's current
   * entry and nothing changes when it fails (PreconditionFailed). `written`, when given, gets
   * the new entry's ETag on Created/Replaced.
   */
  set(
    key: Uint8Array,
    value: Uint8Array | readonly Uint8Array[],
    contentType: Uint8Array,
    ttlSeconds: number,
    pre?: Precondition,
    written?: WriteResult,
  ): SetOutcome;
  /**
   * Fills `out`; returns `out.status`. Copies only the bytes that will be sent: the whole value,
   * or the span `out.select` chose.
   */
  get(key: Uint8Array, out: ReadResult): ReadStatus;
  /**
   * true when the key existed (and had not expired) and is gone now; false when there was no such
   * key; 'precondition-failed' (nothing deleted) when `pre` did not hold, checked under the stripe
   * lock. An If-Match precondition on an absent key fails (412 before 404, as RFC 9110 orders them).
   */
  delete(key: Uint8Array, pre?: Precondition): DeleteOutcome;
  /**
   * Early, advisory check of `pre` against the key's current entry (at head time, to refuse a body
   * before reading it). The write re-checks atomically; a true here can still end in
   * PreconditionFailed.
   */
  check(key: Uint8Array, pre: Precondition): boolean;
  /**
   * Reserves an unpublished entry of `length` value bytes (the declared Content-Length, or a
   * first step for a chunked body: then `grow`), evicting to make room. TooLarge (507) when it
   * can never fit or nothing more can be evicted; Busy (503 + Retry-After) when reservations in
   * flight hold the budget. Throws RangeError like `set` for bad arguments.
   */
  reserve(key: Uint8Array, length: number, contentType: Uint8Array, ttlSeconds: number): ReserveOutcome;
  /** Another thread's reservation by `id`, for reading only; null when it is gone. */
  openReservation(id: number): Reservation | null;
  /** Releases a pin `get` returned in `ReadResult.pin` (same thread). */
  unpin(pin: number): void;
  stats(): StoreStats;
  /**
   * One bounded step of a prefix purge in `stripe`: under that stripe's lock, removes every live
   * entry whose key starts with `prefix` in at least `budget` index slots from `cursor` (plus the
   * rest of the run of occupied slots it ends in), and fills `out` (`out.stripes`: how many
   * stripes there are to step through, from 0). Returns `out`.
   */
  purgePrefix(
    prefix: Uint8Array,
    stripe: number,
    cursor: number,
    budget: number,
    out: PurgeProgress,
  ): PurgeProgress;
}
