import { Method } from '../parser/llhttp.js';
import { TOKEN_100_CONTINUE, equalsToken, type RequestHead } from '../parser/request.js';
import { Precondition, PreconditionKind, SetOutcome, WriteResult, type KvStore } from '../store/api.js';
import { parseWritePrecondition } from './preconditions.js';
import {
  CONTINUE_100,
  CREATED,
  Conn,
  DEFAULT_CONTENT_TYPE,
  DELETED,
  DateLine,
  ERROR_RESPONSES,
  HEALTH_OK,
  HELLO,
  H_ETAG,
  H_ETAG_END,
  H_METRICS_TYPE,
  H_TEXT_PLAIN,
  REPLACED,
  put200Head,
  type Canned,
} from './canned.js';
import { ERRORS, HttpError } from '../base/errors.js';
import { C_PURGED, Metrics, Route, renderMetrics } from './metrics.js';
import { PrefixPurge, type PurgeEnd } from './purge.js';
import { Output } from './output.js';
import type { MissHandler } from './api.js';
import { Later, type LaterOwner } from './later.js';
import { GetAnswers } from './get.js';
import { KeyScratch, keyOf, routeHead } from './routes.js';
import { beginUpload, finishUpload } from './upload.js';
import { EMPTY, decimalDigits } from '../base/bytes.js';

/** Largest declared body drained (not refused unread) under a failed precondition. */
export const DRAIN_LIMIT = 64 * 1024;
/** The request's Content-Type bytes (a view of its head), or the default. */
function contentTypeOf(head: RequestHead): Uint8Array {
  return head.ctLen === 0 ? DEFAULT_CONTENT_TYPE : head.src.subarray(head.ctStart, head.ctStart + head.ctLen);
}

/**
 * Everything a thread needs to answer requests, shared by its connections (HTTP/1.1 and h2c):
 * the store, the output arena, the cached Date line, the metrics slot and a key scratch; routes
 * each request to its answer (GETs: get.ts). Each method answers into `out`; the connection
 * flushes once per batch.
 */
export class Responder {
  readonly out = new Output();
  readonly date = new DateLine();
  private readonly keyScratch = new KeyScratch();
  private readonly gets: GetAnswers;
  /** The write precondition being checked (refilled from the request head where it is used). */
  private readonly pre = new Precondition();
  /** The ETag of the entry a write stored (filled by the store on Created/Replaced). */
  private readonly written = new WriteResult();
  /** Set once shutdown began: /healthz answers 503. */
  shuttingDown = false;
  /** Set by the connection around `answer`: a purge or a miss is answered later through it. */
  host: LaterOwner | null = null;

  constructor(
    private readonly store: KvStore,
    readonly metrics: Metrics,
    private readonly maxValueSize: number,
    private readonly threads: number,
    private readonly missHandler: MissHandler | null = null,
  ) {
    this.out.unpin = (pin) => store.unpin(pin);
    this.gets = new GetAnswers(store, this.out, this.date, metrics, this.keyScratch, missHandler);
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

  /**
   * A prefix purge: it runs over several turns (purge.ts) and is answered once done, through
   * the connection's Later.
   */
  private purge(head: RequestHead, host: LaterOwner, conn: Conn): void {
    const prefix = Uint8Array.from(keyOf(head, this.keyScratch));
    const later = new Later(host, Route.Prefix, conn);
    const end = (purged: number, how: PurgeEnd, error: unknown): void => {
      this.metrics.add(C_PURGED, purged);
      if (how === 'failed') later.log(error);
      later.answer((out, date) => writePurged(out, date, purged, how, later.conn));
    };
    new PrefixPurge(this.store, prefix, end, () => later.progressed()).start();
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
        if (!this.gets.get(head, conn, withBody, this.host)) {
          this.error(HttpError.KEY_NOT_FOUND, conn, withBody, Route.Get);
        }
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
      case Route.Prefix:
        // Only a connection that can answer later (HTTP/1.1) runs a purge.
        if (this.host !== null) {
          this.purge(head, this.host, conn);
          return;
        }
        this.error(HttpError.NOT_FOUND, conn, withBody, Route.Other);
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

  private set(head: RequestHead, conn: Conn): void {
    const pre = this.preconditionOf(head);
    const written = this.written;
    let outcome = finishUpload(head, pre, written);
    if (outcome === null) {
      const body = head.body;
      const value = body.length === 1 ? body[0]! : body.length === 0 ? EMPTY : body;
      const key = keyOf(head, this.keyScratch);
      outcome = this.store.set(key, value, contentTypeOf(head), head.ttl, pre, written);
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
    // The canned 201/200 with the new entry's ETag (as a GET of it shows it) after the status
    // line: a compare-and-set client goes on with If-Match without reading the entry again.
    const c = outcome === SetOutcome.Created ? CREATED : REPLACED;
    const out = this.out;
    const post = c.post[conn]!;
    out.ensure(c.pre.length + H_ETAG.length + 16 + H_ETAG_END.length + 37 + post.length);
    out.put(c.pre);
    out.put(H_ETAG);
    out.hex64(written.etagHi, written.etagLo);
    out.put(H_ETAG_END);
    out.put(this.date.line);
    out.put(post);
    this.metrics.request(Route.Store, c.status);
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
    put200Head(out, this.date, H_METRICS_TYPE, text.length, conn);
    if (withBody) out.external(text);
    this.metrics.request(Route.Metrics, 200);
  }
}

/** The answer to a purge that ended `how` after removing `count` entries; returns the status. */
function writePurged(out: Output, date: DateLine, count: number, how: PurgeEnd, conn: Conn): number {
  if (how !== 'done') {
    const code = how === 'busy' ? HttpError.STORE_BUSY : HttpError.INTERNAL;
    const c = ERROR_RESPONSES[code]!;
    c.write(out, date, ERRORS[code]!.close ? Conn.Close : conn, true);
    return c.status;
  }
  out.ensure(256);
  put200Head(out, date, H_TEXT_PLAIN, decimalDigits(count) + 1, conn);
  out.decimal(count);
  out.slab[out.pos++] = 0x0a;
  out.batchBytes++;
  return 200;
}
