import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Session } from '../../dist/h2/session.js';
import type { SessionHost } from '../../dist/h2/stream.js';
import type { H2Stream } from '../../dist/h2/stream.js';
import type { FieldList } from '../../dist/h2/hpack.js';
import { encodeField } from '../../dist/h2/hpack.js';

/** The framing layer on its own: a fake socket in, the frames it wrote out. */

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

class FakeSocket extends EventEmitter {
  readonly chunks: Buffer[] = [];
  writableLength = 0;
  destroyed = false;
  ended = false;
  write(b: Uint8Array, cb?: () => void): boolean {
    this.chunks.push(Buffer.from(b));
    if (cb) cb();
    return true;
  }
  cork(): void {}
  uncork(): void {}
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

interface Frame {
  type: number;
  flags: number;
  id: number;
  payload: Buffer;
}

/** Frames written since the last call. */
function written(sock: FakeSocket): Frame[] {
  const b = Buffer.concat(sock.chunks.splice(0));
  const out: Frame[] = [];
  let p = 0;
  while (p + 9 <= b.length) {
    const len = b.readUIntBE(p, 3);
    out.push({
      type: b[p + 3]!,
      flags: b[p + 4]!,
      id: b.readUInt32BE(p + 5),
      payload: b.subarray(p + 9, p + 9 + len),
    });
    p += 9 + len;
  }
  assert.equal(p, b.length, 'whole frames only');
  return out;
}

function frame(type: number, flags: number, id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(id, 5);
  return Buffer.concat([h, payload]);
}

/** A GET header block (:method GET, :scheme http, :path as given). */
function getBlock(path: string, method = 0x82): Buffer {
  const b = Buffer.alloc(64 + path.length);
  b[0] = method;
  b[1] = 0x86;
  const end = encodeField(b, 2, ':path', path);
  return b.subarray(0, end);
}

const DATA = 0,
  HEADERS = 1,
  PRIORITY = 2,
  RST = 3,
  SETTINGS = 4,
  PING = 6,
  GOAWAY = 7,
  WINDOW_UPDATE = 8,
  CONTINUATION = 9;
const END_STREAM = 1,
  END_HEADERS = 4;

interface Seen {
  paths: string[];
  bodies: Map<number, Buffer[]>;
  ended: number[];
  aborted: number[];
}

/** A host that answers body-less requests at once with `body` (and a request with a body at its end). */
function setup(body: Buffer = Buffer.from('hello'), answer = true) {
  const sock = new FakeSocket();
  const seen: Seen = { paths: [], bodies: new Map(), ended: [], aborted: [] };
  const reply = (s: Session, st: H2Stream) => {
    if (!answer) return;
    st.queue([body], body.length === 0 ? 0 : 1, body.length, null);
    s.respond(st, [':status', 200, 'content-length', String(body.length)], body.length > 0);
  };
  const host: SessionHost = {
    maxHeaderList: 65536,
    request(s: Session, st: H2Stream, fields: FieldList, ended: boolean) {
      for (let i = 0; i < fields.n; i++) if (fields.names[i] === ':path') seen.paths.push(fields.values[i]!);
      if (ended) reply(s, st);
    },
    data(s: Session, st: H2Stream, chunk: Buffer, _transient: boolean, ended: boolean) {
      const list = seen.bodies.get(st.id) ?? [];
      list.push(Buffer.from(chunk));
      seen.bodies.set(st.id, list);
      if (ended) {
        seen.ended.push(st.id);
        reply(s, st);
      }
    },
    ended(s: Session, st: H2Stream) {
      seen.ended.push(st.id);
      reply(s, st);
    },
    aborted(st: H2Stream) {
      seen.aborted.push(st.id);
    },
    closed() {},
    log(e: unknown) {
      throw e;
    },
  };
  const s = new Session(host, sock as unknown as Socket);
  return { s, sock, seen };
}

function open(settings: Buffer = Buffer.alloc(0)) {
  const t = setup();
  t.s.feed(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, settings)]), false);
  const first = written(t.sock);
  return { ...t, first };
}

function goawayCode(frames: Frame[]): number | undefined {
  const g = frames.find((f) => f.type === GOAWAY);
  return g?.payload.readUInt32BE(4);
}

