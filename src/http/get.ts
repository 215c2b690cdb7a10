import type { RequestHead } from '../parser/request.js';
import { ReadResult, ReadStatus, type KvStore } from '../store/api.js';
import {
  BODY_416,
  CONNECTION_LINES,
  CRLF,
  CL_END_ETAG,
  CT_END_CONTENT_LENGTH,
  Conn,
  ETAG_END_200,
  H_ETAG,
  H_ETAG_END,
  STATUS_304,
  type DateLine,
} from './canned.js';
import { Route, type Metrics } from './metrics.js';
import { MOVE_LIMIT, type Output } from './output.js';
import { GetSelector } from './conditional.js';
import { RangeSpec, parseRange } from './range.js';
import type { MissHandler } from './api.js';
import { LaterMiss, type LaterOwner } from './later.js';
import { KeyScratch, keyOf } from './routes.js';
import { put416Start, putRangeLines, putValueStart } from './value-head.js';
import { EMPTY, decimalDigits } from '../base/bytes.js';

/** Room kept before a body copied into the arena: the longest head a GET answer can have. */
const HEAD_RESERVE = 640;

/**
 * GET and HEAD /get/{key} from the store: the read (Range and If-None-Match applied under the
 * stripe lock), the body placed where its head ends, and the 200/206/304/416 head; a miss goes
 * to the read-through tier when there is one. One per thread, with the Responder's output.
 */
export class GetAnswers {
  private readonly read = new ReadResult();
  private readonly selector = new GetSelector();
  /** Length of the last 200 head (see get). */
  private headGuess = HEAD_RESERVE;
  /** The rest of a 200 hit's head after the ETag digits, by Conn (with the miss handler's lines). */
  private readonly etagEnd200: readonly Uint8Array[];
  /** Header lines added to every store answer (Cache-Status with --origin), else empty. */
  private readonly hitHeader: Uint8Array;
  /** The miss handler writes the heads of store answers itself (Age, the origin's ETag), or null. */
  private readonly storedHead: NonNullable<MissHandler['writeStoredHead']> | null;

  constructor(
    private readonly store: KvStore,
    private readonly out: Output,
    private readonly date: DateLine,
    private readonly metrics: Metrics,
    private readonly keyScratch: KeyScratch,
    private readonly missHandler: MissHandler | null,
  ) {
    this.hitHeader = missHandler === null ? EMPTY : missHandler.hitHeader;
    this.storedHead = missHandler?.writeStoredHead?.bind(missHandler) ?? null;
    this.etagEnd200 =
      missHandler === null
        ? ETAG_END_200
        : CONNECTION_LINES.map((c) =>
            Buffer.concat([ETAG_END_200[Conn.Keep]!.subarray(0, -2), this.hitHeader, c, CRLF]),
          );
  }

