import * as F from './frames.js';
import { ConnectionError, SESSION_WINDOW, STREAM_WINDOW } from './limits.js';
import type { H2Stream } from './stream.js';

/**
 * Flow control of one connection, both ways (RFC 9113 §5.2, §6.9), and the peer's settings that
 * shape what we send. Receiving: our windows are wide (STREAM_WINDOW, SESSION_WINDOW) and are
 * topped up once half of one was used, so an upload never waits on a round trip. Sending: DATA
 * never exceeds the stream's or the connection's window the peer gave (send.ts).
 */
export class Flow {
  peerMaxFrame = F.DEFAULT_MAX_FRAME;
  peerInitialWindow = F.DEFAULT_WINDOW;
  connSendWindow = F.DEFAULT_WINDOW;
  private connRecvWindow = SESSION_WINDOW;
  private connRecvUnacked = 0;

  /**
   * `len` DATA bytes arrived (padding included, whatever the stream's state). Returns the
   * connection WINDOW_UPDATE to send now (0: none yet); past the window: FLOW_CONTROL_ERROR.
   */
  connReceived(len: number): number {
    this.connRecvWindow -= len;
    if (this.connRecvWindow < 0) throw new ConnectionError(F.E_FLOW_CONTROL);
    this.connRecvUnacked += len;
    if (this.connRecvUnacked < SESSION_WINDOW / 2) return 0;
    const inc = this.connRecvUnacked;
    this.connRecvWindow += inc;
    this.connRecvUnacked = 0;
    return inc;
  }

  /**
   * `len` DATA bytes arrived on `st`. Returns the stream WINDOW_UPDATE to send now (0: none;
   * none once the body ended), or -1 when the peer sent past the stream's window.
   */
  streamReceived(st: H2Stream, len: number, ended: boolean): number {
    st.recvWindow -= len;
    if (st.recvWindow < 0) return -1;
    if (ended) return 0;
    st.recvUnacked += len;
    if (st.recvUnacked < STREAM_WINDOW / 2) return 0;
    const inc = st.recvUnacked;
    st.recvWindow += inc;
    st.recvUnacked = 0;
    return inc;
  }

  /** One SETTINGS entry from the peer; a value out of its range is a connection error. */
  setting(key: number, v: number, streams: Iterable<H2Stream>): void {
    switch (key) {
      case F.S_ENABLE_PUSH:
        if (v > 1) throw new ConnectionError(F.E_PROTOCOL);
        break;
      case F.S_INITIAL_WINDOW_SIZE: {
        if (v > F.MAX_WINDOW) throw new ConnectionError(F.E_FLOW_CONTROL);
        // Applies to open streams too, by the difference (a window may go below zero, §6.9.2).
        const delta = v - this.peerInitialWindow;
        this.peerInitialWindow = v;
        for (const st of streams) {
          st.sendWindow += delta;
          if (st.sendWindow > F.MAX_WINDOW) throw new ConnectionError(F.E_FLOW_CONTROL);
        }
        break;
      }
      case F.S_MAX_FRAME_SIZE:
        if (v < F.DEFAULT_MAX_FRAME || v > F.MAX_FRAME_LIMIT) throw new ConnectionError(F.E_PROTOCOL);
        this.peerMaxFrame = v;
        break;
      default:
      // The encoder keeps no dynamic table and we never push: the rest changes nothing here.
    }
  }

  /** WINDOW_UPDATE on the connection. */
  connUpdate(inc: number): void {
    if (inc === 0) throw new ConnectionError(F.E_PROTOCOL);
    this.connSendWindow += inc;
    if (this.connSendWindow > F.MAX_WINDOW) throw new ConnectionError(F.E_FLOW_CONTROL);
  }

  /** WINDOW_UPDATE on `st`: 0, or the code of the stream error it is. */
  streamUpdate(st: H2Stream, inc: number): number {
    if (inc === 0) return F.E_PROTOCOL;
    st.sendWindow += inc;
    if (st.sendWindow > F.MAX_WINDOW) return F.E_FLOW_CONTROL;
    return 0;
  }
}
