/**
 * Test hooks into a Store's parts: what a worker dying inside a set leaves behind, and which
 * stripe a key maps to. Kept out of the production class; they use only the parts `Store` exposes.
 */
import { PAGE } from '../../dist/store/layout.js';
import type { Store } from '../../dist/store/store.js';

/** Which stripe a key maps to. */
export function stripeOfKey(store: Store, key: Uint8Array): number {
  return store.views.stripeOf(store.index.hashKey(key));
}

/** Takes the stripe lock of `key` and keeps it (simulates dying inside a set); returns the stripe. */
export function holdStripeLockOf(store: Store, key: Uint8Array): number {
  const s = stripeOfKey(store, key);
  store.locks.lockStripe(s);
  return s;
}

/** With `key`'s stripe locked (`holdStripeLockOf`), allocates memory a crashed set would leak. */
export function leakAllocation(store: Store, key: Uint8Array, bytes: number): void {
  const s = stripeOfKey(store, key);
  const ref = store.eviction.allocSlotLocked(s, store.views.alloc.classFor(Math.min(bytes, PAGE)));
  if (ref === 0) throw new Error('no memory');
  for (let left = bytes - PAGE; left > 0; left -= PAGE) {
    if (store.eviction.allocPageLocked(s, ref) < 0) throw new Error('no memory');
  }
}
