import * as F from './frames.js';
import { ConnectionError, MAX_BLOCK, MAX_FRAGMENTS } from './limits.js';

/**
 * A header block on its way in: the HEADERS frame that opened it (its stream and flags) and, when
 * it did not end the block, the fragments of the CONTINUATION frames that follow. Only one can be
 * open per connection (RFC 9113 §6.10: nothing else may come between), and its size and its
 * number of pieces are bounded, so a CONTINUATION flood ends the connection.
 */
export class HeaderBlock {
  /** The stream the open block belongs to; 0 when none is open. */
  stream = 0;
  /** The HEADERS frame's flags (END_STREAM matters once the block is complete). */
  flags = 0;
  /** Where the fragment of the last `open` starts in its frame. */
  fragmentStart = 0;
  private parts: Buffer[] = [];
  private bytes = 0;

  /**
   * A HEADERS payload b[at, at + len): strips its padding and priority fields, opens the block
   * for stream `id`, and returns where the fragment ends (it starts at `fragmentStart`).
   */
  open(b: Buffer, at: number, len: number, flags: number, id: number): number {
    if (id === 0 || (id & 1) === 0) throw new ConnectionError(F.E_PROTOCOL);
    let end = at + len;
    if (flags & F.F_PADDED) {
      if (len < 1) throw new ConnectionError(F.E_FRAME_SIZE);
      const pad = b[at]!;
      at++;
      if (pad > end - at) throw new ConnectionError(F.E_PROTOCOL);
      end -= pad;
    }
    if (flags & F.F_PRIORITY) {
      if (end - at < 5) throw new ConnectionError(F.E_FRAME_SIZE);
      at += 5;
    }
    this.stream = id;
    this.flags = flags;
    this.fragmentStart = at;
    return end;
  }

  /** Keeps a fragment (copied: the read buffer is reused) until the block ends. */
  add(b: Buffer, start: number, end: number): void {
    this.bytes += end - start;
    if (this.bytes > MAX_BLOCK || this.parts.length >= MAX_FRAGMENTS) {
      throw new ConnectionError(F.E_ENHANCE_YOUR_CALM);
    }
    this.parts.push(Buffer.from(b.subarray(start, end)));
  }

  /** The kept fragments as one buffer; the block's pieces are dropped. */
  take(): Buffer {
    const all = Buffer.concat(this.parts);
    this.parts = [];
    this.bytes = 0;
    return all;
  }
}
