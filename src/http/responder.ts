import { Method } from '../parser/llhttp.js';
import { TOKEN_100_CONTINUE, equalsToken, type RequestHead } from '../parser/request.js';
import {
  Precondition,
  PreconditionKind,
  ReadResult,
  ReadStatus,
  SetOutcome,
  type KvStore,
} from '../store/api.js';
import { parseWritePrecondition } from './preconditions.js';
import {
  BODY_416,
  CONNECTION_LINES,
  CONTINUE_100,
  CREATED,
  CRLF,
  CL_END_ETAG,
  CT_END_CONTENT_LENGTH,
  Conn,
  ETAG_END_200,
  DEFAULT_CONTENT_TYPE,
  DELETED,
  DateLine,
  ERROR_RESPONSES,
  HEALTH_OK,
  HELLO,
  H_ACCEPT_RANGES,
  H_CONTENT_LENGTH,
  H_CONTENT_RANGE,
  H_CONTENT_RANGE_ANY,
  H_CONTENT_TYPE,
  H_ETAG,
  H_ETAG_END,
  H_METRICS_TYPE,
  H_TEXT_PLAIN,
  REPLACED,
  STATUS_200,
  STATUS_206,
  STATUS_304,
  STATUS_416,
  type Canned,
} from './canned.js';
import { ERRORS, HttpError } from '../base/errors.js';
import { C_PURGED, Metrics, Route, renderMetrics } from './metrics.js';
import { PrefixPurge, type PurgeEnd } from './purge.js';
import { MOVE_LIMIT, Output } from './output.js';
import { GetSelector } from './conditional.js';
import { RangeSpec, parseRange } from './range.js';
import type { MissHandler, MissedRequest } from './api.js';
import { KeyScratch, keyOf, routeHead } from './routes.js';
import { beginUpload, finishUpload } from './upload.js';
import { EMPTY, decimalDigits } from '../base/bytes.js';

/** The connection whose request is being answered, able to hand a miss to the read-through tier. */
export interface DeferHost {
  defer(key: Uint8Array, withBody: boolean, range: RangeSpec, conn: Conn): MissedRequest;
}

/** Room kept before a body copied into the arena: the longest head a GET answer can have. */
const HEAD_RESERVE = 640;
/** Largest declared body drained (not refused unread) under a failed precondition. */
export const DRAIN_LIMIT = 64 * 1024;
/** The request's Content-Type bytes (a view of its head), or the default. */
function contentTypeOf(head: RequestHead): Uint8Array {
  return head.ctLen === 0 ? DEFAULT_CONTENT_TYPE : head.src.subarray(head.ctStart, head.ctStart + head.ctLen);
}

/**
 * Everything a thread needs to answer requests, shared by its connections: the store, the
 * output arena, the cached Date line, the metrics slot, one ReadResult and a key scratch.
 * Each method answers into `out`; the connection flushes once per batch.
 */
export class Responder {
  readonly out = new Output();
  readonly date = new DateLine();
  private readonly read = new ReadResult();
  private readonly selector = new GetSelector();
  private readonly keyScratch = new KeyScratch();
  /** The write precondition being checked (refilled from the request head where it is used). */
  private readonly pre = new Precondition();
  /** Length of the last 200 head (see get). */
  private headGuess = HEAD_RESERVE;
  /** Set once shutdown began: /healthz answers 503. */
  shuttingDown = false;
  /** Set by the connection before `answer`; a miss is handed over through it. */
  host: DeferHost | null = null;
  /** `answer` handed its request to the miss handler: the answer comes later. */
  deferred = false;
  /** The rest of a 200 hit's head after the ETag digits, by Conn (with the miss handler's lines). */
  private readonly etagEnd200: readonly Uint8Array[];
  /** Header lines added to every store answer (Cache-Status with --origin), else empty. */
  private readonly hitHeader: Uint8Array;
  /** The miss handler writes the heads of store answers itself (Age, the origin's ETag), or null. */
  private readonly storedHead: NonNullable<MissHandler['writeStoredHead']> | null;

