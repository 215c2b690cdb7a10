import { Socket } from 'node:net';
import type { ParserEngine } from '../parser/engine.js';
import { HttpParser, Next, Stop, Yield, type ParserHandler } from '../parser/parser.js';
import { Method } from '../parser/llhttp.js';
import type { RequestHead } from '../parser/request.js';
import { Conn } from './canned.js';
import { HttpError } from '../base/errors.js';
import { StoreLockTimeoutError } from '../store/lock.js';
import { C_BYTES_IN, C_BYTES_OUT, C_PARSE_ERRORS, C_WRITES, Route } from './metrics.js';
import type { DeferHost, Responder } from './responder.js';
import type { MissedRequest } from './api.js';
import type { DateLine } from './canned.js';
import type { Output } from './output.js';
import type { RangeSpec } from './range.js';
import { EMPTY } from '../base/bytes.js';
import { adoptWithReadBuffer, readView } from '../socket/read-buffer.js';
import { adoptHandleWriter, type HandleWriter, type WriteOwner } from '../socket/handle-write.js';
import type { QueuedWrite } from './output.js';

/**
 * The per-connection output cap: once a connection's answers not yet taken by the kernel
 * (pendingOut, pinned store views included) pass it, the connection answers no more
 * requests and reads nothing until the socket drains. What one connection can hold in this
 * process is therefore OUTPUT_CAP plus the one answer that crossed it (at most
 * --max-value-size plus a head).
 */
export const OUTPUT_CAP = 256 * 1024;
/** How long a closing connection keeps draining input so its last answer is not lost to a RST. */
const LINGER_MS = 2000;
/** The HTTP/2 client connection preface (RFC 9113 §3.4): HTTP/2 with prior knowledge. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** `parser.pending` while a deferred answer is prepared and no input followed the request yet. */
const NOTHING_PENDING = new Uint8Array(0);

/** What a connection needs from its thread's server. */
export interface ConnectionHost {
  readonly engine: ParserEngine;
  readonly responder: Responder;
  /** Shutdown began (requests that start now get 503 + close). */
  readonly closing: boolean;
  /** Date.now() as of the last sweep tick (a coarse clock for activity stamps). */
  readonly now: number;
  /**
   * Takes a --concurrency-limit slot for `conn` (sets conn.serving) or, when none is free,
   * queues it: `admitted` is called once a slot is its.
   */
  takeSlot(conn: Connection): boolean;
  /** Gives back the slot `conn` holds (and its upload mark). */
  releaseSlot(conn: Connection): void;
  /**
   * `conn`, holding a slot, keeps it past its data event for a body still arriving: true when
   * the upload share allows (sets conn.uploading); else its slot is given back and it is queued
   * for an upload place (`admitted` follows).
   */
  takeUpload(conn: Connection): boolean;
  released(conn: Connection): void;
  log(e: unknown): void;
  /** Takes over a connection that opened with the HTTP/2 preface (null: HTTP/1.1 only). */
  readonly takeover: ((socket: Socket, bytes: Buffer) => void) | null;
}

/**
 * One client connection: read -> parse -> answer every complete request into the thread's
 * output batch -> one flush per data event. Handlers are bound once per connection, not per
 * request.
 */
export class Connection implements ParserHandler, WriteOwner, DeferHost {
  readonly parser: HttpParser;
  readonly socket: Socket;
  /** Writes go straight to the stream handle (null: socket.write). */
  private readonly writer: HandleWriter | null;
  /** Date.now() of the last byte read or the last drain (idle timeout). */
  lastActive = Date.now();
  /** No more requests are read: the answer that ends the connection was written. */
  ended = false;
  /** Reading is paused until 'drain'. */
  private drainWait = false;
  /** A request was in flight when shutdown began; it is answered, then the connection closes. */
  inFlightAtShutdown = false;
  /**
   * Holds a --concurrency-limit slot: while its input is parsed and answered, and while a
   * request body is arriving. Idle connections, heads still arriving and answers waiting for a
   * slow reader hold none.
   */
  serving = false;
  /** Holds one of the upload places (at most half the slots): a body is arriving. */
  uploading = false;
  /** Waits for a slot; `held` keeps what was read meanwhile (the socket is paused). */
  queued = false;
  private held: Buffer | null = null;
  /** pendingOut at the last sweep (write progress of a slow reader). */
  lastWritable = 0;
  /** An answer is being prepared across turns (deferAnswer); nothing more is parsed until it is out. */
  private waiting = false;
  /** How the deferred answer leaves the connection (Close once a shutdown began meanwhile). */
  private deferredConn: Conn = Conn.Keep;
  private finSent = false;
  /** A miss handed to the read-through tier: reading waits for its answer. */
  private waitingOn: Deferred | null = null;
  /** The deferred answer is the last one (Connection: close, or shutdown). */
  private endAfterDeferred = false;
  private lingerTimer: NodeJS.Timeout | null = null;
  /** Bytes of the HTTP/2 preface matched so far; -1 once the connection is HTTP/1.1. */
  private prefaceAt: number;
  /** The socket was handed to the HTTP/2 server; this object only counts it until it closes. */
  handedOff = false;