  /**
   * Answers `head`; false on a miss not handed over (the caller answers 404). `host`: the
   * connection, when it can answer later (a miss then goes to the read-through tier).
   */
  get(head: RequestHead, conn: Conn, withBody: boolean, host: LaterOwner | null): boolean {
    const read = this.read;
    const out = this.out;
    read.reset();
    read.wantBody = withBody;
    // big bodies leave as pinned views of the store's buffer: no copy, none under the lock
    read.wantView = withBody;
    // a body copied into the arena is found by its offset: no view Buffer per hit
    read.wantBodyView = false;
    // Range and If-None-Match are applied by the selector, under the stripe lock; a plain GET
    // passes none (the whole value, no call)
    const ranged = withBody && head.rangeCount === 1 && head.rangeLen !== 0;
    if (ranged || head.inmCount !== 0) {
      const sel = this.selector;
      sel.clear();
      if (ranged) parseRange(head.src, head.rangeStart, head.rangeLen, sel.range);
      if (head.inmCount !== 0) sel.setInm(head.src, head.inmStart, head.inmLen);
      read.select = sel;
    }
    out.ensure(HEAD_RESERVE + 64 * 1024);
    // The body lands where the last 200 head ended: when this head has the same length (same
    // content type, same count of length digits), head and body are one copy, not a copy and a move.
    let at = out.pos + this.headGuess;
    read.target = out.slab;
    read.targetOffset = at;
    const status = this.store.get(keyOf(head, this.keyScratch), read);
    read.target = null;
    read.select = null;
    if (status === ReadStatus.Miss) {
      if (this.missHandler === null || host === null) return false;
      this.handOver(head, conn, withBody, ranged, host);
      return true;
    }
    const n = read.bodyInTarget ? read.bodyLength : read.body.length;
    let inSlab = read.bodyInTarget && n !== 0;
    let dest = at;
    if (status === ReadStatus.Hit && this.storedHead === null) {
      const headLen =
        this.date.ok200.length +
        read.contentTypeLength +
        CT_END_CONTENT_LENGTH.length +
        decimalDigits(read.totalLength) +
        CL_END_ETAG.length +
        16 +
        this.etagEnd200[conn]!.length;
      if (headLen <= HEAD_RESERVE) this.headGuess = headLen;
      // Small bodies go right after the head; a large one stays a segment of its own wherever it
      // is, as long as the head does not run into it.
      if (at < out.pos + headLen || n <= MOVE_LIMIT) dest = out.pos + headLen;
    } else if (at < out.pos + HEAD_RESERVE) {
      // Other heads are longer or vary: room for the longest.
      dest = out.pos + HEAD_RESERVE;
    }
    if (inSlab && dest !== at) {
      if (dest + n <= out.slab.length) {
        out.slab.copyWithin(dest, at, at + n);
        at = dest;
      } else {
        // A large body that no longer fits behind the head in this slab: it gets its own Buffer.
        read.body = Buffer.from(out.slab.subarray(at, at + n));
        inSlab = false;
      }
    }
    if (this.storedHead !== null) {
      this.stored(head, conn, withBody, status, inSlab, at, n);
      return true;
    }
    switch (status) {
      case ReadStatus.NotModified:
        out.put(STATUS_304);
        out.put(this.date.line);
        this.etag(read);
        break;
      case ReadStatus.RangeNotSatisfiable:
        put416Start(out, this.date, read.totalLength);
        break;
      case ReadStatus.Hit:
        out.put(this.date.ok200);
        out.putRange(read.contentType, 0, read.contentTypeLength);
        out.put(CT_END_CONTENT_LENGTH);
        out.decimal(read.totalLength);
        out.put(CL_END_ETAG);
        out.hex64(read.etagHi, read.etagLo);
        out.put(this.etagEnd200[conn]!);
        if (inSlab) out.bodyAt(at, n);
        else if (read.pin !== 0) out.pushViews(read.views, read.pin);
        else if (withBody) out.body(read.body, at);
        this.metrics.request(Route.Get, 200);
        read.body = EMPTY;
        return true;
      default: {
        const partial = status === ReadStatus.Partial;
        const length = partial ? read.bodyLength : read.totalLength;
        putValueStart(out, this.date, partial, read.contentType, read.contentTypeLength, length);
        this.etag(read);
        putRangeLines(out, partial, read.bodyStart, length, read.totalLength);
      }
    }
    if (this.hitHeader.length !== 0) out.put(this.hitHeader);
    out.put(CONNECTION_LINES[conn]!);
    out.put(CRLF);
    if (status === ReadStatus.RangeNotSatisfiable) {
      if (withBody) out.put(BODY_416);
      this.metrics.request(Route.Get, 416);
    } else if (status === ReadStatus.NotModified) {
      this.metrics.request(Route.Get, 304);
    } else {
      if (inSlab) out.bodyAt(at, n);
      else if (read.pin !== 0) out.pushViews(read.views, read.pin);
      else if (withBody) out.body(read.body, at);
      this.metrics.request(Route.Get, status === ReadStatus.Partial ? 206 : 200);
    }
    read.body = EMPTY;
    return true;
  }

  /** A store answer whose head the miss handler writes; the body goes as `get` would send it. */
  private stored(
    head: RequestHead,
    conn: Conn,
    withBody: boolean,
    status: ReadStatus,
    inSlab: boolean,
    at: number,
    n: number,
  ): void {
    const read = this.read;
    const out = this.out;
    const inm = head.inmCount === 0 ? null : head.src.subarray(head.inmStart, head.inmStart + head.inmLen);
    const code = this.storedHead!(out, this.date, conn, read, status, inm);
    if (code === 416) {
      if (withBody) out.put(BODY_416);
    } else if (code === 304) {
      if (read.pin !== 0) this.store.unpin(read.pin);
    } else if (inSlab) out.bodyAt(at, n);
    else if (read.pin !== 0) out.pushViews(read.views, read.pin);
    else if (withBody) out.body(read.body, at);
    this.metrics.request(Route.Get, code);
    read.body = EMPTY;
  }

  /** A miss with a read-through tier: the request's own copy goes to the miss handler. */
  private handOver(
    head: RequestHead,
    conn: Conn,
    withBody: boolean,
    ranged: boolean,
    host: LaterOwner,
  ): void {
    const range = new RangeSpec();
    if (ranged) parseRange(head.src, head.rangeStart, head.rangeLen, range);
    const key = Uint8Array.prototype.slice.call(keyOf(head, this.keyScratch));
    this.missHandler!.miss(new LaterMiss(host, conn, key, withBody, range));
  }

  private etag(read: ReadResult): void {
    const out = this.out;
    out.put(H_ETAG);
    out.hex64(read.etagHi, read.etagLo);
    out.put(H_ETAG_END);
  }
}
