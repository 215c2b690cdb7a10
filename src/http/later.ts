import { Conn, type DateLine } from './canned.js';
import type { MissedRequest } from './api.js';
import type { Output } from './output.js';
import type { RangeSpec } from './range.js';
import type { Responder } from './responder.js';
import { HttpError } from '../base/errors.js';
import { Route } from './metrics.js';
import { Yield, type HttpParser } from '../parser/parser.js';

/*
 * An answer that comes in a later turn (a prefix purge, a miss handed to the read-through tier)
 * without breaking pipelining order: the connection stops parsing, and what was pipelined behind
 * the request or arrives meanwhile waits in `parser.pending` until the answer is written. One
 * connection has at most one such answer outstanding. An answer given before `answer` returned
 * (the tier knew it at once) is written like an answer at once.
 */

/** Writes a whole response into `out` and returns its status (for the request metrics). */
export type AnswerWriter = (out: Output, date: DateLine) => number;

/** The connection a later answer belongs to (the Responder's host during `answer`). */
export interface LaterOwner {
  /** `later` is the answer to the request being answered: reading waits for it. */
  waitFor(later: Later): void;
  /** `later`'s answer is ready (called at most once per Later). */
  answered(later: Later, write: AnswerWriter): void;
  /** The work behind the answer made progress (an activity stamp against the idle timeout). */
  progressed(): void;
  log(e: unknown): void;
}

/** `parser.pending` while an answer is awaited and no input followed the request yet. */
const NOTHING_PENDING = new Uint8Array(0);

/** One request whose answer comes later. */
export class Later {
  /** Answered, or the client went away: answering is then a no-op. */
  gone = false;

  constructor(
    private readonly owner: LaterOwner,
    /** The request's route (for the request metrics). */
    readonly route: number,
    /** How the connection goes on after the answer: Close once shutdown began meanwhile. */
    public conn: Conn,
  ) {
    owner.waitFor(this);
  }

  answer(write: AnswerWriter): void {
    if (this.gone) return;
    this.gone = true;
    this.owner.answered(this, write);
  }

  progressed(): void {
    if (!this.gone) this.owner.progressed();
  }

  /** An unexpected error of the work behind the answer, logged even when the client is gone. */
  log(e: unknown): void {
    this.owner.log(e);
  }
}

/** A miss waiting for the read-through tier; see MissedRequest. */
export class LaterMiss extends Later implements MissedRequest {
  constructor(
    owner: LaterOwner,
    conn: Conn,
    readonly key: Uint8Array,
    readonly withBody: boolean,
    readonly range: RangeSpec,
  ) {
    super(owner, Route.Get, conn);
  }
}

/**
 * Stops parsing behind the request just answered later: the parser yields and queues what
 * follows (a placeholder when nothing does yet, so that `feed` queues too).
 */
export function holdInput(parser: HttpParser): number {
  if (parser.pending === null) parser.pending = NOTHING_PENDING;
  return Yield;
}

/** The later answer is out: what was held is parsed again (after the next drain). */
export function releaseInput(parser: HttpParser): void {
  if (parser.pending === NOTHING_PENDING) parser.pending = null;
}

/**
 * Writes `later`'s answer into the responder's batch and counts it; a writer that throws gets
 * a 500 instead, and the connection closes (`later.conn` becomes Close).
 */
export function writeLater(responder: Responder, later: Later, write: AnswerWriter, owner: LaterOwner): void {
  const out = responder.out;
  try {
    const status = write(out, responder.date);
    responder.metrics.request(later.route, status);
  } catch (e) {
    owner.log(e);
    out.rewind();
    responder.error(HttpError.INTERNAL, Conn.Close, true, later.route);
    later.conn = Conn.Close;
  }
}