test('server preface: SETTINGS, a wide connection window, and an ACK of the client SETTINGS', () => {
  const { first } = open();
  assert.equal(first[0]!.type, SETTINGS);
  assert.equal(first[0]!.flags, 0);
  const settings = new Map<number, number>();
  for (let p = 0; p < first[0]!.payload.length; p += 6)
    settings.set(first[0]!.payload.readUInt16BE(p), first[0]!.payload.readUInt32BE(p + 2));
  assert.equal(settings.get(3), 128, 'MAX_CONCURRENT_STREAMS');
  assert.equal(settings.get(4), 4 * 1024 * 1024, 'INITIAL_WINDOW_SIZE');
  assert.equal(first[1]!.type, WINDOW_UPDATE);
  assert.equal(first[1]!.payload.readUInt32BE(0), 32 * 1024 * 1024 - 65535);
  assert.ok(
    first.some((f) => f.type === SETTINGS && f.flags === 1),
    'SETTINGS ACK',
  );
});

test('preface and frames split at every byte are parsed the same', () => {
  const t = setup();
  const all = Buffer.concat([
    PREFACE,
    frame(SETTINGS, 0, 0),
    frame(HEADERS, END_HEADERS | END_STREAM, 1, getBlock('/a')),
    frame(PING, 0, 0, Buffer.from('12345678')),
    frame(HEADERS, END_HEADERS | END_STREAM, 3, getBlock('/b')),
  ]);
  // Fed one byte at a time through a buffer that is overwritten after each call.
  const scratch = Buffer.alloc(1);
  for (const byte of all) {
    scratch[0] = byte;
    t.s.feed(scratch, true);
    scratch[0] = 0;
  }
  assert.deepEqual(t.seen.paths, ['/a', '/b']);
  const frames = written(t.sock);
  const ping = frames.find((f) => f.type === PING)!;
  assert.equal(ping.flags, 1);
  assert.equal(ping.payload.toString(), '12345678');
  const heads = frames.filter((f) => f.type === HEADERS);
  assert.deepEqual(
    heads.map((f) => f.id),
    [1, 3],
  );
  const data = frames.filter((f) => f.type === DATA);
  assert.deepEqual(
    data.map((f) => [f.id, f.payload.toString(), f.flags]),
    [
      [1, 'hello', END_STREAM],
      [3, 'hello', END_STREAM],
    ],
  );
});

test('a wrong preface, an oversized frame, bad stream ids: GOAWAY with the RFC 9113 code', () => {
  const cases: [string, Buffer, number][] = [
    ['wrong preface', Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'), 1],
    ['a first frame other than SETTINGS', Buffer.concat([PREFACE, frame(PING, 0, 0, Buffer.alloc(8))]), 1],
    ['a SETTINGS ACK as the first frame', Buffer.concat([PREFACE, frame(SETTINGS, 1, 0)]), 1],
    [
      'frame over 16384 bytes',
      Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(DATA, 0, 1, Buffer.alloc(16385))]),
      6,
    ],
    [
      'HEADERS on an even stream',
      Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(HEADERS, 5, 2, getBlock('/'))]),
      1,
    ],
    [
      'HEADERS on stream 0',
      Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(HEADERS, 5, 0, getBlock('/'))]),
      1,
    ],
    [
      'DATA on an idle stream',
      Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(DATA, 0, 5, Buffer.from('x'))]),
      1,
    ],
    [
      'a stream id lower than one already used',
      Buffer.concat([
        PREFACE,
        frame(SETTINGS, 0, 0),
        frame(HEADERS, 5, 5, getBlock('/')),
        frame(HEADERS, 5, 3, getBlock('/')),
      ]),
      1,
    ],
    ['SETTINGS of a bad length', Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(5))]), 6],
    ['SETTINGS on a stream', Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(SETTINGS, 0, 1)]), 1],
    [
      'WINDOW_UPDATE of 0 on the connection',
      Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(WINDOW_UPDATE, 0, 0, Buffer.alloc(4))]),
      1,
    ],
    [
      'PING of 7 bytes',
      Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(PING, 0, 0, Buffer.alloc(7))]),
      6,
    ],
    [
      'RST_STREAM on an idle stream',
      Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(RST, 0, 7, Buffer.alloc(4))]),
      1,
    ],
    [
      'WINDOW_UPDATE on an idle stream',
      Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(WINDOW_UPDATE, 0, 3, Buffer.from([0, 0, 0, 1]))]),
      1,
    ],
    [
      'DATA on a stream id skipped (closed, never opened)',
      Buffer.concat([
        PREFACE,
        frame(SETTINGS, 0, 0),
        frame(HEADERS, 5, 5, getBlock('/')),
        frame(DATA, 0, 3, Buffer.from('x')),
      ]),
      5,
    ],
    [
      'CONTINUATION without HEADERS',
      Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(CONTINUATION, 4, 1, getBlock('/'))]),
      1,
    ],
    [
      'another frame inside a header block',
      Buffer.concat([
        PREFACE,
        frame(SETTINGS, 0, 0),
        frame(HEADERS, 1, 1, getBlock('/')),
        frame(PING, 0, 0, Buffer.alloc(8)),
      ]),
      1,
    ],
    [
      'bad HPACK',
      Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(HEADERS, 5, 1, Buffer.from([0x80]))]),
      9,
    ],
    [
      'MAX_FRAME_SIZE below 16384',
      Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.from([0, 5, 0, 0, 0x10, 0]))]),
      1,
    ],
  ];
  for (const [name, bytes, code] of cases) {
    const t = setup();
    t.s.feed(bytes, false);
    const frames = written(t.sock);
    assert.equal(goawayCode(frames), code, name);
    assert.equal(t.sock.ended, true, `${name}: the connection ends`);
    assert.equal(t.s.alive, false, name);
  }
});

