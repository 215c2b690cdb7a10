import { Socket } from 'node:net';
import { HttpParser, Next, Stop, Yield, type ParserHandler } from '../parser/parser.js';
import { Method } from '../parser/llhttp.js';
import type { RequestHead } from '../parser/request.js';
import { Conn } from './canned.js';
import { HttpError } from '../base/errors.js';
import { StoreLockTimeoutError } from '../store/lock.js';
import { C_BYTES_IN, C_BYTES_OUT, C_PARSE_ERRORS, C_WRITES, Route } from './metrics.js';
import {
  holdInput,
  releaseInput,
  writeLater,
  type AnswerWriter,
  type Later,
  type LaterOwner,
} from './later.js';
import { PrefaceSniff } from './preface.js';
import { adoptWithReadBuffer, readView } from '../socket/read-buffer.js';
import { adoptHandleWriter, type HandleWriter, type WriteOwner } from '../socket/handle-write.js';
import type { QueuedWrite } from './output.js';
import type { ConnectionHost } from './connection-host.js';

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

/**
 * One client connection: read -> parse -> answer every complete request into the thread's
 * output batch -> one flush per data event. Handlers are bound once per connection, not per
 * request.
 */
export class Connection implements ParserHandler, WriteOwner, LaterOwner {
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
  private finSent = false;
  /** The answer that comes in a later turn (later.ts); nothing more is parsed until it is out. */
  private later: Later | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  /** Until the connection is known to be HTTP/1.1 (null) or HTTP/2 (handed off). */
  private sniff: PrefaceSniff | null;
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
    this.sniff = host.takeover === null ? null : new PrefaceSniff();
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
    const sniff = this.sniff;
    if (sniff !== null) {
      const rest = sniff.feed(chunk);
      if (rest === null) {
        if (sniff.bytes !== null) this.handOff(sniff.bytes);
        return;
      }
      this.sniff = null;
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
    responder.host = null;
    responder.out.rewind();
    responder.error(busy ? HttpError.STORE_BUSY : HttpError.INTERNAL, Conn.Close, true, Route.Other);
    this.end();
  }

  /** The connection opened with the HTTP/2 preface: the socket goes to the HTTP/2 server. */
  private handOff(bytes: Buffer): void {
    this.sniff = null;
    this.ended = true;
    this.handedOff = true;
    this.parser.headSince = 0;
    this.socket.off('data', this.onData);
    this.socket.off('drain', this.onDrain);
    this.socket.off('end', this.onEnd);
    this.host.takeover!(this.socket, bytes);
  }

  private readonly onDrain = (): void => {
    this.lastActive = Date.now();
    if (!this.drainWait || this.ended || this.later !== null) return;
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
    if (this.later !== null) {
      this.later.gone = true;
      this.later = null;
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
    const responder = this.host.responder;
    responder.host = this;
    responder.answer(head, conn);
    responder.host = null;
    const later = this.later;
    if (later !== null) {
      // Answered later (a purge, a miss handed to the read-through tier): reading stops until the
      // answer is written; what was read stays queued in order.
      if (!later.gone) return holdInput(this.parser);
      // Answered while it was handed over: as an answer at once.
      this.later = null;
      conn = later.conn;
    }
    if (conn === Conn.Close) {
      this.end();
      return Stop;
    }
    // Stop answering once this connection's output (this batch plus what the kernel has not
    // taken yet) passes its cap; the rest waits for the drain.
    return responder.out.batchBytes + this.pendingOut > OUTPUT_CAP ? Yield : Next;
  }

  waitFor(later: Later): void {
    this.later = later;
  }

  progressed(): void {
    this.lastActive = Date.now();
  }

  log(e: unknown): void {
    this.host.log(e);
  }

  /** Writes the later answer and goes on reading (or ends the connection). */
  answered(later: Later, write: AnswerWriter): void {
    if (this.later !== later) return;
    const responder = this.host.responder;
    if (responder.host === this) {
      // Given while the request is still being answered: `reply` goes on from here.
      writeLater(responder, later, write, this);
      return;
    }
    this.later = null;
    if (this.socket.destroyed || this.ended) return;
    releaseInput(this.parser);
    this.lastActive = Date.now();
    // Shutdown began meanwhile: the answer closes unless bytes were read behind it; a request
    // there is answered too (503 + close, as any request that starts during shutdown), not
    // dropped behind a close it never saw.
    if (this.host.closing && this.parser.pending === null && this.held === null) later.conn = Conn.Close;
    this.inFlightAtShutdown = false;
    responder.out.mark();
    writeLater(responder, later, write, this);
    if (later.conn === Conn.Close) {
      this.end();
      this.flush();
      return;
    }
    this.drainWait = false;
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
    this.lingerTimer = setTimeout(this.onLinger, LINGER_MS);
    this.lingerTimer.unref();
  }

  /**
   * The linger ends only once every answer left the process: a slow reader of a big answer
   * before `Connection: close` is not cut off (a reader that takes nothing is the idle timeout's).
   */
  private readonly onLinger = (): void => {
    if (this.pendingOut > 0 && !this.socket.destroyed) {
      this.lingerTimer = setTimeout(this.onLinger, LINGER_MS);
      this.lingerTimer.unref();
      return;
    }
    this.socket.destroy();
  };

  destroy(): void {
    this.socket.destroy();
  }
}
