import type { Socket } from 'node:net';
import type { ParserEngine } from '../parser/engine.js';
import type { Connection } from './connection.js';
import type { Responder } from './responder.js';

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
