/**
 * Owner-tagged spin-then-wait locks on Int32 words of the SharedArrayBuffer: the one helper pair
 * (`lockWord` / `unlockWord`) every lock of the store goes through.
 *
 * A lock word holds 0 when free, else `ownerId + 1` of the holder, so the supervisor can tell
 * which locks a dead worker held (`reclaimOwner`). The word after it counts waiters so unlock
 * only calls `Atomics.notify` when someone sleeps. Waits are always bounded: a thread serving
 * sockets must never sleep forever on a lock whose holder died; after `LOCK_TIMEOUT_MS` the
 * caller gets a `StoreLockTimeoutError` (the HTTP layer answers 503) and the supervisor's reclaim
 * frees the lock meanwhile.
 *
 * The fast paths are one CAS each and small enough for V8 to inline into the get/set hot paths;
 * the slow paths are separate functions so they stay out of those callers' inlining budget.
 */

const LOCK_SPINS = 64;
const LOCK_WAIT_SLICE_MS = 2;
const LOCK_TIMEOUT_MS = 5000;

export class StoreLockTimeoutError extends Error {
  readonly code = 'KV_ERR_STORE_LOCK_TIMEOUT';
  constructor(what: string, holder: number) {
    super(`store: timed out waiting for ${what} lock held by owner ${holder - 1}`);
    this.name = 'StoreLockTimeoutError';
  }
}

export class StoreLockDesyncError extends Error {
  readonly code = 'KV_ERR_STORE_LOCK_DESYNC';
  constructor(what: string, expected: number, found: number) {
    super(`store: unlock of ${what} by owner ${expected - 1} found word ${found}`);
    this.name = 'StoreLockDesyncError';
  }
}

/** Takes the lock at `words[index]` for `me`; true when the fast path missed (it had to wait). */
export function lockWord(words: Int32Array, index: number, me: number, what: string): boolean {
  if (Atomics.compareExchange(words, index, 0, me) === 0) return false;
  lockContended(words, index, me, what);
  return true;
}

function lockContended(words: Int32Array, index: number, me: number, what: string): void {
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

export function tryLockWord(words: Int32Array, index: number, me: number): boolean {
  return Atomics.compareExchange(words, index, 0, me) === 0;
}

/** Releases the lock `me` holds at `words[index]`. */
export function unlockWord(words: Int32Array, index: number, me: number, what: string): void {
  const found = Atomics.compareExchange(words, index, me, 0);
  // a plain read of the waiter count after the CAS (a full fence): a stale 0 would only delay a
  // waiter to the end of its wait slice, never lose it
  if (found !== me || words[index + 1] !== 0) unlockTail(words, index, me, found, what);
}

function unlockTail(words: Int32Array, index: number, me: number, found: number, what: string): void {
  if (found !== me) throw new StoreLockDesyncError(what, me, found);
  Atomics.notify(words, index, 1);
}

/** Hands a lock held by a dead owner to `me`; true when it did. */
export function stealLock(words: Int32Array, index: number, dead: number, me: number): boolean {
  return Atomics.compareExchange(words, index, dead, me) === dead;
}
