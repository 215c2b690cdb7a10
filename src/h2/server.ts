import http2, {
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import { MAX_HEAD_BYTES } from '../parser/parser.js';
import { RequestHead } from '../parser/request.js';
import type { ProtocolTakeover, TakeoverContext } from '../http/api.js';
import { HttpError } from '../base/errors.js';
import { C_IDLE_CLOSED } from '../http/metrics.js';
import type { Responder } from '../http/responder.js';
import { Answer } from './answer.js';
import { replyInto } from './reply.js';
import { fillHead } from './request.js';

/**
 * Streams a client may have open on one connection. Bounded so that one connection cannot make
 * the thread hold an unbounded number of requests; nghttp2 refuses streams over it, and it
 * (1.57 and later, in every Node this runs on) also limits how fast a client may open and reset
 * streams (the "rapid reset" flood) by closing that connection.
 */
export const MAX_CONCURRENT_STREAMS = 128;
/** Per-stream receive window: a large PUT is not held to 64 KiB per round trip. */
const STREAM_WINDOW = 4 * 1024 * 1024;
/** Connection receive window (shared by its streams). */
const SESSION_WINDOW = 32 * 1024 * 1024;
const END_STREAM = http2.constants.NGHTTP2_FLAG_END_STREAM;
const NO_ERROR = http2.constants.NGHTTP2_NO_ERROR;

const ignore = (): void => {};
const resume = (socket: Socket): void => {
  if (!socket.destroyed) socket.resume();
};

const END = { endStream: true };
const MORE = { endStream: false };

/**
 * Whether stream.respond takes a flat [name, value, ...] list (Node 24 does; it skips building
 * and copying a header object). Found out on the first answer: an older Node rejects the list
 * before it changed anything, and gets an object from then on.
 */
let rawHeaders = true;

function respond(stream: ServerHttp2Stream, fields: (string | number)[], options: typeof END): void {
  if (rawHeaders) {
    try {
      // The typings do not know the list form yet.
      stream.respond(fields as unknown as OutgoingHttpHeaders, options);
      return;
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'ERR_INVALID_ARG_TYPE') throw e;
      rawHeaders = false;
    }
  }
  const headers: OutgoingHttpHeaders = {};
  for (let i = 0; i < fields.length; i += 2) headers[fields[i] as string] = fields[i + 1];
  stream.respond(headers, options);
}

/**
 * The thread's HTTP/2 side: one node:http2 server that never listens. Connections that opened
 * with the HTTP/2 preface are handed to it by the HTTP/1.1 connection that read the preface
 * (the bytes read so far are given back first), and every request on them is answered by the
 * thread's Responder, the same code that answers HTTP/1.1, through the core 'stream' API.
 */
class H2Server implements ProtocolTakeover {
  private readonly server: Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly responder: Responder;
  private readonly answer = new Answer();
  /** For requests without a body: answered within the event that brought them. */
  private readonly head = new RequestHead();
  private closing = false;

  constructor(private readonly ctx: TakeoverContext) {
    this.responder = ctx.responder;
    const { config } = ctx;
    this.server = http2.createServer({
      settings: {
        maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
        initialWindowSize: STREAM_WINDOW,
        // The exact limit (the HTTP/1.1 one, counted the HTTP/1.1 way) is checked per request,
        // which answers 431; nghttp2's cap only stops what is far past it.
        maxHeaderListSize: 4 * MAX_HEAD_BYTES,
        enablePush: false,
      },
      // Memory nghttp2 may hold for one connection, outgoing data included (MB): room for a
      // couple of values of the largest size on top of the default.
      maxSessionMemory: 10 + Math.ceil((2 * config.maxValueSize) / (1024 * 1024)),
    });
    this.server.on('session', this.onSession);
    this.server.on('stream', this.onStream);
  }

  adopt(socket: Socket, bytes: Buffer): void {
    // The session feeds itself what is buffered on the socket one tick after it took the handle
    // over; reads that land before then would reach nghttp2 ahead of the preface. So the handle
    // stops reading until the given-back bytes went in.
    socket.pause();
    socket.unshift(bytes);
    this.server.emit('connection', socket);
    process.nextTick(resume, socket);
  }

