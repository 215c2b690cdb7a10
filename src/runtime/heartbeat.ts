/**
 * Hung-thread detection. Each worker bumps its word of a small SharedArrayBuffer at least every
 * BEAT_MS from its HTTP server's timeout sweep, so the word moves only while its event loop turns. The supervisor
 * watches the words: a thread whose word stood still for HANG_MS while it holds a store lock is
 * hung (a healthy thread holds a stripe lock for microseconds), and so is one that stood still
 * for STALL_MS holding none (a loop that never yields). A thread that merely waits for a lock
 * held by a hung one also stands still, so only the longest-still thread is named per check:
 * once it is replaced and its locks reclaimed, the waiters move again.
 */

/**
 * Beating and checking once a second each: a healthy thread looks still at most ~2 s (a beat
 * plus a check apart), far below HANG_MS, and a hung one is named at most ~2 s after HANG_MS.
 * Faster rates would only wake idle threads more often (an idle server's CPU is mostly wakeups).
 */
export const BEAT_MS = 1_000;
const CHECK_MS = 1_000;
/** Standing still this long while holding a store lock: hung. Above the store's 5 s lock wait, a waiter's worst block. */
export const HANG_MS = 6_000;
/** Standing still this long without a lock: hung too. */
export const STALL_MS = 30_000;

export function heartbeatBytes(threads: number): number {
  return 4 * threads;
}

/**
 * Worker side: moves `threadIndex`'s word; called at least every BEAT_MS while the thread's event
 * loop turns (the HTTP server's timeout sweep, whose tick is at most a second).
 */
export function beater(sab: SharedArrayBuffer, threadIndex: number): () => void {
  const beats = new Int32Array(sab);
  return () => void Atomics.add(beats, threadIndex, 1);
}

export interface Watched {
  threadIndex: number;
  /** Store locks the thread holds now. */
  locksHeld(): number;
  /** Called once when the thread is judged hung. */
  hung(stillMs: number, locks: number): void;
}

/** Supervisor side: watches the words of the threads `list()` returns (the live, listening ones). */
export class HeartbeatWatch {
  private readonly beats: Int32Array;
  private readonly seen: Int32Array;
  private readonly since: Float64Array;
  private lastCheck = 0;

  constructor(
    sab: SharedArrayBuffer,
    private readonly list: () => Watched[],
  ) {
    this.beats = new Int32Array(sab);
    this.seen = new Int32Array(this.beats.length);
    this.since = new Float64Array(this.beats.length).fill(Date.now());
  }

  /** Runs a check if CHECK_MS passed since the last; the supervisor calls it from its sweep tick. */
  tick(now: number): void {
    // A little slack: a 1 s timer may read the clock a millisecond early, which must not skip a check.
    if (now - this.lastCheck < CHECK_MS - 50) return;
    this.lastCheck = now;
    this.check(now);
  }

  /** A fresh thread in `threadIndex`: its stillness counts from now. */
  reset(threadIndex: number): void {
    this.seen[threadIndex] = Atomics.load(this.beats, threadIndex);
    this.since[threadIndex] = Date.now();
  }

  private check(now: number): void {
    let worst: Watched | null = null;
    let worstStill = 0;
    let worstLocks = 0;
    for (const w of this.list()) {
      const i = w.threadIndex;
      const beat = Atomics.load(this.beats, i);
      if (beat !== this.seen[i]) {
        this.seen[i] = beat;
        this.since[i] = now;
        continue;
      }
      const still = now - this.since[i]!;
      if (still < HANG_MS || still <= worstStill) continue;
      const locks = w.locksHeld();
      if (locks === 0 && still < STALL_MS) continue;
      worst = w;
      worstStill = still;
      worstLocks = locks;
    }
    if (worst !== null) {
      this.since[worst.threadIndex] = now;
      worst.hung(worstStill, worstLocks);
    }
  }
}