test('HEADERS + CONTINUATION make one header block; padding and priority are skipped', () => {
  const t = open();
  const block = getBlock('/continued');
  const padded = Buffer.concat([Buffer.from([3]), Buffer.alloc(5), block.subarray(0, 3), Buffer.alloc(3)]);
  t.s.feed(
    Buffer.concat([
      frame(HEADERS, END_STREAM | 0x8 | 0x20, 1, padded),
      frame(CONTINUATION, 0, 1, block.subarray(3, 5)),
      frame(CONTINUATION, END_HEADERS, 1, block.subarray(5)),
    ]),
    false,
  );
  assert.deepEqual(t.seen.paths, ['/continued']);
});

test('send flow control: DATA never exceeds the stream window; WINDOW_UPDATE and SETTINGS let it go on', () => {
  const t = setup(Buffer.from('abcdefghijklmnopqrstuvwxy'));
  // The client's initial stream window: 10 bytes.
  t.s.feed(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.from([0, 4, 0, 0, 0, 10]))]), false);
  written(t.sock);
  t.s.feed(frame(HEADERS, END_HEADERS | END_STREAM, 1, getBlock('/f')), false);
  let data = written(t.sock).filter((f) => f.type === DATA);
  assert.deepEqual(
    data.map((f) => f.payload.toString()),
    ['abcdefghij'],
  );
  assert.equal(data[0]!.flags, 0);
  t.s.feed(frame(WINDOW_UPDATE, 0, 1, Buffer.from([0, 0, 0, 7])), false);
  data = written(t.sock).filter((f) => f.type === DATA);
  assert.deepEqual(
    data.map((f) => f.payload.toString()),
    ['klmnopq'],
  );
  // A larger initial window applies to the open stream by the difference (§6.9.2).
  t.s.feed(frame(SETTINGS, 0, 0, Buffer.from([0, 4, 0, 0, 0, 100])), false);
  data = written(t.sock).filter((f) => f.type === DATA);
  assert.deepEqual(
    data.map((f) => [f.payload.toString(), f.flags]),
    [['rstuvwxy', END_STREAM]],
  );
  assert.equal(t.s.streams.size, 0, 'the stream is done');
});

test('send flow control: the connection window is shared by the streams and frames respect MAX_FRAME_SIZE', () => {
  const body = Buffer.alloc(70000, 0x61);
  const t = setup(body);
  t.s.feed(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, Buffer.from([0, 4, 0, 2, 0, 0]))]), false);
  written(t.sock);
  t.s.feed(frame(HEADERS, END_HEADERS | END_STREAM, 1, getBlock('/big')), false);
  let data = written(t.sock).filter((f) => f.type === DATA);
  // 65535 bytes of connection window, in frames of at most 16384.
  assert.equal(
    data.reduce((n, f) => n + f.payload.length, 0),
    65535,
  );
  assert.ok(data.every((f) => f.payload.length <= 16384));
  t.s.feed(frame(WINDOW_UPDATE, 0, 0, Buffer.from([0, 1, 0, 0])), false);
  data = written(t.sock).filter((f) => f.type === DATA);
  assert.equal(
    data.reduce((n, f) => n + f.payload.length, 0),
    70000 - 65535,
  );
  assert.equal(data.at(-1)!.flags, END_STREAM);
});

