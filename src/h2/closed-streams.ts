import * as F from './frames.js';
import { ConnectionError } from './limits.js';

/**
 * Client stream ids the record covers, below the highest one opened (a power of two). Bounded
 * per connection whatever the client opens or resets: one byte per id, 1 KiB in all.
 */
const SPAN = 1024;

/** Nothing known: never opened (an id skipped, §5.1.1), or still in the session's table. */
const NONE = 0;
/** We reset it (or refused it, or it came after our GOAWAY): frames still in flight are ignored. */
const OURS = 1;
/** The client reset it. */
const THEIRS = 2;
/** Both sides sent END_STREAM. */
const ENDED = 3;

/**
 * How the client's recent streams closed, so that a frame arriving on one gets what RFC 9113
 * §5.1 asks for it. Keyed by id over the last SPAN odd ids (ids only grow, §5.1.1), so the
 * record costs the same for a client that opens and resets streams without end.
 */
export class ClosedStreams {
  private readonly how = new Uint8Array(SPAN);
  /** Highest id opened (-1 before the first, 1): the record covers (top - 2 * SPAN, top]. */
  private top = -1;

  /** Stream `id`, above every id before it, was opened (the ids skipped are forgotten). */
  opened(id: number): void {
    const skipped = (id - this.top) >>> 1;
    if (skipped >= SPAN) this.how.fill(NONE);
    else for (let i = this.top + 2; i <= id; i += 2) this.how[(i >>> 1) & (SPAN - 1)] = NONE;
    this.top = id;
  }

  /** We sent RST_STREAM on `id` (or decline it unanswered). */
  reset(id: number): void {
    this.mark(id, OURS);
  }

  /** The client sent RST_STREAM on `id` while it was open. */
  peerReset(id: number): void {
    this.mark(id, THEIRS);
  }

  /** Both sides ended `id` with END_STREAM. */
  ended(id: number): void {
    this.mark(id, ENDED);
  }

  /**
   * DATA (`headers` false) or a whole header block (decoded already) on `id`, at most the highest
   * id opened and not in the session's table. Returns true when it is answered with
   * RST_STREAM(STREAM_CLOSED), false when it is ignored; throws the connection error otherwise.
   */
  judge(id: number, headers: boolean): boolean {
    // Even ids would be ours to open, and we open none: the stream is idle (§5.1).
    if ((id & 1) === 0) throw new ConnectionError(F.E_PROTOCOL);
    switch (this.state(id)) {
      case OURS:
        // §5.1: the client may have sent these before it saw our RST_STREAM.
        return false;
      case THEIRS:
        // §5.1: a frame after the peer's RST_STREAM is a stream error STREAM_CLOSED.
        return true;
      case NONE:
        // A header block on a stream never opened asks to open an id below one used (§5.1.1).
        if (headers) throw new ConnectionError(F.E_PROTOCOL);
        throw new ConnectionError(F.E_STREAM_CLOSED);
      default:
        // §5.1: a frame after END_STREAM was received is a connection error STREAM_CLOSED.
        throw new ConnectionError(F.E_STREAM_CLOSED);
    }
  }

  private state(id: number): number {
    // Past the record it is taken as ended normally: it may be one we reset long ago whose
    // frames are this late, but a connection error is what the RFC allows for any frame on a
    // closed stream (§5.1), and a bounded record cannot tell.
    if (this.top - id >= 2 * SPAN) return ENDED;
    return this.how[(id >>> 1) & (SPAN - 1)]!;
  }

  private mark(id: number, how: number): void {
    // Ids outside the record (a stream opened long ago, or one never opened) keep no mark: its
    // slot belongs to another id.
    if (id > this.top || this.top - id >= 2 * SPAN || (id & 1) === 0) return;
    this.how[(id >>> 1) & (SPAN - 1)] = how;
  }
}
