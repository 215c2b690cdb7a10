import type { Socket } from 'node:net';
import { MAX_HEAD_BYTES } from '../parser/parser.js';
import { RequestHead } from '../parser/request.js';
import { adoptWithReadBuffer, readView } from '../socket/read-buffer.js';
import type { ProtocolTakeover, TakeoverContext } from '../http/api.js';
import { HttpError } from '../base/errors.js';
import { C_BYTES_IN, C_BYTES_OUT, C_IDLE_CLOSED, C_WRITES } from '../http/metrics.js';
import type { Responder } from '../http/responder.js';
import { Answer } from './answer.js';
import { replyInto } from './reply.js';
import { MALFORMED, fillFromFields, trailersOk } from './fields.js';
import { E_INTERNAL, E_PROTOCOL } from './frames.js';
import type { FieldList } from './hpack.js';
import { Session, type SessionHost } from './session.js';
import type { H2Stream } from './stream.js';

const ignore = (): void => {};
const EMPTY = Buffer.alloc(0);

/**
 * The thread's HTTP/2 side on stripecache's own framing (session.ts): connections that opened
 * with the HTTP/2 preface are handed over by the HTTP/1.1 connection that read it, and every
 * request on them is answered by the thread's Responder, the code that answers HTTP/1.1, whose
 * output answer.ts turns into a status, fields and body segments.
 */
class LeanH2 implements ProtocolTakeover, SessionHost {
  private readonly sessions = new Set<Session>();
  private readonly responder: Responder;
  private readonly answer = new Answer();
  /** For requests without a body: answered within the read that brought them. */
  private readonly head = new RequestHead();
  private closing = false;
  /** Far above the HTTP/1.1 limit (checked per request, which answers 431): a cap on memory only. */
  readonly maxHeaderList = 4 * MAX_HEAD_BYTES;

  constructor(private readonly ctx: TakeoverContext) {
    this.responder = ctx.responder;
  }

  adopt(socket: Socket, bytes: Buffer): void {
    // Reads go to this session from now on: through the thread's read buffer where the handle
    // can be taken over again (the HTTP/1.1 connection's socket keeps no way to read), else
    // through 'data' events on the socket as it is.
    // Gone while it was being handed over: its 'close' (which the HTTP/1.1 side counts) came already.
    if (socket.destroyed) return;
    socket.pause();
    let session: Session | null = null;
    const metrics = this.responder.metrics;
    const own = adoptWithReadBuffer(
      socket,
      (n) => {
        metrics.add(C_BYTES_IN, n);
        session?.feed(readView(n), true);
      },
      true,
    );
    const sock = own ?? socket;
    const s = new Session(this, sock);
    session = s;
    s.out.counter = (bytes) => {
      metrics.add(C_WRITES, 1);
      metrics.add(C_BYTES_OUT, bytes);
    };
    if (own === null) {
      socket.on('data', (chunk: Buffer) => {
        metrics.add(C_BYTES_IN, chunk.length);
        s.feed(chunk, false);
      });
    } else {
      // The HTTP/1.1 side counts the connection until its socket closes; either closes both.
      own.on('close', () => socket.destroy());
      socket.on('close', () => own.destroy());
    }
    sock.on('error', ignore);
    sock.on('close', () => s.closed());
    sock.setTimeout(this.ctx.config.idleTimeoutMs, () => {
      // Nothing read or written for --idle-timeout, open streams or not (a stalled body).
      this.responder.metrics.add(C_IDLE_CLOSED, 1);
      sock.destroy();
    });
    this.sessions.add(s);
    metrics.add(C_BYTES_IN, bytes.length);
    s.feed(bytes, false);
    if (this.closing) s.shutdown();
    if (!sock.destroyed) sock.resume();
  }

  shutdown(): void {
    this.closing = true;
    // GOAWAY: streams already opened finish; the client opens new ones on a new connection.
    for (const s of this.sessions) s.shutdown();
  }

  request(s: Session, st: H2Stream, fields: FieldList, ended: boolean): void {
    const head = ended ? this.head : new RequestHead();
    let code = fillFromFields(head, fields, !ended);
    if (code === MALFORMED) {
      s.resetStream(st.id, E_PROTOCOL);
      return;
    }
    if (code === 0) code = this.responder.onHead(head);
    if (code !== 0) {
      // Refused before the body (a limit, or a declared length over --max-value-size): the
      // answer, then RST_STREAM(NO_ERROR) so the client stops sending it.
      if (!ended) st.resetAfterSend = true;
      this.reply(s, st, head, code);
      return;
    }
    if (ended) this.reply(s, st, head, 0);
    else st.head = head;
  }

  data(s: Session, st: H2Stream, chunk: Buffer, transient: boolean, ended: boolean): void {
    const head = st.head;
    if (head === null) return;
    const n = chunk.length;
    if (n !== 0) {
      head.bodyLength += n;
      if (head.contentLength >= 0 && head.bodyLength > head.contentLength) return this.malformed(s, st);
      if (head.bodyLength > this.ctx.config.maxValueSize && !head.discardBody) {
        st.head = null;
        st.refused = true;
        head.release();
        st.resetAfterSend = !ended;
        this.reply(s, st, head, HttpError.PAYLOAD_TOO_LARGE);
        return;
      }
      if (!head.discardBody) {
        // An upload the responder reserved store memory for goes straight into it, as on HTTP/1.1.
        if (head.sink !== null) head.sink.write(chunk, head.bodyLength - n);
        else head.body.push(transient ? Buffer.from(chunk) : chunk);
      }
    }
    if (!ended) return;
    if (head.contentLength >= 0 && head.bodyLength !== head.contentLength) return this.malformed(s, st);
    st.head = null;
    this.reply(s, st, head, 0);
  }

  ended(s: Session, st: H2Stream, fields: FieldList): void {
    if (!trailersOk(fields)) return this.malformed(s, st);
    this.data(s, st, EMPTY, false, true);
  }

  /** A DATA length that disagrees with Content-Length (§8.1.1): the stream is reset. */
  private malformed(s: Session, st: H2Stream): void {
    this.aborted(st);
    s.resetStream(st.id, E_PROTOCOL);
  }

  aborted(st: H2Stream): void {
    const head = st.head;
    if (head === null) return;
    st.head = null;
    // A stream reset mid-body: free the upload's reservation (the old value stays as it was).
    head.release();
  }

  closed(s: Session): void {
    this.sessions.delete(s);
  }

  log(e: unknown): void {
    this.ctx.log(e);
  }

  /** Answers through the responder (`code`: an HttpError to answer instead) and sends it. */
  private reply(s: Session, st: H2Stream, head: RequestHead, code: number): void {
    const a = this.answer;
    const fields = replyInto(this.ctx, a, head, code);
    // Pinned store values stay valid until the socket has written them or is gone.
    const done = a.takeDone();
    try {
      if (!s.alive || s.streams.get(st.id) !== st) {
        if (done !== null) s.out.onWritten(done);
      } else if (fields === null) {
        if (done !== null) s.out.onWritten(done);
        s.resetStream(st.id, E_INTERNAL);
      } else if (a.bodyCount === 0) {
        if (done !== null) s.out.onWritten(done);
        s.respond(st, fields, false);
      } else {
        st.queue(a.body, a.bodyCount, a.bodyBytes, done);
        s.respond(st, fields, true);
      }
    } finally {
      a.clear();
    }
  }
}

/** The thread's HTTP/2 takeover on our own framing layer (the default). */
export function createLeanH2Takeover(ctx: TakeoverContext): ProtocolTakeover {
  return new LeanH2(ctx);
}