test('receive flow control: an upload gets WINDOW_UPDATEs as it goes; its bytes arrive in order', () => {
  const t = open();
  t.s.feed(frame(HEADERS, END_HEADERS, 1, getBlock('/put', 0x83)), false);
  written(t.sock);
  const chunk = Buffer.alloc(16384, 0x62);
  const frames: Buffer[] = [];
  for (let i = 0; i < 160; i++) frames.push(frame(DATA, 0, 1, chunk));
  frames.push(frame(DATA, END_STREAM, 1, Buffer.from('end')));
  t.s.feed(Buffer.concat(frames), true);
  const updates = written(t.sock).filter((f) => f.type === WINDOW_UPDATE);
  assert.ok(
    updates.some((f) => f.id === 1),
    'the stream window was topped up',
  );
  const got = Buffer.concat(t.seen.bodies.get(1)!);
  assert.equal(got.length, 160 * 16384 + 3);
  assert.equal(got.subarray(-3).toString(), 'end');
  assert.deepEqual(t.seen.ended, [1]);
});

test('DATA on a half-closed stream is STREAM_CLOSED; RST_STREAM drops a stream; WINDOW_UPDATE 0 on a stream is a stream error', () => {
  const t = setup(Buffer.alloc(0), false);
  t.s.feed(
    Buffer.concat([
      PREFACE,
      frame(SETTINGS, 0, 0),
      frame(HEADERS, END_HEADERS | END_STREAM, 1, getBlock('/x')),
      frame(DATA, 0, 1, Buffer.from('late')),
    ]),
    false,
  );
  let frames = written(t.sock);
  const rst = frames.find((f) => f.type === RST)!;
  assert.equal(rst.id, 1);
  assert.equal(rst.payload.readUInt32BE(0), 5);
  t.s.feed(frame(HEADERS, END_HEADERS, 3, getBlock('/y', 0x83)), false);
  t.s.feed(frame(RST, 0, 3, Buffer.from([0, 0, 0, 8])), false);
  assert.equal(t.s.streams.size, 0);
  assert.deepEqual(t.seen.aborted, [1, 3]);
  t.s.feed(frame(HEADERS, END_HEADERS, 5, getBlock('/z', 0x83)), false);
  t.s.feed(frame(WINDOW_UPDATE, 0, 5, Buffer.alloc(4)), false);
  frames = written(t.sock);
  assert.deepEqual(
    frames.filter((f) => f.type === RST).map((f) => [f.id, f.payload.readUInt32BE(0)]),
    [[5, 1]],
  );
  assert.equal(t.s.alive, true);
});

test('streams over MAX_CONCURRENT_STREAMS are refused; a rapid-reset flood gets GOAWAY(ENHANCE_YOUR_CALM)', () => {
  const t = setup(Buffer.alloc(0), false);
  const open: Buffer[] = [PREFACE, frame(SETTINGS, 0, 0)];
  for (let i = 0; i < 129; i++) open.push(frame(HEADERS, END_HEADERS, 1 + 2 * i, getBlock('/w', 0x83)));
  t.s.feed(Buffer.concat(open), false);
  const refused = written(t.sock).filter((f) => f.type === RST);
  assert.deepEqual(
    refused.map((f) => [f.id, f.payload.readUInt32BE(0)]),
    [[257, 7]],
  );

  const f = setup();
  const flood: Buffer[] = [PREFACE, frame(SETTINGS, 0, 0)];
  for (let i = 0; i < 1100; i++) {
    flood.push(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, getBlock('/')));
    flood.push(frame(RST, 0, 1 + 2 * i, Buffer.from([0, 0, 0, 8])));
  }
  f.s.feed(Buffer.concat(flood), false);
  assert.equal(goawayCode(written(f.sock)), 0xb);
  assert.equal(f.s.alive, false);
});

