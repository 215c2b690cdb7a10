import type { Prng } from './prng.js';
import type { StoreModel } from './model.js';

/**
 * Requests the property tests send, as operations (what they mean to the model) and as the
 * bytes that say it on the wire, each drawn from a seeded Prng. Valid ones cover the routes of
 * docs/http-api.md: PUT/POST with Content-Length or chunked bodies, ?ttl, Content-Type and
 * Expect: 100-continue; GET/HEAD with Range and If-None-Match; DELETE; keys with %XX, `/` and any
 * byte; HTTP/1.0 and 1.1, keep-alive and Connection: close. Refused ones are kept-alive refusals
 * (bad percent-encoding, empty or over-long keys, bad ttl, unknown paths, wrong methods) and
 * fatal ones that end the connection (CL+TE, bad chunk framing, bad versions, missing or double
 * Host, bad Content-Length, bare LF, garbage).
 */

export type Op =
  | {
      t: 'put';
      method: 'PUT' | 'POST';
      key: Buffer;
      body: Buffer;
      contentType: string | null;
      ttl: number | null;
      chunked: boolean;
      expect100: boolean;
    }
  | { t: 'get'; key: Buffer; head: boolean; range: string | null; inm: string | null }
  | { t: 'del'; key: Buffer }
  | { t: 'root'; head: boolean }
  | { t: 'healthz' }
  /** Answered with `status` (and `allow` for a 405), connection kept, no key changes. */
  | { t: 'refused'; method: string; target: string; status: number; allow: string | null; body: Buffer }
  /** Bytes the server must refuse with one of `statuses`, then close. */
  | { t: 'fatal'; bytes: Buffer; statuses: number[]; why: string };

export interface WireRequest {
  op: Op;
  bytes: Buffer;
  /** HTTP/1.x minor version. */
  minor: 0 | 1;
  /** The server is to close after answering this one. */
  closes: boolean;
  /** 1.0 with Connection: keep-alive (the answer says keep-alive). */
  keepAlive10: boolean;
}

const SAFE = new Set(
  Buffer.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/!$'()*+,;=:@", 'latin1'),
);
const HEX = '0123456789abcdef';

function pct(rng: Prng, b: number): string {
  const h = `${HEX[b >> 4]}${HEX[b & 15]}`;
  return `%${rng.chance(0.5) ? h.toUpperCase() : h}`;
}

/** Percent-encodes a key, sometimes escaping bytes that need no escape (they decode the same). */
export function encodeKey(rng: Prng, key: Uint8Array): string {
  let s = '';
  for (const b of key) s += SAFE.has(b) && !rng.chance(0.15) ? String.fromCharCode(b) : pct(rng, b);
  return s;
}

/** A pool of keys: short ASCII, hierarchical, binary, and one of the longest length allowed. */
export function keyPool(rng: Prng, prefix: string, n: number): Buffer[] {
  const keys: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 6;
    let k: Buffer;
    if (kind === 0) k = Buffer.from(`${prefix}k${i}`);
    else if (kind === 1) k = Buffer.from(`${prefix}videos/${i}/chunk-${rng.range(0, 9999)}`);
    else if (kind === 2) k = Buffer.concat([Buffer.from(prefix), Buffer.from(rng.bytes(rng.range(1, 24)))]);
    else if (kind === 3) k = Buffer.from(`${prefix}${i}/%?#& /`);
    else if (kind === 4)
      k = Buffer.concat([Buffer.from(prefix), Buffer.from([0, 0xff, 0x2f, 0x25, i & 255])]);
    else k = Buffer.from(`${prefix}${i}`.padEnd(rng.chance(0.3) ? 1024 : rng.range(8, 200), 'x'));
    keys.push(k);
  }
  return keys;
}

const TYPES = ['text/plain', 'application/json', 'text/plain; charset=utf-8', 'image/png', 'x-a/b+c'];
const EXTRA_HEADERS = [
  'User-Agent: prop/1',
  'Accept: */*',
  'X-Trace: 1',
  'accept-encoding: identity',
  'X-Tab:\tv  \t',
  'X-Empty:',
  'X-Obs-Text: caf\xe9',
];

