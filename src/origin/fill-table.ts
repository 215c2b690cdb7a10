import { hashBytes } from '../store/hash.js';

/**
 * The in-flight marker shared by every thread: one SharedArrayBuffer made by the supervisor,
 * a small open-addressed table of fills keyed by a 64-bit hash of the key. A thread that misses
 * claims a slot (and fetches) or finds the slot of a fill already in flight (and waits for it
 * with Atomics.waitAsync on the slot's sequence word). The filler publishes the outcome, bumps
 * the sequence, notifies every waiter at once, then frees the slot. A slot whose filler thread
 * died is reset by the supervisor (`resetOwner`): its waiters wake and refetch.
 */

/** Slots in the table (a power of two); a key that finds no free slot nearby fetches uncoalesced. */
export const FILL_SLOTS = 4096;
const PROBE = 8;
const WORDS = 8;
/** 0: free; CLAIMING while the claimer writes the rest; else the key's first hash word. */
const W_TAG_A = 0;
const W_TAG_B = 1;
/** Store owner id of the filling thread (0 while free). */
const W_OWNER = 2;
/** Bumped once per finished fill: the word waiters wait on. */
const W_SEQ = 3;
/** FillResult of the last finished fill of this slot, with the sequence it finished in (<< 4). */
const W_RESULT = 4;
/** Requests (from every thread) waiting for this fill, for --origin-max-waiters. */
const W_WAITERS = 5;
/** Body bytes arrived so far (the filler stores it before it bumps W_PROGRESS); -1 once closing. */
const W_ARRIVED = 6;
/** Bumped (and notified) by the filler for each batch of arrived bytes and when it finishes. */
const W_PROGRESS = 7;
const CLAIMING = -1;
/** 0.1 ms waits for a claim in progress to show its key, at most 1 ms in all (then Busy). */
const CLAIM_WAIT_STEPS = 10;
/** Reads of the probe path when other threads keep taking the free slot first (then Busy). */
const CLAIM_ATTEMPTS = 16;
const SEEDS: readonly [number, number] = [0x9e3779b9, 0x7f4a7c15];

/** How a fill ended, as waiters on other threads learn it. */
export const FillResult = {
  /** Stored: read it from the store. */
  Stored: 1,
  /** Served but not stored (no-store/private, or no room): fetch again. */
  NotStored: 2,
  NotFound: 3,
  Failed: 4,
  Timeout: 5,
  TooLarge: 6,
  /** The filling thread died: fetch again. */
  Died: 7,
  /** The bodies of the fills in flight already take their share of --memory. */
  NoMemory: 8,
} as const;
export type FillResult = (typeof FillResult)[keyof typeof FillResult];

/** Bytes of the slots; per-thread read-through counters follow (src/origin/metrics.ts). */
export function fillSlotBytes(): number {
  return FILL_SLOTS * WORDS * 4;
}

/** Retries of about 1 ms each while `claim` answers Busy (then the caller fetches uncoalesced). */
export const CLAIM_RETRIES = 1000;

/** What `claim` found. */
export const Claim = {
  Claimed: 0,
  Joined: 1,
  NoSlot: 2,
  /**
   * A slot on the key's probe path is being claimed by a thread that was descheduled between its
   * two stores: ask again shortly. Taking the next slot instead could start a second fetch of
   * the same key (it happened on a loaded machine with a 20 ms bound).
   */
  Busy: 3,
} as const;

export class FillTable {
  private readonly w: Int32Array;
  /** Set by `claim`: the slot, and for Joined the sequence to wait on. */
  slot = -1;
  seq = 0;

  constructor(sab: SharedArrayBuffer) {
    this.w = new Int32Array(sab, 0, FILL_SLOTS * WORDS);
  }

  /** Slots in use now (fills in flight, on every thread). */
  inUse(): number {
    let n = 0;
    for (let s = 0; s < FILL_SLOTS; s++) if (Atomics.load(this.w, s * WORDS + W_TAG_A) !== 0) n++;
    return n;
  }

  /** Non-zero tags of a key (a tag of 0 or CLAIMING is nudged). */
  static tags(key: Uint8Array): [number, number] {
    // As Int32Array words hold them (signed), so loads compare equal.
    let a = hashBytes(key, SEEDS[0]) | 0;
    if (a === 0 || a === CLAIMING) a = 1;
    return [a, hashBytes(key, SEEDS[1]) | 0];
  }

