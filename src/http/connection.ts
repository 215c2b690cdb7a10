import { Socket } from 'node:net';
import type { ParserEngine } from '../parser/engine.js';
import { HttpParser, Next, Stop, Yield, type ParserHandler } from '../parser/parser.js';
import { Method } from '../parser/llhttp.js';
import type { RequestHead } from '../parser/request.js';
import { Conn } from './canned.js';
import { HttpError } from '../base/errors.js';
import { StoreLockTimeoutError } from '../store/lock.js';
import { C_BYTES_IN, C_BYTES_OUT, C_PARSE_ERRORS, C_WRITES, Route } from './metrics.js';
import { BATCH_BUDGET, type DeferHost, type Responder } from './responder.js';
import type { MissedRequest } from './api.js';
import type { DateLine } from './canned.js';
import type { Output } from './output.js';
import type { RangeSpec } from './range.js';
import { EMPTY } from '../base/bytes.js';
import { adoptWithReadBuffer, readView } from '../socket/read-buffer.js';

/** Pending output past which the connection stops reading until the socket drains. */
const HIGH_WATER = 256 * 1024;
/** How long a closing connection keeps draining input so its last answer is not lost to a RST. */
const LINGER_MS = 2000;

/** What a connection needs from its thread's server. */
export interface ConnectionHost {
  readonly engine: ParserEngine;
  readonly responder: Responder;
  /** Shutdown began (requests that start now get 503 + close). */
  readonly closing: boolean;
  released(conn: Connection): void;
  log(e: unknown): void;
}

/**
 * One client connection: read -> parse -> answer every complete request into the thread's
 * output batch -> one flush per data event. Handlers are bound once per connection, not per
 * request.
 */
export class Connection implements ParserHandler, DeferHost {
  readonly parser: HttpParser;
  readonly socket: Socket;
  /** Date.now() of the last byte read or the last drain (idle timeout). */
  lastActive = Date.now();
  /** No more requests are read: the answer that ends the connection was written. */
  ended = false;
  /** Reading is paused until 'drain'. */
  private drainWait = false;
  /** A request was in flight when shutdown began; it is answered, then the connection closes. */
  inFlightAtShutdown = false;
  /** Holds a --concurrency-limit slot. */
  serving = false;
  private finSent = false;
  /** A miss handed to the read-through tier: reading waits for its answer. */
  private waitingOn: Deferred | null = null;
  /** The deferred answer is the last one (Connection: close, or shutdown). */
  private endAfterDeferred = false;
  private lingerTimer: NodeJS.Timeout | null = null;

