import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParserEngine } from '../../dist/parser/engine.js';
import { HttpParser, Next, Stop, type ParserHandler } from '../../dist/parser/parser.js';
import type { RequestHead } from '../../dist/parser/request.js';
import { HttpError } from '../../dist/base/errors.js';

const engine = new ParserEngine(1024 * 1024);

interface Seen {
  requests: string[];
  error: number | null;
}

/** Feeds `chunks` to a fresh parser; records "METHOD url body" per request and the error code. */
function parse(chunks: (string | Buffer)[]): Seen {
  const seen: Seen = { requests: [], error: null };
  const handler: ParserHandler = {
    onHead: () => 0,
    onRequest(head: RequestHead) {
      const url = Buffer.from(head.src.subarray(head.urlStart, head.urlStart + head.urlLen)).toString(
        'latin1',
      );
      const body = Buffer.concat(head.body).toString('latin1');
      seen.requests.push(`${head.method} ${url} ${head.major}.${head.minor} ${body}`);
      return head.keepAlive ? Next : Stop;
    },
    onError(code) {
      seen.error = code;
    },
  };
  const p = new HttpParser(engine, handler);
  for (const c of chunks) {
    if (seen.error !== null) break;
    p.feed(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  }
  p.destroy();
  return seen;
}

const GET = 'GET /get/a HTTP/1.1\r\nHost: x\r\n\r\n';
const CHUNKED =
  'POST /store/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: t\r\n\r\n';
const CL = 'PUT /store/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello';

const ACCEPTED: [string, string, string[]][] = [
  ['simple GET', GET, ['1 /get/a 1.1 ']],
  ['chunked body', CHUNKED, ['3 /store/k 1.1 abcde']],
  ['Content-Length body', CL, ['4 /store/k 1.1 hello']],
  ['HTTP/1.0 without Host', 'GET / HTTP/1.0\r\n\r\n', ['1 / 1.0 ']],
  ['leading empty line', '\r\n' + GET, ['1 /get/a 1.1 ']],
  ['pipelined', GET + CL + CHUNKED, ['1 /get/a 1.1 ', '4 /store/k 1.1 hello', '3 /store/k 1.1 abcde']],
  [
    'nothing after Connection: close',
    'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' + GET,
    ['1 / 1.1 '],
  ],
  ['header value with obs-text', 'GET / HTTP/1.1\r\nHost: x\r\nX: caf\xe9\r\n\r\n', ['1 / 1.1 ']],
];

for (const [name, input, expected] of ACCEPTED) {
  test(`parses: ${name}`, () => {
    const seen = parse([input]);
    assert.equal(seen.error, null);
    assert.deepEqual(seen.requests, expected);
  });
}

const REFUSED: [string, string, number][] = [
  [
    'CL + TE',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    HttpError.CONTENT_LENGTH_CONFLICT,
  ],
  [
    'TE + CL',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n',
    HttpError.CONTENT_LENGTH_CONFLICT,
  ],
  [
    'duplicate Content-Length',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
    HttpError.DUPLICATE_CONTENT_LENGTH,
  ],
  [
    'bad Content-Length',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3x\r\n\r\nabc',
    HttpError.INVALID_CONTENT_LENGTH,
  ],
  ['bare LF in head', 'GET / HTTP/1.1\r\nHost: x\n\r\n', HttpError.BARE_LF],
  ['bare LF after request line', 'GET / HTTP/1.1\nHost: x\r\n\r\n', HttpError.BARE_LF],
  [
    'bare LF in chunk framing',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n',
    HttpError.BARE_LF,
  ],
  ['control byte in a value', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n', HttpError.INVALID_HEADER],
  ['space in a name', 'GET / HTTP/1.1\r\nHost: x\r\nX Y: a\r\n\r\n', HttpError.INVALID_HEADER],
  ['space before colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', HttpError.INVALID_HEADER],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n', HttpError.INVALID_HEADER],
  [
    'bad chunk size',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
    HttpError.BAD_CHUNK,
  ],
  [
    'chunk longer than its size',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n',
    HttpError.MALFORMED,
  ],
  ['HTTP/0.9 request line', 'GET /\r\n\r\n', HttpError.VERSION],
  // An HTTP/0.9 client sends one line and waits: the refusal cannot wait for a blank line.
  ['HTTP/0.9 line alone', 'GET /\r\n', HttpError.VERSION],
  ['HTTP/0.9 line, head to come', 'GET /store/k\r\nHost: x\r\n', HttpError.VERSION],
  [
    'Content-Length in a trailer',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nContent-Length: 5\r\n\r\n',
    HttpError.BAD_TRAILER,
  ],
  [
    'Transfer-Encoding in a trailer',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n',
    HttpError.BAD_TRAILER,
  ],
  ['HTTP/2.0 request line', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', HttpError.VERSION],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: x\r\n\r\n', HttpError.VERSION],
  ['HTTP/3.5', 'GET / HTTP/3.5\r\nHost: x\r\n\r\n', HttpError.VERSION],
  ['missing Host', 'GET / HTTP/1.1\r\n\r\n', HttpError.MISSING_HOST],
  ['two Host fields', 'GET / HTTP/1.1\r\nHost: x\r\nhost: y\r\n\r\n', HttpError.DUPLICATE_HOST],
  ['two Host fields on HTTP/1.0', 'GET / HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n', HttpError.DUPLICATE_HOST],
  [
    'Transfer-Encoding: gzip',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n',
    HttpError.UNSUPPORTED_TE,
  ],
  [
    'Transfer-Encoding: gzip, chunked',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
    HttpError.UNSUPPORTED_TE,
  ],
  ['garbage', 'HELLO\r\n\r\n', HttpError.MALFORMED],
  ['target over 8 KiB', `GET /${'a'.repeat(8200)} HTTP/1.1\r\nHost: x\r\n\r\n`, HttpError.URI_TOO_LONG],
  [
    'head over 16 KiB',
    `GET / HTTP/1.1\r\nHost: x\r\n${'X-A: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(450)}\r\n`,
    HttpError.HEADERS_TOO_LARGE,
  ],
  [
    'body over the limit',
    `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n${'a'.repeat(0x100001)}\r\n0\r\n\r\n`,
    HttpError.PAYLOAD_TOO_LARGE,
  ],
];

for (const [name, input, code] of REFUSED) {
  test(`refuses: ${name}`, () => {
    assert.equal(parse([input]).error, code);
  });
}

test('refusals hold when the input arrives one byte at a time', () => {
  for (const [name, input, code] of REFUSED) {
    if (input.length > 2000) continue;
    const bytes = Buffer.from(input, 'latin1');
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    assert.equal(parse(chunks).error, code, name);
  }
});

test('a request split at every byte offset parses the same', () => {
  const input = Buffer.from(
    GET + CL + CHUNKED + 'GET /get/b?x=1 HTTP/1.1\r\nHost: y\r\nIf-None-Match: "0123456789abcdef"\r\n\r\n',
    'latin1',
  );
  const whole = parse([input]);
  assert.equal(whole.error, null);
  assert.equal(whole.requests.length, 4);
  for (let i = 1; i < input.length; i++) {
    const seen = parse([input.subarray(0, i), input.subarray(i)]);
    assert.equal(seen.error, null, `split at ${i}`);
    assert.deepEqual(seen.requests, whole.requests, `split at ${i}`);
  }
});

test('header values are found when the head arrives in three pieces', () => {
  const input = Buffer.from(
    'GET /get/k HTTP/1.1\r\nHost: x\r\nRange: bytes=1-2\r\nIf-None-Match: "0123456789abcdef"\r\nContent-Type: a/b\r\n\r\n',
    'latin1',
  );
  for (let i = 1; i < input.length - 1; i += 7) {
    for (let j = i + 1; j < input.length; j += 5) {
      let got = '';
      const handler: ParserHandler = {
        onHead: () => 0,
        onRequest(h) {
          const s = (a: number, n: number) => Buffer.from(h.src.subarray(a, a + n)).toString('latin1');
          got = `${s(h.rangeStart, h.rangeLen)}|${s(h.inmStart, h.inmLen)}|${s(h.ctStart, h.ctLen)}`;
          return Next;
        },
        onError: () => assert.fail('error'),
      };
      const p = new HttpParser(engine, handler);
      p.feed(input.subarray(0, i));
      p.feed(input.subarray(i, j));
      p.feed(input.subarray(j));
      p.destroy();
      assert.equal(got, 'bytes=1-2|"0123456789abcdef"|a/b');
    }
  }
});

test('a head trickled one byte at a time is parsed once its blank line arrives, not per byte', () => {
  const lines = Array.from({ length: 300 }, (_, i) => `X-H${i}: ${'v'.repeat(40)}\r\n`).join('');
  const input = Buffer.from(`GET /get/k HTTP/1.1\r\nHost: x\r\n${lines}\r\n`, 'latin1');
  assert.ok(input.length > 14000 && input.length < 16 * 1024);
  let runs = 0;
  const e = new ParserEngine(1024);
  const run = e.run.bind(e);
  e.run = (p, src) => {
    runs++;
    run(p, src);
  };
  let seen = 0;
  const p = new HttpParser(e, {
    onHead: () => 0,
    onRequest: () => {
      seen++;
      return Next;
    },
    onError: () => assert.fail('error'),
  });
  for (const b of input) p.feed(Buffer.from([b]));
  p.destroy();
  assert.equal(seen, 1);
  assert.ok(runs <= 2, `${runs} parses`);
});
