import type { Reservation } from '../store/api.js';

/**
 * Where a fill's body lands as it arrives, readable by waiters on every thread: a store
 * Reservation (the value's future place in the store, inside --memory; other threads reopen it by
 * id), or, for a body that will not be stored (no-store/private), memory of its own shared with
 * the other threads.
 */
export interface BodyMemory {
  readonly length: number;
  write(chunk: Uint8Array, at: number): void;
  /** Bytes [start, start + length) already written: a view, or a copy. */
  read(start: number, length: number): Uint8Array;
}

export class SharedBody implements BodyMemory {
  readonly bytes: Uint8Array;

  constructor(readonly sab: SharedArrayBuffer) {
    this.bytes = new Uint8Array(sab);
  }

  get length(): number {
    return this.bytes.length;
  }

  write(chunk: Uint8Array, at: number): void {
    this.bytes.set(chunk, at);
  }

  read(start: number, length: number): Uint8Array {
    return this.bytes.subarray(start, start + length);
  }
}

export class ReservedBody implements BodyMemory {
  constructor(readonly res: Reservation) {}

  get length(): number {
    return this.res.length;
  }

  write(chunk: Uint8Array, at: number): void {
    this.res.write(chunk, at);
  }

  read(start: number, length: number): Uint8Array {
    const out = Buffer.allocUnsafe(length);
    if (length !== 0) this.res.readInto(start, length, out, 0);
    return out;
  }
}