  /**
   * Claims a slot for a fill of the key with tags (a, b), or joins the fill in flight for it.
   * Claimed/Joined set `slot` (and `seq` for Joined).
   */
  claim(a: number, b: number, owner: number): number {
    const w = this.w;
    const home = (a ^ (b >>> 7)) & (FILL_SLOTS - 1);
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      // The whole probe path is read before a slot is taken: the key's fill may sit past a slot
      // that another key's finished fill freed meanwhile, and claiming that hole would fetch twice.
      let free = -1;
      for (let i = 0; i < PROBE; i++) {
        const s = ((home + i) & (FILL_SLOTS - 1)) * WORDS;
        // Read the sequence first: a fill that finishes after this read bumps it, so a wait on
        // it cannot miss the wake-up.
        const seq = Atomics.load(w, s + W_SEQ);
        let tag = Atomics.load(w, s + W_TAG_A);
        for (let spin = 0; tag === CLAIMING && spin < 1000; spin++) tag = Atomics.load(w, s + W_TAG_A);
        // A claimer descheduled between its two stores (a loaded machine): wait for it, bounded,
        // rather than claim another slot and fetch the same key twice.
        for (let waited = 0; tag === CLAIMING && waited < CLAIM_WAIT_STEPS; waited++) {
          Atomics.wait(w, s + W_TAG_A, CLAIMING, 0.1);
          tag = Atomics.load(w, s + W_TAG_A);
        }
        if (tag === CLAIMING) return Claim.Busy;
        if (tag === a && Atomics.load(w, s + W_TAG_B) === b && Atomics.load(w, s + W_OWNER) !== 0) {
          this.slot = s / WORDS;
          this.seq = seq;
          return Claim.Joined;
        }
        if (tag === 0 && free < 0) free = s;
      }
      if (free < 0) return Claim.NoSlot;
      if (Atomics.compareExchange(w, free + W_TAG_A, 0, CLAIMING) === 0) {
        Atomics.store(w, free + W_TAG_B, b);
        Atomics.store(w, free + W_OWNER, owner);
        Atomics.store(w, free + W_WAITERS, 0);
        Atomics.store(w, free + W_ARRIVED, 0);
        Atomics.store(w, free + W_TAG_A, a);
        this.slot = free / WORDS;
        // The slot is this claim's now, so its sequence stays put until this fill finishes.
        this.seq = Atomics.load(w, free + W_SEQ);
        return Claim.Claimed;
      }
      // Another thread took that slot between the reads and the exchange, perhaps for this very
      // key: read the path again (moving on to the next free slot would fetch the key twice).
      // What is left: two claimers of one key whose reads straddle a third thread freeing an
      // earlier slot on the path see different first free slots and both win; that needs an
      // unrelated fill to finish within the same microsecond, and costs one extra fetch.
    }
    return Claim.Busy;
  }

  /** Counts one more waiter on `slot`; false when that makes more than `max`. */
  addWaiter(slot: number, max: number): boolean {
    return Atomics.add(this.w, slot * WORDS + W_WAITERS, 1) < max;
  }

  /** Index of the progress word of `slot`, to Atomics.waitAsync on in `words`. */
  progressIndex(slot: number): number {
    return slot * WORDS + W_PROGRESS;
  }

  /** Whether the fill that `seq` named is over (its slot's sequence moved on). */
  over(slot: number, seq: number): boolean {
    return Atomics.load(this.w, slot * WORDS + W_SEQ) !== seq;
  }

  arrived(slot: number): number {
    return Atomics.load(this.w, slot * WORDS + W_ARRIVED);
  }

  /** The filler: `arrived` bytes are in place; wakes the waiters of every thread. */
  progress(slot: number, arrived: number): void {
    const s = slot * WORDS;
    Atomics.store(this.w, s + W_ARRIVED, arrived);
    Atomics.add(this.w, s + W_PROGRESS, 1);
    Atomics.notify(this.w, s + W_PROGRESS);
  }

  /**
   * The filler, before it publishes or frees the body's memory: from now on a waiter elsewhere must
   * not take bytes from that memory (`arrived` reads -1), and one that copied some meanwhile
   * throws its copy away (see `stillOpen`).
   */
  closing(slot: number): void {
    Atomics.store(this.w, slot * WORDS + W_ARRIVED, -1);
  }

  /**
   * After copying bytes out of a fill's memory: whether that memory was still the fill's, unpublished
   * and not freed, for the whole copy (the fill named by `seq` is still in flight and not closing).
   */
  stillOpen(slot: number, seq: number): boolean {
    return !this.over(slot, seq) && Atomics.load(this.w, slot * WORDS + W_ARRIVED) >= 0;
  }

  get words(): Int32Array {
    return this.w;
  }

  /** The result of the fill that finished as sequence `seq` + 1, or Died when the slot moved on. */
  resultAfter(slot: number, seq: number): FillResult {
    const r = Atomics.load(this.w, slot * WORDS + W_RESULT);
    if (r >>> 4 !== ((seq + 1) & 0x0fffffff)) return FillResult.Died;
    return (r & 15) as FillResult;
  }

  /** The filler's last word: publish the outcome, wake every waiter, free the slot. */
  finish(slot: number, result: FillResult): void {
    const w = this.w;
    const s = slot * WORDS;
    const next = (Atomics.load(w, s + W_SEQ) + 1) & 0x0fffffff;
    Atomics.store(w, s + W_RESULT, (next << 4) | result);
    Atomics.store(w, s + W_OWNER, 0);
    Atomics.store(w, s + W_TAG_B, 0);
    Atomics.store(w, s + W_TAG_A, 0);
    Atomics.store(w, s + W_SEQ, next);
    Atomics.add(w, s + W_PROGRESS, 1);
    Atomics.notify(w, s + W_PROGRESS);
  }

  /**
   * A thread died, before its store reservations are reclaimed: no waiter elsewhere takes bytes
   * from the memory of the fills it owned any more (the reclaim frees that memory).
   */
  closeOwner(owner: number): void {
    for (let slot = 0; slot < FILL_SLOTS; slot++) {
      const s = slot * WORDS;
      if (Atomics.load(this.w, s + W_OWNER) === owner && Atomics.load(this.w, s + W_TAG_A) !== 0) {
        this.closing(slot);
      }
    }
  }

  /** A thread died: every fill it owned ends as Died (its waiters refetch). Returns how many. */
  resetOwner(owner: number): number {
    let n = 0;
    for (let slot = 0; slot < FILL_SLOTS; slot++) {
      const s = slot * WORDS;
      if (Atomics.load(this.w, s + W_OWNER) === owner && Atomics.load(this.w, s + W_TAG_A) !== 0) {
        this.finish(slot, FillResult.Died);
        n++;
      }
    }
    return n;
  }
}

/** Atomics.waitAsync (ES2024; in every Node this project supports, not yet in its TypeScript lib). */
type WaitAsync = (
  words: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
export const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
