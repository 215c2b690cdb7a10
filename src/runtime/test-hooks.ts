import type { Store } from '../store/store.js';
import type { Logger } from '../base/log.js';

/**
 * Fault injection for the integration tests, kept out of the production classes. Off unless the
 * supervisor's environment has STRIPECACHE_TEST_HOOKS=1; then SIGUSR2 makes the first worker
 * thread fail as STRIPECACHE_TEST_FAULT says:
 * - `crash` (the default): throw an uncaught error, as a bug would;
 * - `crash-locked`: take the stripe lock of FAULT_KEY, then throw (dies holding the lock);
 * - `hang-locked`: take the stripe lock of FAULT_KEY, then spin forever (the heartbeat's case).
 * The locked faults log the stripe, the store's hash seed and its stripe shift, so a test can tell
 * which of its keys the reclaim of that stripe was allowed to lose.
 */
const ENABLED = process.env['STRIPECACHE_TEST_HOOKS'] === '1';
const FAULT = process.env['STRIPECACHE_TEST_FAULT'] ?? 'crash';
export const FAULT_KEY = 'fault-victim';

/** Supervisor side: on SIGUSR2, `crashOne` asks one worker to fail. */
export function installCrashSignal(crashOne: () => void): void {
  if (ENABLED) process.on('SIGUSR2', crashOne);
}

/** Worker side: fails outside any handler, like a bug would. */
export function crashThisThread(store: Store, log: Logger): void {
  setImmediate(() => {
    if (FAULT === 'crash-locked' || FAULT === 'hang-locked') {
      const key = Buffer.from(FAULT_KEY, 'latin1');
      const stripe = store.views.stripeOf(store.index.hashKey(key));
      store.locks.lockStripe(stripe);
      log.warn('test hook: holding a stripe lock', {
        fault: FAULT,
        stripe,
        seed: store.views.seed,
        shift: store.views.shift,
      });
      if (FAULT === 'hang-locked') for (;;);
    }
    throw new Error('worker crash requested by test hook');
  });
}
