/** The limits one HTTP/2 connection runs under, and the error that ends it. */

/**
 * Streams a client may have open on one connection (SETTINGS_MAX_CONCURRENT_STREAMS): one
 * connection cannot make the thread hold an unbounded number of requests.
 */
export const MAX_CONCURRENT_STREAMS = 128;
/** Per-stream receive window we announce: a large PUT is not held to 64 KiB per round trip. */
export const STREAM_WINDOW = 4 * 1024 * 1024;
/** Connection receive window (shared by its streams). */
export const SESSION_WINDOW = 32 * 1024 * 1024;
/**
 * Resets (RST_STREAM received, streams refused) a client may cause: a burst, refilled at a rate
 * per second. Past it the connection is a rapid-reset flood: GOAWAY(ENHANCE_YOUR_CALM).
 */
export const RESET_BURST = 1000;
export const RESET_RATE = 33;
/** Compressed bytes one header block may take (HEADERS plus CONTINUATION). */
export const MAX_BLOCK = 256 * 1024;
/** Frames one header block may come in. */
export const MAX_FRAGMENTS = 64;
/** Bytes queued on the socket past which no more DATA is framed until it drains. */
export const OUT_HIGH = 4 * 1024 * 1024;

/**
 * A connection error (RFC 9113 §5.4.1): GOAWAY with `h2code`, then the connection ends. Thrown
 * inside the frame parser and caught by it; it never leaves the session.
 */
export class ConnectionError extends Error {
  readonly code = 'H2_CONNECTION_ERROR';
  constructor(readonly h2code: number) {
    super(`HTTP/2 connection error ${h2code}`);
  }
}

/**
 * The resets a connection may still cause: a token bucket (RESET_BURST, refilled RESET_RATE a
 * second). `spend` returns false once it ran dry: the client floods.
 */
export class ResetBudget {
  private tokens = RESET_BURST;
  private stamp = Date.now();

  spend(): boolean {
    const now = Date.now();
    const refill = Math.floor(((now - this.stamp) * RESET_RATE) / 1000);
    if (refill >= 1) {
      this.tokens = Math.min(RESET_BURST, this.tokens + refill);
      this.stamp = now;
    }
    return --this.tokens >= 0;
  }
}
