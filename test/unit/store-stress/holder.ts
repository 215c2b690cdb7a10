/** Kill-test worker: takes a stripe lock, leaks memory as a set dying mid-update would, spins. */
import { parentPort, workerData } from 'node:worker_threads';
import { Store } from '../../../dist/store/index.js';
import { holdStripeLockOf, leakAllocation } from '../../helpers/store-hooks.js';

const { sab, ownerId, victim, leakBytes } = workerData as {
  sab: SharedArrayBuffer;
  ownerId: number;
  victim: Uint8Array;
  leakBytes: number;
};
const store = Store.attach(sab, ownerId);
holdStripeLockOf(store, victim);
leakAllocation(store, victim, leakBytes);
parentPort!.postMessage('locked');
for (;;) {
  // spin holding the lock until terminated
}