test('graceful shutdown: GOAWAY(NO_ERROR) with the last stream; open streams finish, new ones are ignored', () => {
  const t = setup(Buffer.from('ok'));
  t.s.feed(
    Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(HEADERS, END_HEADERS, 1, getBlock('/up', 0x83))]),
    false,
  );
  written(t.sock);
  t.s.shutdown();
  let frames = written(t.sock);
  assert.equal(goawayCode(frames), 0);
  assert.equal(frames.find((x) => x.type === GOAWAY)!.payload.readUInt32BE(0), 1);
  assert.equal(t.sock.ended, false, 'stream 1 is still open');
  t.s.feed(frame(HEADERS, END_HEADERS, 3, getBlock('/new', 0x83)), false);
  // Its body is ignored as well (§6.8), not taken for DATA on a closed stream.
  t.s.feed(frame(DATA, END_STREAM, 3, Buffer.from('ignored')), false);
  t.s.feed(frame(DATA, END_STREAM, 1, Buffer.from('body')), false);
  frames = written(t.sock);
  assert.equal(goawayCode(frames), undefined);
  assert.deepEqual(t.seen.paths, ['/up'], 'a stream opened after GOAWAY is ignored');
  assert.deepEqual(
    frames.filter((x) => x.type === HEADERS).map((x) => x.id),
    [1],
  );
  assert.equal(t.sock.ended, true);
});

/** RST_STREAM frames written, as [stream, code]. */
function rsts(frames: Frame[]): [number, number][] {
  return frames.filter((f) => f.type === RST).map((f) => [f.id, f.payload.readUInt32BE(0)]);
}

test('half-closed (remote): HEADERS after END_STREAM is a stream error STREAM_CLOSED (RFC 9113 §5.1)', () => {
  const t = setup(Buffer.alloc(0), false);
  t.s.feed(
    Buffer.concat([
      PREFACE,
      frame(SETTINGS, 0, 0),
      frame(HEADERS, END_HEADERS | END_STREAM, 1, getBlock('/x')),
      frame(HEADERS, END_HEADERS | END_STREAM, 1, getBlock('/x')),
    ]),
    false,
  );
  assert.deepEqual(rsts(written(t.sock)), [[1, 5]]);
  assert.equal(t.s.alive, true);
});

test('closed by the client RST_STREAM: DATA, HEADERS, HEADERS + CONTINUATION get RST_STREAM(STREAM_CLOSED) once (RFC 9113 §5.1)', () => {
  const t = setup(Buffer.alloc(0), false);
  t.s.feed(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]), false);
  written(t.sock);
  const block = getBlock('/t');
  const late: [string, Buffer][] = [
    ['DATA', frame(DATA, 0, 1, Buffer.from('late'))],
    ['HEADERS', frame(HEADERS, END_HEADERS | END_STREAM, 3, block)],
    [
      'HEADERS + CONTINUATION',
      Buffer.concat([
        frame(HEADERS, END_STREAM, 5, block.subarray(0, 2)),
        frame(CONTINUATION, END_HEADERS, 5, block.subarray(2)),
      ]),
    ],
  ];
  let id = 1;
  for (const [name, bytes] of late) {
    t.s.feed(frame(HEADERS, END_HEADERS, id, getBlock('/up', 0x83)), false);
    t.s.feed(frame(RST, 0, id, Buffer.from([0, 0, 0, 8])), false);
    t.s.feed(bytes, false);
    assert.deepEqual(rsts(written(t.sock)), [[id, 5]], name);
    // Our RST_STREAM closed it on our side too: what the client still had in flight is ignored.
    t.s.feed(frame(DATA, 0, id, Buffer.from('later')), false);
    assert.deepEqual(rsts(written(t.sock)), [], `${name}: then ignored`);
    assert.equal(t.s.alive, true, name);
    id += 2;
  }
});

test('closed after END_STREAM both ways: DATA or HEADERS is a connection error STREAM_CLOSED (RFC 9113 §5.1)', () => {
  for (const [name, late] of [
    ['DATA', frame(DATA, END_STREAM, 1, Buffer.from('late'))],
    ['HEADERS', frame(HEADERS, END_HEADERS | END_STREAM, 1, getBlock('/again'))],
  ] as const) {
    const t = open();
    t.s.feed(frame(HEADERS, END_HEADERS | END_STREAM, 1, getBlock('/done')), false);
    assert.deepEqual(
      written(t.sock).map((f) => [f.type, f.flags & END_STREAM]),
      [
        [HEADERS, 0],
        [DATA, END_STREAM],
      ],
    );
    assert.equal(t.s.streams.size, 0);
    t.s.feed(late, false);
    assert.equal(goawayCode(written(t.sock)), 5, name);
    assert.equal(t.s.alive, false, name);
  }
});