  /**
   * `readBuffer`: read through the thread's static buffer (adoptWithReadBuffer) where Node
   * allows it; `accepted` must then be paused and not yet read.
   */
  constructor(
    accepted: Socket,
    private readonly host: ConnectionHost,
    readBuffer = true,
  ) {
    this.parser = new HttpParser(host.engine, this);
    const adopted = readBuffer ? adoptWithReadBuffer(accepted, this.onRead) : null;
    const socket = adopted ?? accepted;
    this.socket = socket;
    if (adopted === null) socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onSocketError);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
  }

  /** Starts reading (the socket was accepted paused). */
  start(): void {
    this.lastActive = Date.now();
    // The first request head is due within --header-timeout of being served.
    this.parser.headSince = this.lastActive;
    this.socket.resume();
  }

  /** Whether reads come through the static buffer (onRead) rather than 'data' events. */
  get readsIntoBuffer(): boolean {
    return this.socket.listenerCount('data') === 0;
  }

  private readonly onRead = (n: number): void => {
    this.consume(readView(n), true);
  };

  private readonly onData = (chunk: Buffer): void => {
    this.consume(chunk, false);
  };

  /** `transient`: the chunk's memory is reused once this returns. */
  private consume(chunk: Buffer, transient: boolean): void {
    if (this.ended) return;
    const responder = this.host.responder;
    responder.metrics.add(C_BYTES_IN, chunk.length);
    this.lastActive = Date.now();
    try {
      this.parser.feed(chunk, transient);
    } catch (e) {
      this.failed(e);
    }
    this.flush();
  }

  /**
   * A request's handler threw. A stuck stripe lock (a thread wedged or dying mid-update) is
   * transient: 503, retry later. Anything else is a bug, never the client's doing: 500. Either
   * way the connection closes and the thread keeps serving.
   */
  private failed(e: unknown): void {
    const responder = this.host.responder;
    const busy = e instanceof StoreLockTimeoutError;
    this.host.log(e);
    responder.out.rewind();
    responder.error(busy ? HttpError.STORE_BUSY : HttpError.INTERNAL, Conn.Close, true, Route.Other);
    this.end();
  }

  private readonly onDrain = (): void => {
    this.lastActive = Date.now();
    if (!this.drainWait || this.ended || this.waitingOn !== null) return;
    this.drainWait = false;
    // the pipelined requests resumed here run handlers too: a throw must be answered like one in
    // consume, not escape from a socket event and kill the thread
    let resumed: boolean;
    try {
      resumed = this.parser.resumePending();
    } catch (e) {
      this.failed(e);
      resumed = true;
    }
    if (resumed) this.flush();
    if (!this.drainWait && !this.ended) this.socket.resume();
  };

  private readonly onSocketError = (): void => {
    // ECONNRESET and friends: nothing to answer; 'close' follows.
  };

  private readonly onEnd = (): void => {
    if (this.ended) this.socket.destroy();
  };

  private readonly onClose = (): void => {
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    if (this.waitingOn !== null) {
      this.waitingOn.gone = true;
      this.waitingOn = null;
    }
    this.parser.destroy();
    this.host.released(this);
  };

  /** Hands the batch to the socket; pauses reading while too much output is pending. */
  flush(): void {
    const responder = this.host.responder;
    const bytes = responder.out.flush(this.socket);
    if (bytes !== 0) {
      responder.metrics.add(C_WRITES, 1);
      responder.metrics.add(C_BYTES_OUT, bytes);
    }
    if (this.ended) {
      if (!this.finSent) {
        this.finSent = true;
        this.socket.end();
      }
      return;
    }
    if (this.socket.writableLength > HIGH_WATER || this.parser.pending !== null) {
      this.drainWait = true;
      this.socket.pause();
      if (this.socket.writableLength === 0) queueMicrotask(this.onDrain);
    }
  }

  onHead(head: RequestHead): number {
    this.host.responder.out.mark();
    return this.host.responder.onHead(head);
  }

  onRequest(head: RequestHead): number {
    const responder = this.host.responder;
    responder.out.mark();
    if (this.host.closing) {
      if (!this.inFlightAtShutdown) {
        responder.error(HttpError.SHUTTING_DOWN, Conn.Close, head.method !== Method.HEAD, head.route);
        this.end();
        return Stop;
      }
      this.inFlightAtShutdown = false;
      return this.lastAnswer(head);
    }
    if (!head.keepAlive) return this.lastAnswer(head);
    if (this.answerOrDefer(head, head.minor === 0 ? Conn.KeepAlive10 : Conn.Keep)) {
      // Reading stops until the deferred answer is written; what was read stays queued in order.
      if (this.parser.pending === null) this.parser.pending = EMPTY;
      return Yield;
    }
    return responder.out.batchBytes > BATCH_BUDGET ? Yield : Next;
  }

  /** The answer that ends the connection (now, or once a deferred answer is written). */
  private lastAnswer(head: RequestHead): number {
    if (this.answerOrDefer(head, Conn.Close)) this.endAfterDeferred = true;
    else this.end();
    return Stop;
  }

  /** Answers `head`; true when the answer was deferred (a miss handed to the read-through tier). */
  private answerOrDefer(head: RequestHead, conn: Conn): boolean {
    const responder = this.host.responder;
    responder.host = this;
    responder.deferred = false;
    responder.answer(head, conn);
    responder.host = null;
    if (!responder.deferred) return false;
    responder.deferred = false;
    return true;
  }

  defer(key: Uint8Array, withBody: boolean, range: RangeSpec, conn: Conn): MissedRequest {
    const d = new Deferred(this, key, withBody, range, conn);
    this.waitingOn = d;
    return d;
  }

  /** Writes a deferred answer and goes on reading (or ends the connection). */
  deferredAnswer(d: Deferred, write: (out: Output, date: DateLine) => number): void {
    if (this.waitingOn !== d || this.ended) return;
    this.waitingOn = null;
    const responder = this.host.responder;
    try {
      responder.out.mark();
      const status = write(responder.out, responder.date);
      responder.metrics.request(Route.Get, status);
    } catch (e) {
      this.host.log(e);
      responder.out.rewind();
      responder.error(HttpError.INTERNAL, Conn.Close, true, Route.Get);
      this.endAfterDeferred = true;
    }
    if (this.endAfterDeferred) {
      this.endAfterDeferred = false;
      this.end();
      this.flush();
      return;
    }
    this.flush();
    // Parse what arrived meanwhile (flush may have paused for a drain: onDrain resumes then).
    if (!this.drainWait) {
      this.drainWait = true;
      this.onDrain();
    }
  }

  onError(code: number, head: RequestHead): void {
    if (code !== HttpError.NONE) {
      const responder = this.host.responder;
      responder.metrics.add(C_PARSE_ERRORS, 1);
      responder.error(code, Conn.Close, head.inHead || head.method !== Method.HEAD, Route.Other);
    }
    this.end();
  }

  /** Answers `code` and closes, outside a data event (timeouts, shutdown, over the limit). */
  refuse(code: number): void {
    if (this.ended) return;
    this.host.responder.error(code, Conn.Close, true, Route.Other);
    this.end();
    this.flush();
  }

  /**
   * Stops reading requests: the answers written so far go out, then FIN (sent by the flush that
   * follows in the same turn). Input is drained
   * (not read as requests) for a moment so the client gets the answer rather than a reset.
   */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.drainWait = false;
    this.socket.resume();
    this.lingerTimer = setTimeout(() => this.socket.destroy(), LINGER_MS);
    this.lingerTimer.unref();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A miss waiting for the read-through tier; see MissedRequest. */
class Deferred implements MissedRequest {
  gone = false;

  constructor(
    private readonly owner: Connection,
    readonly key: Uint8Array,
    readonly withBody: boolean,
    readonly range: RangeSpec,
    readonly conn: Conn,
  ) {}

  answer(write: (out: Output, date: DateLine) => number): void {
    if (this.gone) return;
    this.gone = true;
    this.owner.deferredAnswer(this, write);
  }
}