function body(rng: Prng): Buffer {
  const r = rng.int(100);
  // Past 64 KiB a GET body is a segment of its own in the output (not copied behind the head).
  const n =
    r < 15
      ? 0
      : r < 70
        ? rng.range(1, 64)
        : r < 95
          ? rng.range(65, 5000)
          : r < 99
            ? rng.range(5001, 70000)
            : rng.range(70001, 1_000_000);
  return Buffer.from(rng.bytes(n));
}

function randomHex16(rng: Prng): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += HEX[rng.int(16)];
  return s;
}

function rangeHeader(rng: Prng, len: number): string {
  const n = () => rng.range(0, len + 4);
  switch (rng.int(9)) {
    case 0:
    case 1: {
      const a = n();
      return `bytes=${a}-${a + rng.range(0, len + 2)}`;
    }
    case 2:
      return `bytes=${n()}-`;
    case 3:
      return `bytes=-${n()}`;
    case 4:
      return `BYTES=${n()}-${n()}`;
    case 5:
      return 'bytes=0-1,3-4';
    case 6:
      return `bytes=${n() + 2}-1`;
    case 7:
      return rng.pick(['bytes=x-1', 'items=0-1', 'bytes=-', 'bytes=', 'bytes=1-2-3']);
    default:
      return `bytes=0-${len}`;
  }
}

function inmHeader(rng: Prng, model: StoreModel, key: Buffer): string {
  const known = model.get(key)?.etag ?? `"${randomHex16(rng)}"`;
  switch (rng.int(6)) {
    case 0:
      return known;
    case 1:
      return `W/${known}`;
    case 2:
      return `"${randomHex16(rng)}", ${known}`;
    case 3:
      return '*';
    case 4: {
      // Longer than the parsed list the server keeps: scanned in place.
      const many = Array.from({ length: rng.range(8, 12) }, () => `"${randomHex16(rng)}"`);
      many.splice(rng.int(many.length + 1), 0, known);
      return many.join(rng.pick([', ', ',', ' ,\t']));
    }
    default:
      return `"${randomHex16(rng)}"`;
  }
}

/** A valid operation on `keys` (state-aware only for plausible ranges and tags). */
export function validOp(rng: Prng, model: StoreModel, keys: readonly Buffer[]): Op {
  const key = rng.pick(keys);
  const r = rng.int(100);
  if (r < 40) {
    return {
      t: 'put',
      method: rng.chance(0.5) ? 'PUT' : 'POST',
      key,
      body: body(rng),
      contentType: rng.chance(0.3) ? null : rng.pick(TYPES),
      ttl: rng.chance(0.2) ? rng.range(3600, 86400) : null,
      chunked: rng.chance(0.35),
      expect100: rng.chance(0.1),
    };
  }
  if (r < 80) {
    const len = model.get(key)?.bytes.length ?? 10;
    return {
      t: 'get',
      key,
      head: rng.chance(0.2),
      range: rng.chance(0.35) ? rangeHeader(rng, len) : null,
      inm: rng.chance(0.25) ? inmHeader(rng, model, key) : null,
    };
  }
  if (r < 92) return { t: 'del', key };
  if (r < 96) return { t: 'root', head: rng.chance(0.3) };
  return { t: 'healthz' };
}

