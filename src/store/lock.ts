/**
 * Owner-tagged spin-then-wait locks on Int32 words of the SharedArrayBuffer.
 *
 * A lock word holds 0 when free, else `ownerId + 1` of the holder, so the supervisor can tell
 * which locks a dead worker held (`reclaimOwner`). The word after it counts waiters so unlock
 * only calls `Atomics.notify` when someone sleeps. Waits are always bounded: a thread serving
 * sockets must never sleep forever on a lock whose holder died; after `LOCK_TIMEOUT_MS` the
 * caller gets a `StoreLockTimeoutError` (the HTTP layer answers 503) and the supervisor's reclaim
 * frees the lock meanwhile.
 */

export const LOCK_SPINS = 64;
export const LOCK_WAIT_SLICE_MS = 2;
export const LOCK_TIMEOUT_MS = 5000;

export class StoreLockTimeoutError extends Error {
  constructor(what: string, holder: number) {
    super(`store: timed out waiting for ${what} lock held by owner ${holder - 1}`);
    this.name = 'StoreLockTimeoutError';
  }
}

export class StoreLockDesyncError extends Error {
  constructor(what: string, expected: number, found: number) {
    super(`store: unlock of ${what} by owner ${expected - 1} found word ${found}`);
    this.name = 'StoreLockDesyncError';
  }
}

/** Fast path inline at call sites: `Atomics.compareExchange(w, i, 0, me) === 0 || lockSlow(...)`. */
export function lockSlow(words: Int32Array, index: number, me: number, what: string): void {
  for (let spin = 0; spin < LOCK_SPINS; spin++) {
    if (Atomics.load(words, index) === 0 && Atomics.compareExchange(words, index, 0, me) === 0) return;
  }
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    Atomics.add(words, index + 1, 1);
    const seen = Atomics.load(words, index);
    if (seen !== 0) Atomics.wait(words, index, seen, LOCK_WAIT_SLICE_MS);
    Atomics.sub(words, index + 1, 1);
    if (Atomics.compareExchange(words, index, 0, me) === 0) return;
    if (Date.now() > deadline) throw new StoreLockTimeoutError(what, Atomics.load(words, index));
  }
}

export function tryLock(words: Int32Array, index: number, me: number): boolean {
  return Atomics.compareExchange(words, index, 0, me) === 0;
}

export function unlock(words: Int32Array, index: number, me: number, what: string): void {
  const found = Atomics.compareExchange(words, index, me, 0);
  if (found !== me) throw new StoreLockDesyncError(what, me, found);
  if (Atomics.load(words, index + 1) !== 0) Atomics.notify(words, index, 1);
}

/** Hands a lock held by a dead owner to `me`; true when it did. */
export function stealLock(words: Int32Array, index: number, dead: number, me: number): boolean {
  return Atomics.compareExchange(words, index, dead, me) === dead;
}
