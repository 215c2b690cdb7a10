/**
 * DELETE /prefix/{prefix}: a purge runs in bounded steps across event-loop turns. Each store step
 * holds one stripe lock for at most STEP_SLOTS index slots (plus the run of occupied slots it ends
 * in, see src/store/purge.ts); each turn does at most TURN_SLOTS slots over as many steps and
 * stripes as that takes, then yields with setImmediate so the thread reads sockets and answers
 * other requests (its own connection's pipelined ones wait: answers go out in order).
 */
import { StoreLockTimeoutError } from '../store/lock.js';
import { PurgeProgress, type KvStore } from '../store/api.js';

/** Index slots one store step examines under a stripe lock (a few tens of microseconds). */
export const STEP_SLOTS = 2048;
/** Index slots examined per event-loop turn before the thread serves its sockets again. */
export const TURN_SLOTS = 16 * 1024;

/** How a purge ended: `busy` when a stripe lock stayed held past the store's wait. */
export type PurgeEnd = 'done' | 'busy' | 'failed';

export class PrefixPurge {
  /** Live entries removed so far. */
  purged = 0;
  private stripe = 0;
  private readonly progress = new PurgeProgress();

  /**
   * `prefix` must be the purge's own copy (the request's bytes are reused once it is answered).
   * `onTurn` runs after every turn that did not finish (the connection marks itself active).
   */
  constructor(
    private readonly store: KvStore,
    private readonly prefix: Uint8Array,
    private readonly onEnd: (purged: number, end: PurgeEnd, error: unknown) => void,
    private readonly onTurn: () => void = () => {},
  ) {}

  start(): void {
    setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    const store = this.store;
    const p = this.progress;
    let slots = 0;
    try {
      // p.stripes is the store's stripe count once the first step filled it in
      while (this.stripe < p.stripes && slots < TURN_SLOTS) {
        store.purgePrefix(this.prefix, this.stripe, p.cursor, STEP_SLOTS, p);
        slots += p.examined;
        this.purged += p.purged;
        if (p.done) {
          this.stripe++;
          p.cursor = 0;
          p.done = false;
        }
      }
    } catch (e) {
      this.onEnd(this.purged, e instanceof StoreLockTimeoutError ? 'busy' : 'failed', e);
      return;
    }
    if (this.stripe < p.stripes) {
      this.onTurn();
      setImmediate(this.turn);
    } else {
      this.onEnd(this.purged, 'done', null);
    }
  };
}