  /**
   * `readBuffer`: read through the thread's static buffer (adoptWithReadBuffer) where Node
   * allows it; `accepted` must then be paused and not yet read.
   */
  constructor(
    accepted: Socket,
    private readonly host: ConnectionHost,
    readBuffer = true,
    writeHandle = true,
  ) {
    this.parser = new HttpParser(host.engine, this);
    this.prefaceAt = host.takeover === null ? -1 : 0;
    const adopted = readBuffer ? adoptWithReadBuffer(accepted, this.onRead) : null;
    const socket = adopted ?? accepted;
    this.socket = socket;
    this.writer = writeHandle ? adoptHandleWriter(socket, this) : null;
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

  /** Answers not yet taken by the kernel, in bytes (the output cap counts these). */
  get pendingOut(): number {
    return this.writer === null ? this.socket.writableLength : this.writer.pending;
  }

  /** Whether writes go to the stream handle rather than socket.write. */
  get writesToHandle(): boolean {
    return this.writer !== null;
  }

  /** A write the kernel did not take at once completed (HandleWriter). */
  written(hold: unknown, status: number): void {
    this.host.responder.out.written(hold as QueuedWrite);
    if (status < 0) {
      this.socket.destroy();
      return;
    }
    if (this.writer!.inFlight === 0) this.onDrain();
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
    if (this.prefaceAt >= 0) {
      const rest = this.sniff(chunk);
      if (rest === null) return;
      if (rest !== chunk) {
        chunk = rest;
        transient = false;
      }
    }
    this.host.responder.metrics.add(C_BYTES_IN, chunk.length);
    // The sweep's clock, not Date.now() per read: idle timeouts need no finer time than its tick.
    this.lastActive = this.host.now;
    if (this.queued || (!this.serving && !this.host.takeSlot(this))) {
      // Over --concurrency-limit: keep the bytes unparsed and stop reading (backpressure).
      const copy = transient ? Buffer.from(chunk) : chunk;
      this.held = this.held === null ? copy : Buffer.concat([this.held, copy]);
      this.queued = true;
      this.socket.pause();
      return;
    }
    this.parse(chunk, transient);
    this.settle();
  }

  /** A slot became this queued connection's: parse what waited, then read on. */
  admitted(): void {
    this.queued = false;
    if (this.ended) {
      this.host.releaseSlot(this);
      return;
    }
    const held = this.held;
    this.held = null;
    if (held !== null) this.parse(held, false);
    else if (this.parser.pending !== null) this.parse(null, false);
    this.settle();
    if (!this.drainWait && !this.ended && !this.queued) this.socket.resume();
  }

  /**
   * Flushes, then gives the slot back unless a request body is still arriving; a body that goes
   * on keeps the slot only as one of the upload places, so slow uploads never take every slot.
   */
  private settle(): void {
    this.flush();
    if (!this.serving) return;
    if (this.ended || !this.parser.head.inBody) {
      this.host.releaseSlot(this);
    } else if (!this.uploading && !this.host.takeUpload(this)) {
      this.queued = true;
      this.socket.pause();
    }
  }

  /** Parses `chunk`, or the rest a Yield left when null; a slot is held. */
  private parse(chunk: Buffer | null, transient: boolean): void {
    try {
      if (chunk === null) this.parser.resumePending();
      else this.parser.feed(chunk, transient);
    } catch (e) {
      this.failed(e);
    }
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

  /**
   * Looks for the HTTP/2 preface at the start of the connection, over as many reads as it takes.
   * Returns null when the chunk was taken (a part of the preface, held back, or the whole of it:
   * the socket then goes to the HTTP/2 server), else what the HTTP/1.1 parser reads: the chunk,
   * behind the preface bytes held back before it turned out not to be one.
   */
  private sniff(chunk: Buffer): Buffer | null {
    const at = this.prefaceAt;
    const n = Math.min(chunk.length, PREFACE.length - at);
    for (let i = 0; i < n; i++) {
      if (chunk[i] !== PREFACE[at + i]) {
        this.prefaceAt = -1;
        return at === 0 ? chunk : Buffer.concat([PREFACE.subarray(0, at), chunk]);
      }
    }
    if (at + n < PREFACE.length) {
      this.prefaceAt = at + n;
      return null;
    }
    this.prefaceAt = -1;
    // Copied: the chunk may be the thread's read buffer, which the next read overwrites.
    const bytes = Buffer.allocUnsafe(at + chunk.length);
    PREFACE.copy(bytes, 0, 0, at);
    chunk.copy(bytes, at);
    this.ended = true;
    this.handedOff = true;
    this.parser.headSince = 0;
    this.socket.off('data', this.onData);
    this.socket.off('drain', this.onDrain);
    this.socket.off('end', this.onEnd);
    this.host.takeover!(this.socket, bytes);
    return null;
  }

  private readonly onDrain = (): void => {
    this.lastActive = Date.now();
    if (!this.drainWait || this.ended || this.waiting || this.waitingOn !== null) return;
    this.drainWait = false;
    if (this.parser.pending !== null) {
      // The requests a Yield left are parsed only with a slot.
      if (!this.serving && !this.host.takeSlot(this)) {
        this.queued = true;
        return;
      }
      this.parse(null, false);
      this.settle();
    }
    if (!this.drainWait && !this.ended && !this.queued) this.socket.resume();
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
    this.held = null;
    this.host.released(this);
  };

  /** Hands the batch to the socket; pauses reading while too much output is pending. */
  flush(): void {
    const responder = this.host.responder;
    const bytes = responder.out.flush(this.socket, this.writer);
    if (bytes < 0) {
      this.socket.destroy();
      return;
    }
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
    const pending = this.pendingOut;
    if (pending > OUTPUT_CAP || this.parser.pending !== null) {
      this.drainWait = true;
      this.socket.pause();
      if (pending === 0) queueMicrotask(this.onDrain);
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
      return this.reply(head, Conn.Close);
    }
    if (!head.keepAlive) return this.reply(head, Conn.Close);
    return this.reply(head, head.minor === 0 ? Conn.KeepAlive10 : Conn.Keep);
  }

  private reply(head: RequestHead, conn: Conn): number {
    if (this.host.responder.defers(head)) {
      this.deferAnswer(head, conn);
      return Yield;
    }
    if (this.answerOrDefer(head, conn)) {
      // A miss handed to the read-through tier: reading stops until its answer is written; what
      // was read stays queued in order.
      if (conn === Conn.Close) {
        this.endAfterDeferred = true;
        return Stop;
      }
      if (this.parser.pending === null) this.parser.pending = EMPTY;
      return Yield;
    }
    if (conn === Conn.Close) {
      this.end();
      return Stop;
    }
    // Stop answering once this connection's output (this batch plus what the kernel has not
    // taken yet) passes its cap; the rest waits for the drain.
    return this.host.responder.out.batchBytes + this.pendingOut > OUTPUT_CAP ? Yield : Next;
  }

  /**
   * An answer that takes several turns (a prefix purge): reading stops and what arrives or was
   * pipelined after the request waits in `parser.pending` (a placeholder when there is nothing
   * yet, so that `feed` queues), to be parsed once the answer is out.
   */
  private deferAnswer(head: RequestHead, conn: Conn): void {
    this.waiting = true;
    this.deferredConn = conn;
    if (this.parser.pending === null) this.parser.pending = NOTHING_PENDING;
    this.host.responder.answerLater(head, this.onDeferredReady, this.onDeferredTurn);
  }

  private readonly onDeferredTurn = (): void => {
    this.lastActive = Date.now();
  };

  private readonly onDeferredReady = (write: (conn: Conn) => void, error: unknown): void => {
    this.waiting = false;
    if (error !== null) this.host.log(error);
    if (this.socket.destroyed || this.ended) return;
    if (this.parser.pending === NOTHING_PENDING) this.parser.pending = null;
    this.lastActive = Date.now();
    const conn = this.host.closing ? Conn.Close : this.deferredConn;
    this.inFlightAtShutdown = false;
    this.host.responder.out.mark();
    write(conn);
    if (conn === Conn.Close) this.end();
    this.drainWait = false;
    this.flush();
    if (this.ended) return;
    if (!this.drainWait) this.socket.resume();
  };

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
