/** Compare-and-set racer: each round reads the key's ETag, meets the other racer, then writes If-Match it. */
import { parentPort, workerData } from 'node:worker_threads';
import { Precondition, ReadResult, ReadStatus, SetOutcome, Store } from '../../../dist/store/index.js';

export interface RaceJob {
  sab: SharedArrayBuffer;
  /** [arrived, generation] of the racers' barrier */
  ctl: SharedArrayBuffer;
  ownerId: number;
  racers: number;
  rounds: number;
}

export interface RaceReport {
  /** 1 where this racer's write won the round */
  wins: Uint8Array;
  errors: string[];
}

const job = workerData as RaceJob;
const store = Store.attach(job.sab, job.ownerId);
const ctl = new Int32Array(job.ctl);
const key = new TextEncoder().encode('race/key');
const ct = new TextEncoder().encode('text/plain');
const read = new ReadResult();
read.wantBody = false;
const pre = new Precondition();

/** Every racer waits here until all arrived (bounded: a lost racer fails the run, never hangs it). */
function barrier(): void {
  const gen = Atomics.load(ctl, 1);
  if (Atomics.add(ctl, 0, 1) === job.racers - 1) {
    Atomics.store(ctl, 0, 0);
    Atomics.add(ctl, 1, 1);
    Atomics.notify(ctl, 1);
    return;
  }
  const until = Date.now() + 20_000;
  while (Atomics.load(ctl, 1) === gen) {
    if (Date.now() > until) throw new Error('the other racer never reached the barrier');
    Atomics.wait(ctl, 1, gen, 100);
  }
}

const wins = new Uint8Array(job.rounds);
const errors: string[] = [];
try {
  for (let round = 0; round < job.rounds; round++) {
    if (store.get(key, read) !== ReadStatus.Hit) errors.push(`round ${round}: key missing`);
    pre.reset();
    pre.addTag(read.etagHi, read.etagLo);
    // every racer has read the same ETag before anyone writes
    barrier();
    const value = new TextEncoder().encode(`${job.ownerId}:${round}`);
    const outcome = store.set(key, value, ct, 0, pre);
    if (outcome === SetOutcome.Replaced) wins[round] = 1;
    else if (outcome !== SetOutcome.PreconditionFailed) errors.push(`round ${round}: outcome ${outcome}`);
    // every write of this round is done before the next round's read
    barrier();
  }
} catch (e) {
  errors.push(String(e));
}
parentPort!.postMessage({ wins, errors } satisfies RaceReport);