/** A refusal answered on a kept connection. */
export function refusedOp(rng: Prng, keys: readonly Buffer[]): Op {
  const key = encodeKey(rng, rng.pick(keys));
  const none = Buffer.alloc(0);
  const withBody = rng.chance(0.5) ? Buffer.from(rng.bytes(rng.range(1, 300))) : none;
  switch (rng.int(8)) {
    case 0: {
      const at = rng.int(key.length + 1);
      const bad = rng.pick(['%G1', '%4', '%', '%%', '%zz', '%-1']);
      return {
        t: 'refused',
        method: 'GET',
        target: `/get/${key.slice(0, at)}${bad}`,
        status: 400,
        allow: null,
        body: none,
      };
    }
    case 1:
      return {
        t: 'refused',
        method: 'PUT',
        target: `/store/${'y'.repeat(1025)}`,
        status: 400,
        allow: null,
        body: withBody,
      };
    case 2:
      // Empty key.
      return rng.chance(0.5)
        ? { t: 'refused', method: 'GET', target: '/get/', status: 400, allow: null, body: none }
        : { t: 'refused', method: 'DELETE', target: '/store/', status: 400, allow: null, body: none };
    case 3: {
      const ttl = rng.pick(['0', '-1', 'abc', '', '1.5', '99999999999']);
      return {
        t: 'refused',
        method: 'PUT',
        target: `/store/${key}?ttl=${ttl}`,
        status: 400,
        allow: null,
        body: withBody,
      };
    }
    case 4:
      return {
        t: 'refused',
        method: 'GET',
        target: rng.pick(['/nope', '/gett/x', '/storex', '/healthz/x']),
        status: 404,
        allow: null,
        body: none,
      };
    case 5:
      return {
        t: 'refused',
        method: rng.pick(['PUT', 'POST', 'DELETE']),
        target: `/get/${key}`,
        status: 405,
        allow: 'GET, HEAD',
        body: withBody,
      };
    case 6:
      return {
        t: 'refused',
        method: rng.pick(['GET', 'HEAD', 'PATCH']),
        target: `/store/${key}`,
        status: 405,
        allow: 'POST, PUT, DELETE',
        body: none,
      };
    default:
      return {
        t: 'refused',
        method: 'POST',
        target: rng.pick(['/', '/healthz']),
        status: 405,
        allow: 'GET, HEAD',
        body: withBody,
      };
  }
}

function fatal(bytes: string | Buffer, statuses: number[], why: string): Op {
  return {
    t: 'fatal',
    bytes: typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes,
    statuses,
    why,
  };
}

const NOT_TOKEN_START = Buffer.from('()<>@,;:\\"/[]?={} \t\x00\x01\x7f\x80\xff', 'latin1');

