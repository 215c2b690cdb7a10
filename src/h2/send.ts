import { encodeField, encodeStatus, fieldBound } from './hpack.js';
import * as F from './frames.js';
import type { FrameOut } from './frames.js';
import type { H2Stream } from './stream.js';
import type { Flow } from './flow.js';

/**
 * Writes an answer's header block (`fields`: `:status`, its number, then name, value pairs) as a
 * HEADERS frame, split over CONTINUATION frames should it exceed the peer's frame size.
 */
export function sendHeaders(
  out: FrameOut,
  id: number,
  fields: readonly (string | number)[],
  endStream: boolean,
  maxFrame: number,
): void {
  let bound = 8;
  for (let i = 2; i < fields.length; i += 2)
    bound += fieldBound(fields[i] as string, fields[i + 1] as string);
  const flags = endStream ? F.F_END_STREAM : 0;
  if (bound <= maxFrame) {
    // One room for header and block: the length is filled in where the header was put.
    const b = out.room(F.FRAME_HEADER + bound);
    out.header(0, F.T_HEADERS, flags | F.F_END_HEADERS, id);
    const start = out.pos - F.FRAME_HEADER;
    const end = encodeBlock(b, out.pos, fields);
    out.patchLength(start, end - out.pos);
    out.pos = end;
    return;
  }
  const tmp = Buffer.allocUnsafe(bound);
  const len = encodeBlock(tmp, 0, fields);
  let at = 0;
  let type = F.T_HEADERS;
  while (at < len || type === F.T_HEADERS) {
    const n = Math.min(maxFrame, len - at);
    const last = at + n === len;
    out.header(n, type, (type === F.T_HEADERS ? flags : 0) | (last ? F.F_END_HEADERS : 0), id);
    const b = out.room(n);
    tmp.copy(b, out.pos, at, at + n);
    out.pos += n;
    at += n;
    type = F.T_CONTINUATION;
  }
}

/**
 * Encodes `fields` at `at` in `dst` (room checked by the caller); returns the end. Values the
 * answer head turned into strings are latin1: one octet per char.
 */
function encodeBlock(dst: Buffer, at: number, fields: readonly (string | number)[]): number {
  at = encodeStatus(dst, at, fields[1] as number);
  for (let i = 2; i < fields.length; i += 2) {
    at = encodeField(dst, at, fields[i] as string, String(fields[i + 1]));
  }
  return at;
}

/**
 * Frames as much of `st`'s answer body as the stream's and the connection's send windows and
 * the peer's frame size allow, up to about `budget` bytes (a client's huge window does not put a
 * whole value on the socket at once); returns true once all of it went out (END_STREAM set).
 */
export function sendData(out: FrameOut, s: Flow, st: H2Stream, budget: number): boolean {
  while (st.left > 0) {
    const seg = st.body[st.at]!;
    const n = Math.min(seg.length - st.off, st.sendWindow, s.connSendWindow, s.peerMaxFrame);
    if (n <= 0 || budget <= 0) return false;
    budget -= n;
    st.left -= n;
    out.header(n, F.T_DATA, st.left === 0 ? F.F_END_STREAM : 0, st.id);
    out.payload(st.off === 0 && n === seg.length ? seg : seg.subarray(st.off, st.off + n));
    st.off += n;
    if (st.off === seg.length) {
      st.body[st.at] = EMPTY;
      st.at++;
      st.off = 0;
    }
    st.sendWindow -= n;
    s.connSendWindow -= n;
  }
  return true;
}

const EMPTY = Buffer.alloc(0);