test('closed by our RST_STREAM: late DATA is ignored but counts against the connection window, a late header block is decoded and ignored (RFC 9113 §5.1)', () => {
  const t = setup(Buffer.from('ok'));
  t.s.feed(
    Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(HEADERS, END_HEADERS, 1, getBlock('/up', 0x83))]),
    false,
  );
  written(t.sock);
  // WINDOW_UPDATE 0 on a stream: we reset it (PROTOCOL_ERROR).
  t.s.feed(frame(WINDOW_UPDATE, 0, 1, Buffer.alloc(4)), false);
  assert.deepEqual(rsts(written(t.sock)), [[1, 1]]);
  const chunk = Buffer.alloc(16384);
  const late: Buffer[] = [];
  for (let i = 0; i < 1024; i++) late.push(frame(DATA, 0, 1, chunk));
  // Trailers that add ':path: /indexed' to the client's HPACK table (literal, incremental indexing).
  const path = Buffer.from('/indexed');
  late.push(
    frame(HEADERS, END_HEADERS | END_STREAM, 1, Buffer.concat([Buffer.from([0x44, path.length]), path])),
  );
  t.s.feed(Buffer.concat(late), false);
  const frames = written(t.sock);
  assert.deepEqual(rsts(frames), []);
  assert.equal(goawayCode(frames), undefined);
  assert.deepEqual(
    frames.filter((f) => f.type === WINDOW_UPDATE).map((f) => [f.id, f.payload.readUInt32BE(0)]),
    [[0, 1024 * 16384]],
    'the connection window is topped up for the ignored bytes',
  );
  assert.equal(t.seen.bodies.size, 0);
  // The table stayed in step: index 62 is the field the ignored block added.
  t.s.feed(frame(HEADERS, END_HEADERS | END_STREAM, 3, Buffer.from([0x82, 0x86, 0xbe])), false);
  assert.deepEqual(t.seen.paths, ['/up', '/indexed']);
  assert.equal(t.s.alive, true);
});

test('closed streams: PRIORITY and WINDOW_UPDATE are ignored (RFC 9113 §5.1)', () => {
  const t = open();
  t.s.feed(frame(HEADERS, END_HEADERS | END_STREAM, 1, getBlock('/done')), false);
  written(t.sock);
  t.s.feed(
    Buffer.concat([
      frame(PRIORITY, 0, 1, Buffer.from([0, 0, 0, 0, 16])),
      frame(WINDOW_UPDATE, 0, 1, Buffer.from([0, 0, 0, 9])),
    ]),
    false,
  );
  assert.deepEqual(written(t.sock), []);
  assert.equal(t.s.alive, true);
});

test('the record of reset streams is bounded: 1024 stream ids later a reset stream counts as ended', () => {
  const t = setup(Buffer.alloc(0));
  t.s.feed(
    Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(HEADERS, END_HEADERS, 1, getBlock('/up', 0x83))]),
    false,
  );
  t.s.feed(frame(WINDOW_UPDATE, 0, 1, Buffer.alloc(4)), false);
  const more: Buffer[] = [];
  for (let id = 3; id <= 2047; id += 2)
    more.push(frame(HEADERS, END_HEADERS | END_STREAM, id, getBlock('/')));
  t.s.feed(Buffer.concat(more), false);
  written(t.sock);
  // Stream 1 is 1023 ids back: still known as reset by us, its DATA ignored.
  t.s.feed(frame(DATA, 0, 1, Buffer.from('late')), false);
  assert.equal(goawayCode(written(t.sock)), undefined);
  t.s.feed(frame(HEADERS, END_HEADERS | END_STREAM, 2049, getBlock('/')), false);
  t.s.feed(frame(DATA, 0, 1, Buffer.from('later')), false);
  assert.equal(goawayCode(written(t.sock)), 5);
  assert.equal(t.s.alive, false);
});