/** A request the server refuses and then closes the connection after. */
export function fatalOp(rng: Prng, keys: readonly Buffer[]): Op {
  const k = encodeKey(rng, rng.pick(keys));
  const h = 'Host: h\r\n';
  switch (rng.int(14)) {
    case 0:
      return fatal(
        `PUT /store/${k} HTTP/1.1\r\n${h}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
        [400],
        'Content-Length with Transfer-Encoding',
      );
    case 1: {
      const bad = rng.pick([
        'zz\r\nabc\r\n0\r\n\r\n',
        '3\r\nabcdef\r\n0\r\n\r\n',
        '3\r\nabc\n0\r\n\r\n',
        '-1\r\nx\r\n',
      ]);
      return fatal(
        `POST /store/${k} HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n${bad}`,
        [400],
        `bad chunk framing ${JSON.stringify(bad)}`,
      );
    }
    case 2: {
      const v = rng.pick(['1.2', '2.0', '0.9', '3.1']);
      return fatal(`GET /get/${k} HTTP/${v}\r\n${h}\r\n`, [505], `version HTTP/${v}`);
    }
    case 3: {
      const line = rng.pick([`GET / HTTX/1.1`, `GET / http/1.1`, `GET / HTTP/11`, `GET / HTTP/1.1 x`]);
      return fatal(`${line}\r\n${h}\r\n`, [400, 505], `bad request line ${line}`);
    }
    case 4:
      return fatal(`GET /get/${k} HTTP/1.1\r\nX-A: b\r\n\r\n`, [400], 'HTTP/1.1 without Host');
    case 5:
      return fatal(`GET / HTTP/1.1\r\n${h}${h}\r\n`, [400], 'two Host fields');
    case 6: {
      const cl = rng.pick([
        'Content-Length: 1x',
        'Content-Length: -1',
        'Content-Length: 1\r\nContent-Length: 2',
      ]);
      return fatal(`PUT /store/${k} HTTP/1.1\r\n${h}${cl}\r\n\r\nab`, [400], `bad Content-Length ${cl}`);
    }
    case 7:
      return fatal(`GET / HTTP/1.1\n${h.replace('\r', '')}\n`, [400], 'bare LF');
    case 8: {
      const bad = rng.pick(['Bad Name: v', 'X-A: a\x00b', 'X(A): v', 'X-A: \x7f']);
      return fatal(`GET / HTTP/1.1\r\n${h}${bad}\r\n\r\n`, [400], `invalid header ${JSON.stringify(bad)}`);
    }
    case 9: {
      const g = Buffer.concat([
        Buffer.from([rng.pick([...NOT_TOKEN_START])]),
        Buffer.from(rng.bytes(rng.range(0, 40))),
        Buffer.from('\r\n\r\n'),
      ]);
      return fatal(g, [400], `garbage ${g.toString('hex')}`);
    }
    case 10:
      return fatal(
        `PUT /store/${k} HTTP/1.1\r\n${h}Transfer-Encoding: ${rng.pick(['gzip', 'gzip, chunked', 'identity'])}\r\n\r\n`,
        [501],
        'unsupported Transfer-Encoding',
      );
    case 11: {
      const target = rng.pick([`/get/${k}`, `/store/%zz`, `/nope`]);
      const status = target.startsWith('/get/') ? 405 : target === '/nope' ? 404 : 400;
      return fatal(
        `PUT ${target} HTTP/1.1\r\n${h}Expect: 100-continue\r\nContent-Length: 10\r\n\r\n0123456789`,
        [status],
        'a refused request with Expect: 100-continue (body left unread)',
      );
    }
    case 12:
      return fatal(
        `PUT /store/${k} HTTP/1.1\r\n${h}Content-Length: 99999999999\r\n\r\n`,
        [413],
        'declared length over --max-value-size',
      );
    default:
      return rng.chance(0.5)
        ? fatal(`GET /get/${'a'.repeat(9000)} HTTP/1.1\r\n${h}\r\n`, [414], 'request target over 8 KiB')
        : fatal(
            `GET / HTTP/1.1\r\n${h}X-Big: ${'b'.repeat(17000)}\r\n\r\n`,
            [431],
            'header section over 16 KiB',
          );
  }
}

function name(rng: Prng, n: string): string {
  const r = rng.int(4);
  return r === 0 ? n.toLowerCase() : r === 1 ? n.toUpperCase() : n;
}

function chunked(rng: Prng, b: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    const n = Math.min(b.length - i, rng.chance(0.3) ? rng.range(1, 8) : rng.range(1, 20000));
    let size = n.toString(16);
    if (rng.chance(0.3)) size = size.toUpperCase();
    if (rng.chance(0.1)) size = `0${size}`;
    parts.push(
      Buffer.from(`${size}${rng.chance(0.1) ? ';ext=1' : ''}\r\n`),
      b.subarray(i, i + n),
      Buffer.from('\r\n'),
    );
    i += n;
  }
  parts.push(Buffer.from(rng.chance(0.1) ? '0\r\nX-Trailer: t\r\n\r\n' : '0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** `?ttl=N`, sometimes among other parameters (which are ignored). */
function query(rng: Prng, ttl: number): string {
  switch (rng.int(4)) {
    case 0:
      return `?v=2&ttl=${ttl}`;
    case 1:
      return `?ttl=${ttl}&x`;
    default:
      return `?ttl=${ttl}`;
  }
}

/** Method and target of a non-fatal op. */
export function line(rng: Prng, op: Exclude<Op, { t: 'fatal' }>): [string, string] {
  switch (op.t) {
    case 'put':
      return [op.method, `/store/${encodeKey(rng, op.key)}${op.ttl === null ? '' : query(rng, op.ttl)}`];
    case 'get':
      return [op.head ? 'HEAD' : 'GET', `/get/${encodeKey(rng, op.key)}`];
    case 'del':
      return ['DELETE', `/store/${encodeKey(rng, op.key)}`];
    case 'root':
      return [op.head ? 'HEAD' : 'GET', '/'];
    case 'healthz':
      return ['GET', '/healthz'];
    case 'refused':
      return [op.method, op.target];
  }
}

/**
 * The op as bytes. `allowClose`: the request may ask to close (Connection: close, or HTTP/1.0
 * without keep-alive); `mustClose`: it must.
 */
export function toWire(
  rng: Prng,
  op: Op,
  allowClose: boolean,
  mustClose = false,
  http11 = false,
): WireRequest {
  if (op.t === 'fatal') return { op, bytes: op.bytes, minor: 1, closes: true, keepAlive10: false };
  const needs11 = http11 || (op.t === 'put' && (op.chunked || op.expect100));
  const minor: 0 | 1 = !needs11 && rng.chance(0.15) ? 0 : 1;
  const closes = mustClose || (allowClose && rng.chance(minor === 0 ? 0.5 : 0.08));
  const headers: string[] = [];
  if (minor === 1 || rng.chance(0.5)) headers.push(`${name(rng, 'Host')}: stripecache.test`);
  if (closes && (minor === 1 || rng.chance(0.3))) {
    // close wins over keep-alive in a list, in 1.0 too.
    headers.push(
      `${name(rng, 'Connection')}: ${rng.pick(['close', 'Close', 'keep-alive, close', 'x-foo ,\tclose'])}`,
    );
  }
  if (minor === 1 && !closes && rng.chance(0.1)) headers.push(`${name(rng, 'Connection')}: keep-alive`);
  if (minor === 0 && !closes)
    headers.push(`${name(rng, 'Connection')}: ${rng.pick(['keep-alive', 'Keep-Alive'])}`);
  if (rng.chance(0.3)) headers.push(rng.pick(EXTRA_HEADERS));
  let payload: Buffer = Buffer.alloc(0);
  if (op.t === 'put') {
    if (op.contentType !== null) headers.push(`${name(rng, 'Content-Type')}: ${op.contentType}`);
    if (op.expect100) headers.push(`${name(rng, 'Expect')}: 100-continue`);
    if (op.chunked) {
      headers.push(`${name(rng, 'Transfer-Encoding')}: chunked`);
      payload = chunked(rng, op.body);
    } else {
      headers.push(`${name(rng, 'Content-Length')}: ${op.body.length}`);
      payload = op.body;
    }
  } else if (op.t === 'refused' && op.body.length !== 0) {
    headers.push(`Content-Length: ${op.body.length}`);
    payload = op.body;
  } else if (op.t === 'get') {
    if (op.range !== null) headers.push(`${name(rng, 'Range')}: ${op.range}`);
    if (op.inm !== null) headers.push(`${name(rng, 'If-None-Match')}: ${op.inm}`);
  } else if (rng.chance(0.1)) {
    headers.push('Content-Length: 0');
  }
  for (let i = headers.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [headers[i], headers[j]] = [headers[j]!, headers[i]!];
  }
  const [method, path] = line(rng, op);
  const target = !http11 && rng.chance(0.05) ? `http://stripecache.test${path}` : path;
  // RFC 9112 §2.2: a server ignores an empty line before a request line.
  const lead = !http11 && rng.chance(0.03) ? '\r\n' : '';
  const head = `${lead}${method} ${target} HTTP/1.${minor}\r\n${headers.map((x) => `${x}\r\n`).join('')}\r\n`;
  return {
    op,
    bytes: Buffer.concat([Buffer.from(head, 'latin1'), payload]),
    minor,
    closes,
    keepAlive10: minor === 0 && !closes,
  };
}

/** Whether the answer to `w` has no body whatever its Content-Length (a HEAD request). */
export function isHeadRequest(w: WireRequest): boolean {
  const op = w.op;
  return ((op.t === 'get' || op.t === 'root') && op.head) || (op.t === 'refused' && op.method === 'HEAD');
}

/** The same op on another key prefix of the same length (a fresh namespace for a second run). */
export function rekey(op: Op, from: string, to: string): Op {
  const swap = (key: Buffer): Buffer => {
    if (!key.subarray(0, from.length).equals(Buffer.from(from))) return key;
    return Buffer.concat([Buffer.from(to), key.subarray(from.length)]);
  };
  if (op.t === 'put' || op.t === 'get' || op.t === 'del') return { ...op, key: swap(op.key) };
  return op;
}
