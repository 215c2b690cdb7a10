/** Stress worker: seeded random set/get/delete on shared and private keys of an attached Store. */
import { parentPort, workerData } from 'node:worker_threads';
import { GetSelector } from '../../../dist/http/conditional.js';
import { RangeKind } from '../../../dist/http/range.js';
import { ReadResult, ReadStatus, SetOutcome, Store } from '../../../dist/store/index.js';
import { makeValue, seqOf, verify, xorshift } from './common.js';

export interface StressJob {
  sab: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  ownerId: number;
  seed: number;
  durationMs: number;
  sharedKeys: number;
  privateKeys: number;
  /** false when evictions (or a stripe reset) may drop keys: only integrity is checked */
  expectNoLoss: boolean;
  largeEvery: number;
}

export interface StressReport {
  ops: number;
  gets: number;
  hits: number;
  sets: number;
  deletes: number;
  rangeReads: number;
  tooLarge: number;
  pinned: number;
  reserved: number;
  aborted: number;
  errors: string[];
}

const job = workerData as StressJob;
const store = Store.attach(job.sab, job.ownerId);
const ctl = new Int32Array(job.ctl);
const rnd = xorshift(job.seed);
const ct = new TextEncoder().encode('application/x-stress');
const keyBuf = new Uint8Array(16);
const r = new ReadResult();
// `bytes=0-` for the ranged reads
const fromZero = new GetSelector();
const report: StressReport = {
  ops: 0,
  gets: 0,
  hits: 0,
  sets: 0,
  deletes: 0,
  rangeReads: 0,
  tooLarge: 0,
  pinned: 0,
  reserved: 0,
  aborted: 0,
  errors: [],
};
const expected = new Map<number, number>(); // private key id -> seq (absent = not stored)
let seq = 0;

interface Held {
  pin: number;
  views: Uint8Array[];
  id: number;
  sum: number;
}
/** Pinned reads not yet released: their bytes must not change while others write. */
const held: Held[] = [];

function checksum(b: Uint8Array): number {
  let h = 2166136261;
  for (let i = 0; i < b.length; i += 61) h = Math.imul(h ^ b[i]!, 16777619);
  return (h ^ b.length) >>> 0;
}

function release(h: Held): void {
  const body = Buffer.concat(h.views);
  if (checksum(body) !== h.sum) fail(`pinned bytes of ${h.id} changed before unpin`);
  const bad = verify(body, h.id);
  if (bad !== null) fail(`pinned read of ${h.id}: ${bad}`);
  store.unpin(h.pin);
}

// keys: shared ids 0..sharedKeys-1; private ids are 1e6 * ownerId + i
function keyOf(id: number): Uint8Array {
  const s = `k${id}`;
  let n = 0;
  for (; n < s.length; n++) keyBuf[n] = s.charCodeAt(n);
  return keyBuf.subarray(0, n);
}

function fail(msg: string): void {
  if (report.errors.length < 20) report.errors.push(msg);
}

function valueLen(): number {
  if (job.largeEvery > 0 && rnd() * job.largeEvery < 1) return 60_000 + Math.floor(rnd() * 140_000);
  return 20 + Math.floor(rnd() * 600);
}

Atomics.add(ctl, 0, 1);
Atomics.notify(ctl, 0);
for (let i = 0; i < 1000 && Atomics.load(ctl, 1) === 0; i++) Atomics.wait(ctl, 1, 0, 20);