  shutdown(): void {
    this.closing = true;
    // GOAWAY: streams already opened finish; the client opens new ones on a new connection.
    for (const s of this.sessions) s.close();
  }

  private readonly onSession = (session: ServerHttp2Session): void => {
    this.sessions.add(session);
    session.on('close', () => this.sessions.delete(session));
    session.on('error', ignore);
    try {
      session.setLocalWindowSize(SESSION_WINDOW);
    } catch {
      // The session is already going away; nothing to widen.
    }
    session.setTimeout(this.ctx.config.idleTimeoutMs, () => {
      // Nothing read or written for --idle-timeout, open streams or not (a stalled body).
      this.responder.metrics.add(C_IDLE_CLOSED, 1);
      session.destroy();
    });
    if (this.closing) session.close();
  };

  private readonly onStream = (
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    flags: number,
  ): void => {
    stream.on('error', ignore);
    const ended = (flags & END_STREAM) !== 0;
    const head = ended ? this.head : new RequestHead();
    let code = fillHead(head, headers, !ended);
    if (code === 0) code = this.responder.onHead(head);
    if (code !== 0) {
      // Refused before the body (a limit, or a declared length over --max-value-size): the
      // answer, then RST_STREAM(NO_ERROR) so the client stops sending it.
      this.reply(stream, head, code);
      if (!ended) stream.close(NO_ERROR);
      return;
    }
    if (ended) {
      this.reply(stream, head, 0);
      return;
    }
    this.readBody(stream, head);
  };

  private readBody(stream: ServerHttp2Stream, head: RequestHead): void {
    const max = this.ctx.config.maxValueSize;
    let refused = false;
    let answered = false;
    stream.on('data', (chunk: Buffer) => {
      if (refused) return;
      head.bodyLength += chunk.length;
      if (head.bodyLength > max && !head.discardBody) {
        refused = true;
        head.release();
        this.reply(stream, head, HttpError.PAYLOAD_TOO_LARGE);
        stream.close(NO_ERROR);
        return;
      }
      if (head.discardBody) return;
      // An upload the responder reserved store memory for goes straight into it, as on HTTP/1.1.
      if (head.sink !== null) head.sink.write(chunk, head.bodyLength - chunk.length);
      else head.body.push(chunk);
    });
    stream.on('end', () => {
      if (refused) return;
      answered = true;
      this.reply(stream, head, 0);
    });
    // A stream reset mid-body: free the upload's reservation (the old value stays as it was).
    stream.on('close', () => {
      if (!refused && !answered) head.release();
    });
  }

  /** Answers through the responder (`code`: an HttpError to answer instead) and sends it. */
  private reply(stream: ServerHttp2Stream, head: RequestHead, code: number): void {
    const a = this.answer;
    const fields = replyInto(this.ctx, a, head, code);
    // Pinned store values stay valid until the stream has written them or is gone.
    const done = a.takeDone();
    let pinsKept = false;
    try {
      if (stream.destroyed || stream.closed) return;
      if (fields === null) {
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      } else if (a.bodyCount === 0) {
        respond(stream, fields, END);
      } else {
        respond(stream, fields, MORE);
        if (done !== null) {
          const release = releaseOnce(done);
          stream.once('close', release);
          pinsKept = true;
        }
        if (a.bodyCount === 1) {
          stream.end(a.body[0]);
        } else {
          for (let i = 0; i < a.bodyCount; i++) stream.write(a.body[i]);
          stream.end();
        }
      }
    } finally {
      a.clear();
      if (done !== null && !pinsKept) done();
    }
  }
}

/** `fn` at most once, however many events call it. */
function releaseOnce(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}

/** The thread's HTTP/2 takeover on node:http2 (STRIPECACHE_H2=node; see takeover.ts). */
export function createNodeH2Takeover(ctx: TakeoverContext): ProtocolTakeover {
  return new H2Server(ctx);
}
