/** The HTTP/2 client connection preface (RFC 9113 §3.4): HTTP/2 with prior knowledge. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Looks for the HTTP/2 preface at the start of a connection, over as many reads as it takes; one
 * per connection until it decided (the connection then drops it).
 */
export class PrefaceSniff {
  /** Bytes of the preface matched so far. */
  private at = 0;
  /** The whole preface arrived: what was read so far, copied, for the HTTP/2 server. */
  bytes: Buffer | null = null;

  /**
   * Returns null when the chunk was taken (a part of the preface, held back, or the whole of it:
   * `bytes` is then set), else what the HTTP/1.1 parser reads: the chunk, behind the preface
   * bytes held back before it turned out not to be one.
   */
  feed(chunk: Buffer): Buffer | null {
    const at = this.at;
    const n = Math.min(chunk.length, PREFACE.length - at);
    for (let i = 0; i < n; i++) {
      if (chunk[i] !== PREFACE[at + i]) {
        return at === 0 ? chunk : Buffer.concat([PREFACE.subarray(0, at), chunk]);
      }
    }
    this.at = at + n;
    if (this.at < PREFACE.length) return null;
    // Copied: the chunk may be the thread's read buffer, which the next read overwrites.
    const bytes = Buffer.allocUnsafe(at + chunk.length);
    PREFACE.copy(bytes, 0, 0, at);
    chunk.copy(bytes, at);
    this.bytes = bytes;
    return null;
  }
}
