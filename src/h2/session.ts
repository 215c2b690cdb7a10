import type { Socket } from 'node:net';
import { FieldList, HpackDecoder } from './hpack.js';
import { H2Stream } from './stream.js';
import * as F from './frames.js';
import { FrameOut } from './frames.js';
import { sendData, sendHeaders } from './send.js';
import { Flow } from './flow.js';
import {
  ConnectionError,
  MAX_CONCURRENT_STREAMS,
  OUT_HIGH,
  ResetBudget,
  SESSION_WINDOW,
  STREAM_WINDOW,
} from './limits.js';
import type { SessionHost } from './stream.js';
import { HeaderBlock } from './header-block.js';
import { ClosedStreams } from './closed-streams.js';

export type { SessionHost } from './stream.js';

/** Largest frame we accept (we announce no other SETTINGS_MAX_FRAME_SIZE). */
const MAX_FRAME = F.DEFAULT_MAX_FRAME;

/** The client connection preface (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * One HTTP/2 connection: parses the frames in what the socket reads, keeps the stream table,
 * the HPACK decoder and both directions' flow-control windows, and writes what one read
 * produced in one socket write. The requests themselves are the host's.
 */
export class Session {
  readonly out: FrameOut;
  readonly streams = new Map<number, H2Stream>();
  private readonly hpack = new HpackDecoder();
  private readonly fields = new FieldList();
  /** Highest stream id the client opened. */
  private lastId = 0;
  private prefaceLeft = PREFACE.length;
  /** The client's first SETTINGS arrived. */
  private settled = false;
  /** Bytes of a frame cut by the end of a read (a copy). */
  private pending: Buffer | null = null;
  /** A header block waiting for CONTINUATION frames. */
  private readonly block = new HeaderBlock();
  /** GOAWAY sent (shutdown, or an error): no new streams; `dead`: nothing more is read. */
  private goaway = false;
  private dead = false;
  readonly flow = new Flow();
  /** Streams with answer bytes waiting for window, in the order they blocked. */
  private readonly waiting: H2Stream[] = [];
  private readonly resets = new ResetBudget();
  /** How recent streams closed: what a frame arriving on one of them gets. */
  private readonly gone = new ClosedStreams();
  private draining = false;
  /** Reading stopped while the client does not read what we wrote (acks of a PING flood, say). */
  private readPaused = false;

  constructor(
    private readonly host: SessionHost,
    readonly socket: Socket,
  ) {
    this.out = new FrameOut(socket);
    this.out.settings(
      [
        F.S_MAX_CONCURRENT_STREAMS,
        MAX_CONCURRENT_STREAMS,
        F.S_INITIAL_WINDOW_SIZE,
        STREAM_WINDOW,
        F.S_MAX_HEADER_LIST_SIZE,
        host.maxHeaderList,
      ],
      false,
    );
    this.out.windowUpdate(0, SESSION_WINDOW - F.DEFAULT_WINDOW);
    this.fields.cap = host.maxHeaderList;
    socket.on('drain', this.onDrain);
  }

  /** Whether the connection still reads frames. */
  get alive(): boolean {
    return !this.dead;
  }