  constructor(
    private readonly store: KvStore,
    readonly metrics: Metrics,
    private readonly maxValueSize: number,
    private readonly threads: number,
    private readonly missHandler: MissHandler | null = null,
  ) {
    this.out.unpin = (pin) => store.unpin(pin);
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
   * Head-time decisions: route, refusals, 413 on a declared length over the limit, and
   * 100 Continue. Returns an HttpError code to answer now and close (body unread), else 0.
   */
  onHead(head: RequestHead): number {
    const refusal = routeHead(head);
    const hasBody = head.chunked || head.contentLength > 0;
    const expect =
      head.expectLen !== 0 && equalsToken(head.src, head.expectStart, head.expectLen, TOKEN_100_CONTINUE);
    if (refusal !== 0) {
      if (hasBody && (expect || head.contentLength > this.maxValueSize)) return refusal;
      head.refusal = refusal;
      head.discardBody = true;
      return 0;
    }
    if (head.route === Route.Store) {
      const isDelete = head.method === Method.DELETE;
      if (!isDelete && head.contentLength > this.maxValueSize) return HttpError.PAYLOAD_TOO_LARGE;
      if (head.imCount !== 0 || head.inmCount !== 0) {
        const code = this.preconditionAtHead(head, !isDelete && (hasBody || expect));
        if (code !== 0) {
          // A declared body over DRAIN_LIMIT (or one the client waits to send) is refused before
          // it is read, and the connection closes, as for 413. A small one costs less to drain than
          // a new connection (a compare-and-set loser retries at once), as does a chunked one.
          if (hasBody && (expect || head.contentLength > DRAIN_LIMIT)) return code;
          head.refusal = code;
          head.discardBody = true;
          return 0;
        }
      }
      if (isDelete) {
        head.discardBody = true;
        return 0;
      }
      const refused = beginUpload(
        this.store,
        head,
        keyOf(head, this.keyScratch),
        contentTypeOf(head),
        this.maxValueSize,
      );
      if (refused !== 0) {
        // 507/503 before a byte is stored: at once when the client waits for 100 Continue, else
        // after draining the body (not kept), so the connection stays usable
        if (expect) return refused;
        head.refusal = refused;
        head.discardBody = true;
        return 0;
      }
      if (expect && head.minor === 1) this.out.put(CONTINUE_100);
      return 0;
    }
    // Other requests have no use for a body: drain it.
    head.discardBody = true;
    return 0;
  }

  /**
   * A write's If-Match / If-None-Match at head time: 0, or the refusal to answer. With a body
   * still to come, the store's advisory `check` refuses it before it is read; the write itself
   * checks again, atomically.
   */
  private preconditionAtHead(head: RequestHead, bodyToCome: boolean): number {
    const pre = this.pre;
    const code = parseWritePrecondition(head, pre);
    if (code !== 0 || !bodyToCome || pre.kind === PreconditionKind.None) return code;
    return this.store.check(keyOf(head, this.keyScratch), pre) ? 0 : HttpError.PRECONDITION_FAILED;
  }

  /** The write precondition for the request being answered, or undefined when it has none. */
  private preconditionOf(head: RequestHead): Precondition | undefined {
    if (head.imCount === 0 && head.inmCount === 0) return undefined;
    // parsed again from the head's bytes: another connection's head may have used `pre` since
    parseWritePrecondition(head, this.pre);
    return this.pre.kind === PreconditionKind.None ? undefined : this.pre;
  }

  /** Whether `answer` would not answer `head` at once: `answerLater` answers it in a later turn. */
  defers(head: RequestHead): boolean {
    return head.route === Route.Prefix && head.refusal === 0;
  }

  /**
   * Starts a request that `defers` (a prefix purge). `ready` is called once, in a later turn,
   * with a function that writes the answer into `out`, given how the connection goes on (the connection calls it when it is still
   * there to flush it, and drops it otherwise) and the unexpected error that ended the work, if
   * one did (to be logged). `onTurn` runs between the purge's turns.
   */
  answerLater(
    head: RequestHead,
    ready: (write: (conn: Conn) => void, error: unknown) => void,
    onTurn: () => void,
  ): void {
    const prefix = Uint8Array.from(keyOf(head, this.keyScratch));
    const end = (purged: number, how: PurgeEnd, error: unknown): void => {
      this.metrics.add(C_PURGED, purged);
      ready((conn) => this.purged(purged, how, conn), how === 'failed' ? error : null);
    };
    new PrefixPurge(this.store, prefix, end, onTurn).start();
  }

  private purged(count: number, how: PurgeEnd, conn: Conn): void {
    if (how !== 'done') {
      this.error(how === 'busy' ? HttpError.STORE_BUSY : HttpError.INTERNAL, conn, true, Route.Prefix);
      return;
    }
    const out = this.out;
    out.ensure(256);
    out.put(STATUS_200);
    out.put(this.date.line);
    out.put(H_TEXT_PLAIN);
    out.put(H_CONTENT_LENGTH);
    out.decimal(decimalDigits(count) + 1);
    out.put(CRLF);
    out.put(CONNECTION_LINES[conn]!);
    out.put(CRLF);
    out.decimal(count);
    out.slab[out.pos++] = 0x0a;
    out.batchBytes++;
    this.metrics.request(Route.Prefix, 200);
  }

  /** Answers one whole request; `conn` says whether the connection stays open after it. */
  answer(head: RequestHead, conn: Conn): void {
    const withBody = head.method !== Method.HEAD;
    if (head.refusal !== 0) {
      this.error(head.refusal, conn, withBody, head.route);
      return;
    }
    switch (head.route) {
      case Route.Get:
        this.get(head, conn, withBody);
        return;
      case Route.Store:
        if (head.method === Method.DELETE) this.del(head, conn);
        else this.set(head, conn);
        return;
      case Route.Root:
        this.canned(HELLO, conn, withBody, Route.Root);
        return;
      case Route.Healthz:
        if (this.shuttingDown) this.error(HttpError.UNHEALTHY, conn, withBody, Route.Healthz);
        else this.canned(HEALTH_OK, conn, withBody, Route.Healthz);
        return;
      case Route.Metrics:
        this.metricsPage(conn, withBody);
        return;
      default:
        this.error(HttpError.NOT_FOUND, conn, withBody, Route.Other);
    }
  }

  /** Canned error answer; the caller closes when ERRORS[code].close or conn says so. */
  error(code: number, conn: Conn, withBody: boolean, route: number): void {
    const c = ERROR_RESPONSES[code]!;
    this.canned(c, ERRORS[code]!.close ? Conn.Close : conn, withBody, route);
  }

  private canned(c: Canned, conn: Conn, withBody: boolean, route: number): void {
    c.write(this.out, this.date, conn, withBody);
    this.metrics.request(route, c.status);
  }

  private get(head: RequestHead, conn: Conn, withBody: boolean): void {
    const read = this.read;
    const out = this.out;
    read.reset();
    read.wantBody = withBody;
    // big bodies leave as pinned views of the store's buffer: no copy, none under the lock
    read.wantView = withBody;
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
      if (this.missHandler !== null && this.host !== null) {
        this.handOver(head, conn, withBody, ranged);
        return;
      }
      this.error(HttpError.KEY_NOT_FOUND, conn, withBody, Route.Get);
      return;
    }
    const n = read.body.length;
    let inSlab =
      n !== 0 && read.body.buffer === out.slab.buffer && read.body.byteOffset === out.slab.byteOffset + at;
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
      return;
    }
    switch (status) {
      case ReadStatus.NotModified:
        out.put(STATUS_304);
        out.put(this.date.line);
        this.etag(read);
        break;
      case ReadStatus.RangeNotSatisfiable:
        out.put(STATUS_416);
        out.put(this.date.line);
        out.put(H_CONTENT_RANGE_ANY);
        out.decimal(read.totalLength);
        out.put(CRLF);
        out.put(H_TEXT_PLAIN);
        out.put(H_CONTENT_LENGTH);
        out.decimal(BODY_416.length);
        out.put(CRLF);
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
        return;
      default: {
        const partial = status === ReadStatus.Partial;
        out.put(partial ? STATUS_206 : STATUS_200);
        out.put(this.date.line);
        out.put(H_CONTENT_TYPE);
        out.putRange(read.contentType, 0, read.contentTypeLength);
        out.put(CRLF);
        out.put(H_CONTENT_LENGTH);
        out.decimal(partial ? read.bodyLength : read.totalLength);
        out.put(CRLF);
        this.etag(read);
        out.put(H_ACCEPT_RANGES);
        if (partial) {
          out.put(H_CONTENT_RANGE);
          out.decimal(read.bodyStart);
          out.slab[out.pos++] = 0x2d;
          out.decimal(read.bodyStart + read.bodyLength - 1);
          out.slab[out.pos++] = 0x2f;
          out.decimal(read.totalLength);
          out.put(CRLF);
        }
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
  private handOver(head: RequestHead, conn: Conn, withBody: boolean, ranged: boolean): void {
    const range = new RangeSpec();
    if (ranged) parseRange(head.src, head.rangeStart, head.rangeLen, range);
    const key = Uint8Array.prototype.slice.call(keyOf(head, this.keyScratch));
    this.deferred = true;
    this.missHandler!.miss(this.host!.defer(key, withBody, range, conn));
  }

  private etag(read: ReadResult): void {
    const out = this.out;
    out.put(H_ETAG);
    out.hex64(read.etagHi, read.etagLo);
    out.put(H_ETAG_END);
  }

  private set(head: RequestHead, conn: Conn): void {
    const pre = this.preconditionOf(head);
    let outcome = finishUpload(head, pre);
    if (outcome === null) {
      const body = head.body;
      const value = body.length === 1 ? body[0]! : body.length === 0 ? EMPTY : body;
      outcome = this.store.set(keyOf(head, this.keyScratch), value, contentTypeOf(head), head.ttl, pre);
    }
    if (outcome === SetOutcome.PreconditionFailed) {
      this.error(HttpError.PRECONDITION_FAILED, conn, true, Route.Store);
      return;
    }
    if (outcome === SetOutcome.TooLarge) {
      this.error(HttpError.VALUE_TOO_LARGE, conn, true, Route.Store);
      return;
    }
    if (outcome === SetOutcome.Busy) {
      this.error(HttpError.STORE_BUSY, conn, true, Route.Store);
      return;
    }
    this.canned(outcome === SetOutcome.Created ? CREATED : REPLACED, conn, true, Route.Store);
  }

  private del(head: RequestHead, conn: Conn): void {
    const done = this.store.delete(keyOf(head, this.keyScratch), this.preconditionOf(head));
    if (done === true) this.canned(DELETED, conn, false, Route.Store);
    else if (done === false) this.error(HttpError.KEY_NOT_FOUND, conn, true, Route.Store);
    else this.error(HttpError.PRECONDITION_FAILED, conn, true, Route.Store);
  }

  private metricsPage(conn: Conn, withBody: boolean): void {
    let page = renderMetrics(this.metrics.shared, this.threads, this.store.stats());
    if (this.missHandler !== null) page += this.missHandler.metricsText();
    const text = Buffer.from(page, 'utf8');
    const out = this.out;
    out.ensure(512);
    out.put(STATUS_200);
    out.put(this.date.line);
    out.put(H_METRICS_TYPE);
    out.put(H_CONTENT_LENGTH);
    out.decimal(text.length);
    out.put(CRLF);
    out.put(CONNECTION_LINES[conn]!);
    out.put(CRLF);
    if (withBody) out.external(text);
    this.metrics.request(Route.Metrics, 200);
  }
}
