// issue 10: a waiter on another thread checked that its span had arrived, then copied it out of
// the fill's store reservation; a filler that published or freed the reservation in between (and
// a write that took its memory) made the waiter answer bytes that were no longer the object's.
// Two read-through tiers in one process stand for two threads (one store, one fill table); the
// filler fails while the waiter copies.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../dist/base/config.js';
import { Logger } from '../../dist/base/log.js';
import { Conn, DateLine } from '../../dist/http/canned.js';
import { Output } from '../../dist/http/output.js';
import { RangeKind, RangeSpec } from '../../dist/http/range.js';
import { FetchFailure } from '../../dist/origin/client.js';
import type { Fill } from '../../dist/origin/fill.js';
import { fillTableBytes } from '../../dist/origin/metrics.js';
import { ReadThrough } from '../../dist/origin/read-through.js';
import { Store } from '../../dist/store/index.js';
import type { MissedRequest } from '../../dist/http/api.js';
import type { Reservation } from '../../dist/store/api.js';
import { startOrigin, originBytes, type RunningOrigin } from '../helpers/origin-server.js';

const MiB = 1024 * 1024;
let origin: RunningOrigin | null = null;

after(async () => {
  await origin?.stop();
});

interface Got {
  status: number;
  body: Buffer;
}

/** A GET of bytes [a, b] of `key`, whose answer is collected as the socket would get it. */
function request(key: string, a: number, b: number): { req: MissedRequest; answered: Promise<Got> } {
  const range = new RangeSpec();
  range.kind = RangeKind.FromTo;
  range.a = a;
  range.b = b;
  let resolve!: (g: Got) => void;
  const answered = new Promise<Got>((r) => (resolve = r));
  const req: MissedRequest = {
    key: Buffer.from(key, 'latin1'),
    withBody: true,
    range,
    conn: Conn.Keep,
    gone: false,
    answer(write) {
      const out = new Output();
      const status = write(out, new DateLine());
      const chunks: Uint8Array[] = [];
      out.flush({
        write: (c: Uint8Array, done?: () => void) => (chunks.push(Buffer.from(c)), done?.()),
        cork() {},
        uncork() {},
      });
      const all = Buffer.concat(chunks);
      resolve({ status, body: all.subarray(all.indexOf('\r\n\r\n') + 4) });
    },
  };
  return { req, answered };
}

test('a waiter never answers from a reservation that was freed (and reused) while it copied', async () => {
  origin = await startOrigin({ size: 2 * MiB });
  await origin.script('/obj', { trickle: { bytes: 320 * 1024, intervalMs: 150 } });
  const config = {
    ...defaultConfig(),
    origin: origin.url,
    threads: 2,
    memory: 48 * MiB,
    maxKeys: 1000,
    stripes: 4,
    maxValueSize: 4 * MiB,
    originTimeoutMs: 10_000,
  };
  const base = Store.create({
    memory: config.memory,
    maxKeys: 1000,
    stripes: 4,
    maxValueSize: config.maxValueSize,
  });
  const storeA = Store.attach(base.sab, 1);
  const storeB = Store.attach(base.sab, 2);
  const fills = new SharedArrayBuffer(fillTableBytes(2));
  const log = new Logger('error', 0);
  const a = new ReadThrough({ config, store: storeA, fills, ownerId: 1, threadIndex: 0, log });
  const b = new ReadThrough({ config, store: storeB, fills, ownerId: 2, threadIndex: 1, log });
  try {
    // "Thread B" opens the fill's reservation; the first time it copies from it, the filler on
    // "thread A" fails (freeing the reservation) and other writes take the memory.
    const open = storeB.openReservation.bind(storeB);
    let injected = false;
    storeB.openReservation = (id: number): Reservation | null => {
      const h = open(id);
      if (h === null) return h;
      const readInto = h.readInto.bind(h);
      h.readInto = (offset, length, target, targetOffset) => {
        if (!injected) {
          injected = true;
          const fill = (a as unknown as { local: Map<string, Fill> }).local.get('obj')!;
          fill.onFail(FetchFailure.Failed, 'injected by the test');
          for (let i = 0; i < 30; i++)
            storeA.set(Buffer.from(`other${i}`), Buffer.alloc(2 * MiB, 0xee), Buffer.from('x/y'), 0);
        }
        readInto(offset, length, target, targetOffset);
      };
      return h;
    };
    const first = request('obj', 0, 2 * MiB - 1); // needs the whole body: still waiting when it fails
    a.miss(first.req);
    const waiter = request('obj', 1000, 1000 + 4095);
    b.miss(waiter.req);
    const bounded = <T>(p: Promise<T>): Promise<T> =>
      Promise.race([
        p,
        new Promise<T>((_, rej) => setTimeout(() => rej(new Error('no answer within 15 s')), 15_000)),
      ]);
    const [fa, fb] = await Promise.all([bounded(first.answered), bounded(waiter.answered)]);
    assert.ok(injected, 'the waiter copied from the reservation');
    assert.equal(fa.status, 502, 'the filler failed');
    if (fb.status === 206)
      assert.ok(fb.body.equals(originBytes('/obj', 1000, 1000 + 4096)), 'bytes of the object');
    else assert.equal(fb.status, 502, 'answered from the outcome: the fill failed');
    assert.equal(fb.status, 502, 'not answered from the copy made while the reservation was freed');
  } finally {
    await a.close();
    await b.close();
  }
});
