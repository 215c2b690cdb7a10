import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Output, type QueuedWrite, type Sink } from '../../dist/http/output.js';
import { WRITE_DONE, WRITE_QUEUED, type HandleWriter } from '../../dist/socket/handle-write.js';

/** A handle writer that records what each write was given; `queue` makes the next write stay queued. */
function fakeWriter(): {
  writer: HandleWriter;
  writes: Uint8Array[][];
  queue: boolean;
  held: unknown[];
} {
  const state = { writes: [] as Uint8Array[][], queue: false, held: [] as unknown[] };
  const writer = {
    write(segs: readonly Uint8Array[], n: number): number {
      state.writes.push(segs.slice(0, n));
      return state.queue ? WRITE_QUEUED : WRITE_DONE;
    },
    holdLast(hold: unknown): void {
      state.held.push(hold);
    },
  };
  return Object.assign(state, { writer: writer as unknown as HandleWriter });
}

const noSink: Sink = {
  write: () => assert.fail('the handle writer takes every batch'),
  cork: () => {},
  uncork: () => {},
};

function batch(out: Output, text: string): void {
  out.put(Buffer.from(text, 'latin1'));
}

test('a batch taken whole lets the next start at 0, with the same view for the same length', () => {
  const out = new Output();
  const w = fakeWriter();
  batch(out, 'first answer');
  assert.equal(out.flush(noSink, w.writer), 12);
  const first = w.writes[0]![0]!;
  assert.equal(Buffer.from(first).toString('latin1'), 'first answer');
  batch(out, 'other answer');
  out.flush(noSink, w.writer);
  const second = w.writes[1]![0]!;
  // the same window over the slab, now holding the second batch's bytes
  assert.equal(second, first);
  assert.equal(Buffer.from(second).toString('latin1'), 'other answer');
  batch(out, 'short');
  out.flush(noSink, w.writer);
  assert.equal(Buffer.from(w.writes[2]![0]!).toString('latin1'), 'short');
  assert.equal(w.writes[2]![0]!.byteOffset, first.byteOffset);
});

test('bytes a queued write still reads are never rewritten, and come back once it completes', () => {
  const out = new Output();
  const w = fakeWriter();
  w.queue = true;
  batch(out, 'held-bytes');
  out.flush(noSink, w.writer);
  w.queue = false;
  const held = w.writes[0]![0]!;
  // later batches go behind the held one, whatever their length
  for (const text of ['held-other', 'x', 'held-bytes']) {
    batch(out, text);
    out.flush(noSink, w.writer);
    assert.equal(Buffer.from(held).toString('latin1'), 'held-bytes');
    const seg = w.writes[w.writes.length - 1]![0]!;
    assert.equal(Buffer.from(seg).toString('latin1'), text);
    assert.notEqual(seg, held);
  }
  // completion: the slab is free again, the next batch starts at 0 after one taken whole
  out.written(w.held[0] as QueuedWrite);
  batch(out, 'after');
  out.flush(noSink, w.writer);
  batch(out, 'again');
  out.flush(noSink, w.writer);
  const last = w.writes[w.writes.length - 1]![0]!;
  assert.equal(last.byteOffset, held.byteOffset);
  assert.equal(Buffer.from(last).toString('latin1'), 'again');
});

test('with socket.write (no handle writer) no slab bytes are ever reused', () => {
  const got: Uint8Array[] = [];
  const sink: Sink = { write: (c) => got.push(c), cork: () => {}, uncork: () => {} };
  const out = new Output();
  batch(out, 'one');
  out.flush(sink);
  batch(out, 'two');
  out.flush(sink);
  batch(out, 'six');
  out.flush(sink);
  assert.deepEqual(
    got.map((c) => Buffer.from(c).toString('latin1')),
    ['one', 'two', 'six'],
  );
});
