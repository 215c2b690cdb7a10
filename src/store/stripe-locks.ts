/**
 * The store's two kinds of lock over `lock.ts`'s one helper pair: a stripe lock per stripe, and
 * the allocator lock. Lock order: stripe lock -> allocator lock. A thread holds at most one
 * stripe lock while it may block; other stripes are only ever try-locked (eviction), so there is
 * no deadlock.
 */
import { H_ALLOC_LOCK, S_LOCK } from './layout.js';
import { lockWord, tryLockWord, unlockWord } from './lock.js';
import type { Views } from './views.js';

export class StripeLocks {
  /** Stripe lock acquisitions by this instance that missed the fast path (for benchmarks). */
  contended = 0;

  constructor(private readonly v: Views) {}

  lockStripe(s: number): void {
    if (lockWord(this.v.i32, this.v.stripeWord(s) + S_LOCK, this.v.me, 'stripe')) this.contended++;
  }

  tryLockStripe(s: number): boolean {
    return tryLockWord(this.v.i32, this.v.stripeWord(s) + S_LOCK, this.v.me);
  }

  unlockStripe(s: number): void {
    unlockWord(this.v.i32, this.v.stripeWord(s) + S_LOCK, this.v.me, 'stripe');
  }

  lockAllocator(): void {
    lockWord(this.v.i32, H_ALLOC_LOCK, this.v.me, 'allocator');
  }

  unlockAllocator(): void {
    unlockWord(this.v.i32, H_ALLOC_LOCK, this.v.me, 'allocator');
  }

  /** How many locks (stripes and allocator) `ownerId` holds now: the supervisor's hang check. */
  heldBy(ownerId: number): number {
    const i32 = this.v.i32;
    const word = ownerId + 1;
    let n = Atomics.load(i32, H_ALLOC_LOCK) === word ? 1 : 0;
    for (let s = 0; s < this.v.L.stripes; s++)
      if (Atomics.load(i32, this.v.stripeWord(s) + S_LOCK) === word) n++;
    return n;
  }
}