const deadline = Date.now() + job.durationMs;
try {
  // at least one batch, however late this thread got the CPU: the test asks each for progress
  for (let first = true; first || Date.now() < deadline; first = false) {
    for (let batch = 0; batch < 64; batch++) {
      report.ops++;
      const priv = rnd() < 0.3;
      const id = priv
        ? job.ownerId * 1_000_000 + Math.floor(rnd() * job.privateKeys)
        : Math.floor(rnd() * job.sharedKeys);
      const key = keyOf(id);
      const op = rnd();
      if (op < 0.5) {
        report.gets++;
        r.reset();
        const ranged = rnd() < 0.1;
        if (ranged) {
          report.rangeReads++;
          fromZero.range.kind = RangeKind.From;
          fromZero.range.a = 0;
          r.select = fromZero;
        }
        // some reads take pinned views, kept while other ops run, checked again before unpinning
        r.wantView = rnd() < 0.3;
        const st = store.get(key, r);
        if (r.pin !== 0) {
          report.pinned++;
          const body = Buffer.concat(r.views);
          held.push({ pin: r.pin, views: r.views.slice(), id, sum: checksum(body) });
          r.body = body;
          if (held.length > 4) release(held.shift()!);
        }
        if (st === ReadStatus.Hit || st === ReadStatus.Partial) {
          report.hits++;
          const bad = verify(r.body, id);
          if (bad !== null) fail(`torn/mixed read of ${id}: ${bad}`);
          else if (priv) {
            const want = expected.get(id);
            if (want === undefined) fail(`deleted private key ${id} came back`);
            else if (want !== seqOf(r.body)) {
              if (job.expectNoLoss) fail(`private key ${id}: seq ${seqOf(r.body)} != ${want}`);
            }
          }
        } else if (st === ReadStatus.Miss) {
          if (priv && job.expectNoLoss && expected.has(id)) fail(`lost private key ${id}`);
        } else fail(`unexpected status ${st}`);
      } else if (op < 0.85) {
        report.sets++;
        seq++;
        const v = makeValue(valueLen(), id, job.ownerId, seq);
        const parts = rnd() < 0.2 ? [v.subarray(0, 7), v.subarray(7)] : v;
        let out: SetOutcome;
        const how = rnd();
        if (how < 0.25) {
          // through a reservation: written in two pieces, then published
          const res = store.reserve(key, v.length, ct, 0);
          if (typeof res === 'number') out = SetOutcome.TooLarge;
          else {
            report.reserved++;
            const cut = Math.floor(v.length / 2);
            res.write(v.subarray(cut), cut);
            res.write(v.subarray(0, cut), 0);
            out = res.publish(v.length);
            if (out === SetOutcome.Busy) out = SetOutcome.TooLarge;
          }
        } else if (how < 0.3) {
          // an aborted reservation changes nothing
          const res = store.reserve(key, v.length, ct, 0);
          if (typeof res !== 'number') {
            res.write(v.subarray(0, Math.min(v.length, 100)), 0);
            res.abort();
            report.aborted++;
          }
          continue;
        } else out = store.set(key, parts, ct, 0);
        if (out === SetOutcome.TooLarge) {
          report.tooLarge++;
          if (priv) expected.delete(id);
        } else if (priv) {
          if (job.expectNoLoss && (out === SetOutcome.Replaced) !== expected.has(id)) {
            fail(`private key ${id}: outcome ${out} but expected present=${expected.has(id)}`);
          }
          expected.set(id, seq);
        }
      } else {
        report.deletes++;
        const existed = store.delete(key);
        if (priv) {
          if (job.expectNoLoss && existed !== expected.has(id))
            fail(`delete of private ${id} returned ${existed}`);
          expected.delete(id);
        }
      }
    }
  }
  while (held.length !== 0) release(held.shift()!);
  // final pass: every private key is exactly as this worker left it
  for (let i = 0; i < job.privateKeys; i++) {
    const id = job.ownerId * 1_000_000 + i;
    r.reset();
    const st = store.get(keyOf(id), r);
    const want = expected.get(id);
    if (st === ReadStatus.Hit) {
      const bad = verify(r.body, id);
      if (bad !== null) fail(`final: ${bad}`);
      else if (want === undefined) fail(`final: deleted private key ${id} present`);
      else if (seqOf(r.body) !== want && job.expectNoLoss) fail(`final: private key ${id} stale`);
    } else if (want !== undefined && job.expectNoLoss) fail(`final: lost private key ${id}`);
  }
} catch (e) {
  fail(`threw: ${(e as Error).stack ?? String(e)}`);
}
parentPort!.postMessage(report);
