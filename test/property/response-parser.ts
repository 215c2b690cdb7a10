/**
 * A strict HTTP/1.1 response parser for the property tests, written apart from the server's code
 * so it can judge it: exact status line, token header names, no bare LF, no obs-fold, one
 * Content-Length on every final answer that may have a body, none on 1xx and 204, no
 * Transfer-Encoding, a valid Date on every final answer, and no body on HEAD, 204 and 304.
 * Anything else is a framing error, reported with the offset where it was found.
 */

export interface ParsedResponse {
  status: number;
  /** Header values by lower-case name, in arrival order. */
  headers: Map<string, string[]>;
  body: Buffer;
  /** Statuses of the 1xx answers that came before this one. */
  interim: number[];
  /** Offset of the status line in the stream (for messages). */
  offset: number;
}

export interface ParseOutcome {
  responses: ParsedResponse[];
  /** Bytes after the last whole response (an incomplete one, or bytes that are no response). */
  rest: Buffer;
  /** Why the stream is not well framed; null when every byte so far was. */
  error: string | null;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// field-value: visible ASCII, SP, HTAB, obs-text; no CR, LF or NUL.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const STATUS_LINE = /^HTTP\/1\.1 ([1-5]\d\d) ([\t\x20-\x7e\x80-\xff]*)$/;
const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;
/** Fields that may appear at most once in one of our answers. */
const SINGLE = ['content-length', 'content-type', 'date', 'etag', 'connection', 'content-range'];

/**
 * Parses every whole response in `data`. `isHead(i)` says whether the i-th final response answers
 * a HEAD request (its Content-Length then describes a body that is not sent).
 */
export function parseResponses(data: Buffer, isHead: (i: number) => boolean): ParseOutcome {
  const responses: ParsedResponse[] = [];
  let pos = 0;
  let interim: number[] = [];
  const fail = (at: number, why: string): ParseOutcome => ({
    responses,
    rest: data.subarray(pos),
    error: `at byte ${at} (response ${responses.length}): ${why}`,
  });
  while (pos < data.length) {
    const start = pos;
    const headEnd = data.indexOf('\r\n\r\n', pos, 'latin1');
    if (headEnd < 0) {
      // Incomplete head: still check what arrived has no bare LF (a framing error cannot wait).
      const lf = bareLf(data, pos, data.length);
      if (lf >= 0) return fail(lf, 'bare LF in a response head');
      break;
    }
    const lf = bareLf(data, pos, headEnd + 4);
    if (lf >= 0) return fail(lf, 'bare LF in a response head');
    const lines = data.toString('latin1', pos, headEnd).split('\r\n');
    const m = STATUS_LINE.exec(lines[0]!);
    if (m === null) return fail(start, `bad status line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
    const status = Number(m[1]);
    const headers = new Map<string, string[]>();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.startsWith(' ') || line.startsWith('\t')) return fail(start, 'obs-fold in a response head');
      const colon = line.indexOf(':');
      if (colon <= 0) return fail(start, `header line without a name: ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon);
      if (!TOKEN.test(name)) return fail(start, `header name is not a token: ${JSON.stringify(name)}`);
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
      if (!FIELD_VALUE.test(value)) return fail(start, `bad byte in the value of ${name}`);
      const key = name.toLowerCase();
      const list = headers.get(key);
      if (list === undefined) headers.set(key, [value]);
      else list.push(value);
    }
    for (const name of SINGLE) {
      if ((headers.get(name)?.length ?? 0) > 1) return fail(start, `${name} appears more than once`);
    }
    if (headers.has('transfer-encoding')) return fail(start, 'Transfer-Encoding in an answer');
    const cl = headers.get('content-length')?.[0];
    pos = headEnd + 4;
    if (status < 200) {
      if (cl !== undefined) return fail(start, `Content-Length on a ${status}`);
      interim.push(status);
      continue;
    }
    const date = headers.get('date')?.[0];
    if (date === undefined) return fail(start, 'no Date');
    if (!IMF_FIXDATE.test(date)) return fail(start, `Date is not an IMF-fixdate: ${date}`);
    let length = 0;
    if (status === 204) {
      if (cl !== undefined) return fail(start, 'Content-Length on a 204');
    } else if (cl === undefined) {
      if (status !== 304) return fail(start, `no Content-Length on a ${status}`);
    } else {
      if (!/^\d{1,15}$/.test(cl)) return fail(start, `bad Content-Length ${JSON.stringify(cl)}`);
      length = Number(cl);
    }
    const bodyLength = status === 204 || status === 304 || isHead(responses.length) ? 0 : length;
    if (data.length - pos < bodyLength) {
      pos = start;
      break;
    }
    const body = data.subarray(pos, pos + bodyLength);
    pos += bodyLength;
    responses.push({ status, headers, body, interim, offset: start });
    interim = [];
  }
  return { responses, rest: data.subarray(pos), error: null };
}

function bareLf(data: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) if (data[i] === 0x0a && (i === 0 || data[i - 1] !== 0x0d)) return i;
  return -1;
}

/** One header value, or undefined. */
export function header(r: ParsedResponse, name: string): string | undefined {
  return r.headers.get(name)?.[0];
}
