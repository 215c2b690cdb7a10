import { HttpError } from '../base/errors.js';
import { EMPTY } from '../base/bytes.js';
import type { MissedRequest } from '../http/api.js';
import { RangeFit, resolveRange, type ByteSpan } from '../http/range.js';
import type { KvStore } from '../store/api.js';
import { CacheStatus, spanEnd, writeValue, type ValueSource } from './answer.js';
import { ReservedBody, SharedBody, type BodyMemory } from './body.js';
import { FillTable, waitAsync, type FillResult } from './fill-table.js';
import type { OriginMetrics } from './metrics.js';

/** A request waiting for another thread's fill, and where the bytes it needs end (-1: unknown yet). */
interface RemoteWaiter {
  req: MissedRequest;
  end: number;
}

/** Requests on this thread waiting for a fill that another thread runs. */
export interface RemoteWait {
  slot: number;
  seq: number;
  reqs: RemoteWaiter[];
  deadline: number;
  /** The fill's memory, once its thread announced it; `total` bytes long. */
  body: BodyMemory | null;
  total: number;
  contentType: Uint8Array;
  etag: Uint8Array | null;
  born: number;
}

/** What a filler tells the other threads when its body's memory is allocated. */
export interface Announcement {
  slot: number;
  seq: number;
  /** The store reservation to reopen read-only, or the body's own memory. */
  id?: number;
  sab?: SharedArrayBuffer;
  total: number;
  contentType: string;
  /** The origin's strong ETag (between the quotes), or null. */
  etag: string | null;
  /** Unix seconds the origin generated the answer. */
  born: number;
}

/** What the waits need from their thread's tier once a fill is over. */
export interface RemoteHost {
  /** The fill of `wait` ended with `result`: answer its waiters still here. */
  remoteDone(wait: RemoteWait, result: FillResult): void;
  error(req: MissedRequest, code: number, status: Uint8Array): void;
}

/**
 * This thread's requests waiting for fills that other threads run: one Atomics.waitAsync per
 * fill at a time on its progress word; a waiter whose span has arrived in the fill's announced
 * memory is answered at once, the others when the fill is over (by the host).
 */
export class RemoteWaits {
  private readonly remote = new Map<string, RemoteWait>();

  constructor(
    private readonly table: FillTable,
    private readonly store: KvStore,
    private readonly metrics: OriginMetrics,
    private readonly timeoutMs: number,
    private readonly host: RemoteHost,
  ) {}

  /** Another thread's fill has memory: its waiters here can be answered as bytes arrive. */
  announced(msg: Announcement): void {
    const wait = this.remote.get(`${msg.slot}:${msg.seq}`);
    if (wait === undefined || wait.body !== null) return;
    if (msg.sab !== undefined) {
      wait.body = new SharedBody(msg.sab);
    } else {
      const res = this.store.openReservation(msg.id!);
      if (res === null) return;
      wait.body = new ReservedBody(res);
    }
    wait.total = msg.total;
    wait.contentType = Buffer.from(msg.contentType, 'latin1');
    wait.etag = msg.etag === null ? null : Buffer.from(msg.etag, 'latin1');
    wait.born = msg.born;
    for (const w of wait.reqs) w.end = spanEnd(w.req.range, wait.total);
    this.answerCovered(wait);
  }

  /** Joins a fill on another thread: one Atomics.waitAsync per fill on this thread at a time. */
  join(slot: number, seq: number, req: MissedRequest): void {
    const id = `${slot}:${seq}`;
    const existing = this.remote.get(id);
    if (existing !== undefined) {
      existing.reqs.push({ req, end: existing.body === null ? -1 : spanEnd(req.range, existing.total) });
      this.answerCovered(existing);
      return;
    }
    const wait: RemoteWait = {
      slot,
      seq,
      reqs: [{ req, end: -1 }],
      // Bounded: a filler ends within --origin-timeout; a dead one is reset by the supervisor.
      deadline: Date.now() + 2 * this.timeoutMs + 1000,
      body: null,
      total: -1,
      contentType: EMPTY,
      etag: null,
      born: 0,
    };
    this.remote.set(id, wait);
    this.arm(id, wait);
  }

  private arm(id: string, wait: RemoteWait): void {
    const t = this.table;
    const words = t.words;
    const at = t.progressIndex(wait.slot);
    const progress = Atomics.load(words, at);
    if (t.over(wait.slot, wait.seq)) {
      this.remote.delete(id);
      this.host.remoteDone(wait, t.resultAfter(wait.slot, wait.seq));
      return;
    }
    this.answerCovered(wait);
    const left = wait.deadline - Date.now();
    if (left <= 0) {
      this.remote.delete(id);
      this.metrics.waiterTimeouts(wait.reqs.length);
      for (const w of wait.reqs) this.host.error(w.req, HttpError.ORIGIN_TIMEOUT, CacheStatus.timeout);
      return;
    }
    const r = waitAsync(words, at, progress, left);
    if (r.async) void r.value.then(() => this.arm(id, wait));
    else queueMicrotask(() => this.arm(id, wait));
  }

  /** Answers the waiters of `wait` whose span has arrived in the announced memory. */
  private answerCovered(wait: RemoteWait): void {
    if (wait.body === null) return;
    const t = this.table;
    const arrived = t.over(wait.slot, wait.seq) ? -1 : t.arrived(wait.slot);
    if (arrived <= 0) return;
    const ws = wait.reqs;
    const ready: { req: MissedRequest; value: ValueSource }[] = [];
    for (const w of ws)
      if (w.end >= 0 && w.end <= arrived) ready.push({ req: w.req, value: copyOut(w.req, wait) });
    if (ready.length === 0) return;
    // A reservation the filler published (then perhaps evicted, its memory reused) or freed while
    // the spans were copied out of it: the copies are thrown away, and these waiters are answered
    // from the outcome instead (the store, or the error).
    if (wait.body instanceof ReservedBody && !t.stillOpen(wait.slot, wait.seq)) return;
    wait.reqs = ws.filter((w) => !(w.end >= 0 && w.end <= arrived));
    for (const { req, value } of ready) answerWith(req, value, CacheStatus.collapsed);
  }
}

/** The span `req` needs, copied out of (or viewed in) the fill's announced memory. */
export function copyOut(req: MissedRequest, wait: RemoteWait): ValueSource {
  const span: ByteSpan = { bodyStart: 0, bodyLength: 0 };
  const fit = resolveRange(req.range, wait.total, span);
  const start = fit === RangeFit.Partial ? span.bodyStart : 0;
  const length =
    !req.withBody || fit === RangeFit.Unsatisfiable
      ? 0
      : fit === RangeFit.Partial
        ? span.bodyLength
        : wait.total;
  return {
    bytes: wait.body!.read(start, length),
    offset: start,
    total: wait.total,
    contentType: wait.contentType,
    etag: wait.etag,
    age: Math.max(0, Math.floor(Date.now() / 1000) - wait.born),
  };
}

export function answerWith(req: MissedRequest, value: ValueSource, status: Uint8Array): void {
  req.answer((out, date) => writeValue(out, date, req.conn, req.withBody, req.range, value, status));
}