  /** Takes bytes read from the socket; `transient`: `chunk` is reused once this returns. */
  feed(chunk: Buffer, transient: boolean): void {
    if (this.dead) return;
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
      transient = false;
    }
    let pos = 0;
    const end = buf.length;
    try {
      if (this.prefaceLeft > 0) pos = this.preface(buf);
      while (!this.dead && this.prefaceLeft === 0 && end - pos >= F.FRAME_HEADER) {
        const len = (buf[pos]! << 16) | (buf[pos + 1]! << 8) | buf[pos + 2]!;
        if (len > MAX_FRAME) throw new ConnectionError(F.E_FRAME_SIZE);
        if (end - pos - F.FRAME_HEADER < len) break;
        const type = buf[pos + 3]!;
        const flags = buf[pos + 4]!;
        const id = buf.readUInt32BE(pos + 5) & 0x7fffffff;
        const at = pos + F.FRAME_HEADER;
        pos = at + len;
        this.frame(buf, at, len, type, flags, id, transient);
      }
    } catch (e) {
      if (e instanceof ConnectionError) {
        this.fail(e.h2code);
      } else {
        // A bug, never the client's doing: this connection ends (INTERNAL_ERROR), the thread goes on.
        this.host.log(e);
        this.fail(F.E_INTERNAL);
      }
    }
    if (!this.dead && pos < end) this.pending = Buffer.from(buf.subarray(pos));
    this.out.flush();
    if (!this.dead && !this.readPaused && this.socket.writableLength > 2 * OUT_HIGH) {
      this.readPaused = true;
      this.socket.pause();
    }
  }

  /** Checks the preface at the start of `buf`; returns where frames start. */
  private preface(buf: Buffer): number {
    const from = PREFACE.length - this.prefaceLeft;
    const n = Math.min(this.prefaceLeft, buf.length);
    for (let i = 0; i < n; i++) {
      if (buf[i] !== PREFACE[from + i]) throw new ConnectionError(F.E_PROTOCOL);
    }
    this.prefaceLeft -= n;
    return n;
  }

  private frame(
    b: Buffer,
    at: number,
    len: number,
    type: number,
    flags: number,
    id: number,
    tr: boolean,
  ): void {
    if (this.block.stream !== 0 && type !== F.T_CONTINUATION) throw new ConnectionError(F.E_PROTOCOL);
    if (!this.settled) {
      // The client's preface ends with a SETTINGS frame (§3.4).
      if (type !== F.T_SETTINGS || (flags & F.F_ACK) !== 0) throw new ConnectionError(F.E_PROTOCOL);
      this.settled = true;
    }
    switch (type) {
      case F.T_DATA:
        return this.onData(b, at, len, flags, id, tr);
      case F.T_HEADERS:
        return this.onHeaders(b, at, len, flags, id);
      case F.T_CONTINUATION:
        if (id === 0 || id !== this.block.stream) throw new ConnectionError(F.E_PROTOCOL);
        this.block.add(b, at, at + len);
        if (flags & F.F_END_HEADERS) {
          const all = this.block.take();
          this.headerBlock(all, 0, all.length);
        }
        return;
      case F.T_PRIORITY:
        if (id === 0) throw new ConnectionError(F.E_PROTOCOL);
        if (len !== 5) this.resetStream(id, F.E_FRAME_SIZE);
        return;
      case F.T_RST_STREAM:
        return this.onRst(len, id);
      case F.T_SETTINGS:
        return this.onSettings(b, at, len, flags, id);
      case F.T_PING:
        if (id !== 0) throw new ConnectionError(F.E_PROTOCOL);
        if (len !== 8) throw new ConnectionError(F.E_FRAME_SIZE);
        if ((flags & F.F_ACK) === 0) this.out.ping(b, at);
        return;
      case F.T_GOAWAY:
        if (id !== 0) throw new ConnectionError(F.E_PROTOCOL);
        // The client opens nothing more; what is open is answered, then the connection ends.
        this.shutdown();
        return;
      case F.T_WINDOW_UPDATE:
        return this.onWindowUpdate(b, at, len, id);
      case F.T_PUSH_PROMISE:
        throw new ConnectionError(F.E_PROTOCOL);
      default:
      // Unknown frame types are ignored (§4.1).
    }
  }

  private onData(b: Buffer, at: number, len: number, flags: number, id: number, tr: boolean): void {
    if (id === 0) throw new ConnectionError(F.E_PROTOCOL);
    let end = at + len;
    if (flags & F.F_PADDED) {
      if (len < 1 || b[at]! >= len) throw new ConnectionError(F.E_PROTOCOL);
      end -= b[at]!;
      at++;
    }
    const connInc = this.flow.connReceived(len);
    if (connInc > 0) this.out.windowUpdate(0, connInc);
    if (id > this.lastId) throw new ConnectionError(F.E_PROTOCOL);
    const st = this.streams.get(id);
    if (st === undefined) {
      if (this.gone.judge(id, false)) this.resetStream(id, F.E_STREAM_CLOSED);
      return;
    }
    if (st.remoteClosed) return this.resetStream(id, F.E_STREAM_CLOSED);
    const ended = (flags & F.F_END_STREAM) !== 0;
    const inc = this.flow.streamReceived(st, len, ended);
    if (inc < 0) return this.resetStream(id, F.E_FLOW_CONTROL);
    if (inc > 0) this.out.windowUpdate(id, inc);
    if (ended) st.remoteClosed = true;
    this.host.data(this, st, b.subarray(at, end), tr, ended);
    if (ended) this.settle(st);
  }

  private onHeaders(b: Buffer, at: number, len: number, flags: number, id: number): void {
    const block = this.block;
    const end = block.open(b, at, len, flags, id);
    if (flags & F.F_END_HEADERS) this.headerBlock(b, block.fragmentStart, end);
    else block.add(b, block.fragmentStart, end);
  }

  /** A complete header block for the stream the block was opened for. */
  private headerBlock(b: Buffer, start: number, end: number): void {
    const id = this.block.stream;
    const ended = (this.block.flags & F.F_END_STREAM) !== 0;
    this.block.stream = 0;
    const list = this.fields;
    list.reset();
    // Decoded whatever becomes of the stream: the table must stay in step with the client's.
    if (!this.hpack.decode(b, start, end, list)) throw new ConnectionError(F.E_COMPRESSION);
    const st = this.streams.get(id);
    if (st !== undefined) {
      // Trailers: they end the body; anything else on an open stream is an error.
      if (st.remoteClosed) return this.resetStream(id, F.E_STREAM_CLOSED);
      if (!ended) return this.resetStream(id, F.E_PROTOCOL);
      st.remoteClosed = true;
      this.host.ended(this, st, list);
      this.settle(st);
      return;
    }
    // Not a new stream (those are above every id used before, §5.1.1): a closed one.
    if (id <= this.lastId) {
      if (this.gone.judge(id, true)) this.resetStream(id, F.E_STREAM_CLOSED);
      return;
    }
    this.lastId = id;
    this.gone.opened(id);
    // After GOAWAY new streams are ignored (the client retries them elsewhere).
    if (this.goaway) return this.gone.reset(id);
    if (this.streams.size >= MAX_CONCURRENT_STREAMS) {
      this.spendReset();
      return this.resetStream(id, F.E_REFUSED_STREAM);
    }
    const s = new H2Stream(id, this.flow.peerInitialWindow, STREAM_WINDOW);
    s.remoteClosed = ended;
    this.streams.set(id, s);
    this.host.request(this, s, list, ended);
  }

  private onRst(len: number, id: number): void {
    if (id === 0) throw new ConnectionError(F.E_PROTOCOL);
    if (len !== 4) throw new ConnectionError(F.E_FRAME_SIZE);
    if (id > this.lastId) throw new ConnectionError(F.E_PROTOCOL);
    this.spendReset();
    const st = this.streams.get(id);
    if (st === undefined) return;
    this.gone.peerReset(id);
    this.forget(st);
  }

  /** Counts a reset against the flood allowance; past it, the connection ends. */
  private spendReset(): void {
    if (!this.resets.spend()) throw new ConnectionError(F.E_ENHANCE_YOUR_CALM);
  }

  private onSettings(b: Buffer, at: number, len: number, flags: number, id: number): void {
    if (id !== 0) throw new ConnectionError(F.E_PROTOCOL);
    if (flags & F.F_ACK) {
      if (len !== 0) throw new ConnectionError(F.E_FRAME_SIZE);
      return;
    }
    if (len % 6 !== 0) throw new ConnectionError(F.E_FRAME_SIZE);
    for (let p = at; p < at + len; p += 6)
      this.flow.setting(b.readUInt16BE(p), b.readUInt32BE(p + 2), this.streams.values());
    this.out.settings([], true);
    this.resume();
  }

  private onWindowUpdate(b: Buffer, at: number, len: number, id: number): void {
    if (len !== 4) throw new ConnectionError(F.E_FRAME_SIZE);
    const inc = b.readUInt32BE(at) & 0x7fffffff;
    if (id === 0) {
      this.flow.connUpdate(inc);
      this.resume();
      return;
    }
    if (id > this.lastId) throw new ConnectionError(F.E_PROTOCOL);
    const st = this.streams.get(id);
    if (st === undefined) return;
    const err = this.flow.streamUpdate(st, inc);
    if (err !== 0) return this.resetStream(id, err);
    if (st.left > 0) this.push(st);
  }

  /** Sends an answer's head and as much of its body as the windows allow (the host's way out). */
  respond(st: H2Stream, fields: readonly (string | number)[], hasBody: boolean): void {
    st.answered = true;
    sendHeaders(this.out, st.id, fields, !hasBody, this.flow.peerMaxFrame);
    if (!hasBody) this.localDone(st);
    else this.push(st);
  }

  /** Frames what `st` may send now; parks it when a window (or the socket) is full. */
  private push(st: H2Stream): void {
    const room = OUT_HIGH - this.socket.writableLength - this.out.bodyBytes;
    if (room <= 0) this.draining = true;
    const finished = this.draining ? false : sendData(this.out, this.flow, st, room);
    if (!finished && !this.draining && st.left > 0 && st.sendWindow > 0 && this.flow.connSendWindow > 0) {
      // Out of budget, not of window: go on once the socket drained.
      this.draining = true;
    }
    if (finished) {
      this.localDone(st);
    } else if (!st.blocked && st.left > 0) {
      st.blocked = true;
      this.waiting.push(st);
    }
  }

  /** Window grew (or the socket drained): streams that waited send on, in order. */
  private resume(): void {
    if (this.waiting.length === 0) return;
    const list = this.waiting.splice(0);
    for (const st of list) {
      st.blocked = false;
      if (st.left > 0 && this.streams.get(st.id) === st) this.push(st);
    }
  }

  private readonly onDrain = (): void => {
    if (this.readPaused && !this.dead) {
      this.readPaused = false;
      this.socket.resume();
    }
    if (!this.draining) return;
    this.draining = false;
    this.resume();
    this.out.flush();
  };

  /** The answer was queued to the end. */
  private localDone(st: H2Stream): void {
    st.localClosed = true;
    const d = st.dropBody();
    if (d !== null) this.out.onWritten(d);
    if (st.resetAfterSend && !st.remoteClosed) {
      this.resetStream(st.id, F.E_NO_ERROR);
      return;
    }
    this.settle(st);
  }

  /** Removes a stream both sides are done with. */
  private settle(st: H2Stream): void {
    if (st.remoteClosed && st.localClosed && this.streams.get(st.id) === st) {
      this.streams.delete(st.id);
      this.gone.ended(st.id);
      if (this.goaway && this.streams.size === 0) this.end();
    }
  }

  /** Resets a stream (stream error) and forgets it. */
  resetStream(id: number, code: number): void {
    this.out.rst(id, code);
    this.gone.reset(id);
    const st = this.streams.get(id);
    if (st !== undefined) this.forget(st);
  }

  private forget(st: H2Stream): void {
    if (this.streams.get(st.id) !== st) return;
    this.streams.delete(st.id);
    st.left = 0;
    const d = st.dropBody();
    if (d !== null) this.out.onWritten(d);
    if (!st.answered || !st.remoteClosed) this.host.aborted(st);
    if (this.goaway && this.streams.size === 0) this.end();
  }

  /** Graceful: GOAWAY(NO_ERROR); open streams finish, then the connection ends. */
  shutdown(): void {
    if (this.goaway || this.dead) return;
    this.goaway = true;
    this.out.goaway(this.lastId, F.E_NO_ERROR);
    if (this.streams.size === 0) this.end();
    this.out.flush();
  }

  /** A connection error: GOAWAY with `code`, every stream dropped, the connection ends. */
  fail(code: number): void {
    if (this.dead) return;
    this.goaway = true;
    this.out.goaway(this.lastId, code);
    for (const st of [...this.streams.values()]) this.forget(st);
    this.end();
  }

  private end(): void {
    if (this.dead) return;
    this.dead = true;
    this.pending = null;
    this.out.flush();
    const s = this.socket;
    s.end();
    // The client closes its side once it read the GOAWAY; one that does not is cut off.
    setTimeout(() => s.destroy(), 2000).unref();
  }

  /** The socket closed: every stream goes, pinned values are released. */
  closed(): void {
    this.dead = true;
    this.goaway = true;
    for (const st of [...this.streams.values()]) this.forget(st);
    this.out.closed();
    this.host.closed(this);
  }
}
