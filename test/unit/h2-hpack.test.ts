import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldList, HpackDecoder, encodeField, encodeStatus, writeInt } from '../../dist/h2/hpack.js';
import { CODES, codeLength, huffmanDecode } from '../../dist/h2/huffman.js';

/** HPACK against the examples of RFC 7541 Appendix C, and the limits that make a COMPRESSION_ERROR. */

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function decode(d: HpackDecoder, block: Buffer): [string, string][] | null {
  const list = new FieldList();
  if (!d.decode(block, 0, block.length, list)) return null;
  const out: [string, string][] = [];
  for (let i = 0; i < list.n; i++) out.push([list.names[i]!, list.values[i]!]);
  return out;
}

function table(d: HpackDecoder): [string, string][] {
  const t: [string, string][] = [];
  for (let i = 0; i < d.tableLength; i++) t.push(d.entry(i));
  return t;
}

test('Huffman table: canonical codes match RFC 7541 Appendix B', () => {
  // A few rows of the appendix, code (right-aligned) and length.
  const rows: [number, number, number][] = [
    [0, 0x1ff8, 13],
    [10, 0x3ffffffc, 30],
    [32, 0x14, 6],
    [48, 0x0, 5],
    [97, 0x3, 5],
    [127, 0xffffffc, 28],
    [200, 0x3ffffe2, 26],
    [255, 0x3ffffee, 26],
    [256, 0x3fffffff, 30],
  ];
  for (const [sym, code, len] of rows) {
    assert.equal(CODES[sym], code, `code of ${sym}`);
    assert.equal(codeLength(sym), len, `length of ${sym}`);
  }
});

test('Huffman decoding: every octet, and invalid padding or EOS is an error', () => {
  // Encode every octet with the table (a test-side encoder) and decode it back.
  const all = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  const bits: number[] = [];
  for (const b of all) for (let k = codeLength(b) - 1; k >= 0; k--) bits.push((CODES[b]! >>> k) & 1);
  while (bits.length % 8 !== 0) bits.push(1);
  const enc = Buffer.alloc(bits.length / 8);
  for (let i = 0; i < bits.length; i++) enc[i >> 3] = enc[i >> 3]! | (bits[i]! << (7 - (i & 7)));
  assert.equal(huffmanDecode(enc, 0, enc.length), all.toString('latin1'));
  // 'a' is 00011: padded with ones it decodes, padded with zeros it does not.
  assert.equal(huffmanDecode(Buffer.from([0x1f]), 0, 1), 'a');
  assert.equal(huffmanDecode(Buffer.from([0x18]), 0, 1), null);
  // Eight or more bits of padding: an error (§5.2).
  assert.equal(huffmanDecode(Buffer.from([0x1f, 0xff]), 0, 2), null);
  // EOS itself in the string.
  assert.equal(huffmanDecode(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, 4), null);
});

const REQ1: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/'],
  [':authority', 'www.example.com'],
];
const REQ2: [string, string][] = [...REQ1, ['cache-control', 'no-cache']];
const REQ3: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/index.html'],
  [':authority', 'www.example.com'],
  ['custom-key', 'custom-value'],
];

for (const [name, blocks] of [
  [
    'C.3 requests without Huffman',
    [
      '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '8286 84be 5808 6e6f 2d63 6163 6865',
      '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
    ],
  ],
  [
    'C.4 requests with Huffman',
    [
      '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
      '8286 84be 5886 a8eb 1064 9cbf',
      '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
    ],
  ],
] as const) {
  test(`RFC 7541 ${name}: fields and dynamic table`, () => {
    const d = new HpackDecoder();
    assert.deepEqual(decode(d, hex(blocks[0])), REQ1);
    assert.deepEqual(table(d), [[':authority', 'www.example.com']]);
    assert.equal(d.tableSize, 57);
    assert.deepEqual(decode(d, hex(blocks[1])), REQ2);
    assert.deepEqual(table(d), [
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ]);
    assert.equal(d.tableSize, 110);
    assert.deepEqual(decode(d, hex(blocks[2])), REQ3);
    assert.deepEqual(table(d), [
      ['custom-key', 'custom-value'],
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ]);
    assert.equal(d.tableSize, 164);
  });
}

const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOC = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';

for (const [name, blocks] of [
  [
    'C.5 responses without Huffman',
    [
      '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '4803 3330 37c1 c0bf',
      '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
    ],
  ],
  [
    'C.6 responses with Huffman',
    [
      '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
      '4883 640e ffc1 c0bf',
      '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
    ],
  ],
] as const) {
  test(`RFC 7541 ${name}: eviction in a 256-byte table`, () => {
    const d = new HpackDecoder(256);
    assert.deepEqual(decode(d, hex(blocks[0])), [
      [':status', '302'],
      ['cache-control', 'private'],
      ['date', DATE1],
      ['location', LOC],
    ]);
    assert.equal(d.tableSize, 222);
    assert.deepEqual(decode(d, hex(blocks[1])), [
      [':status', '307'],
      ['cache-control', 'private'],
      ['date', DATE1],
      ['location', LOC],
    ]);
    assert.equal(d.tableSize, 222);
    assert.deepEqual(d.entry(0), [':status', '307']);
    assert.equal(d.tableLength, 4);
    assert.deepEqual(decode(d, hex(blocks[2])), [
      [':status', '200'],
      ['cache-control', 'private'],
      ['date', DATE2],
      ['location', LOC],
      ['content-encoding', 'gzip'],
      ['set-cookie', COOKIE],
    ]);
    assert.equal(d.tableSize, 215);
    assert.deepEqual(table(d), [
      ['set-cookie', COOKIE],
      ['content-encoding', 'gzip'],
      ['date', DATE2],
    ]);
  });
}

test('HPACK integers (C.1) and table size updates', () => {
  const b = Buffer.alloc(8);
  assert.equal(writeInt(b, 0, 5, 0, 10), 1);
  assert.equal(b[0], 10);
  assert.equal(writeInt(b, 0, 5, 0, 1337), 3);
  assert.deepEqual([...b.subarray(0, 3)], [0x1f, 0x9a, 0x0a]);
  const d = new HpackDecoder();
  decode(d, hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'));
  assert.equal(d.tableLength, 1);
  // A size update to 0 empties the table; then back to 4096; then a field.
  assert.deepEqual(decode(d, hex('20 3fe1 1f 82')), [[':method', 'GET']]);
  assert.equal(d.tableLength, 0);
  // Above our SETTINGS_HEADER_TABLE_SIZE (4096): an error.
  assert.equal(decode(new HpackDecoder(), hex('3fe2 1f')), null);
  // A size update after the first field: an error (§4.2).
  assert.equal(decode(new HpackDecoder(), hex('82 20')), null);
});

test('malformed HPACK is a COMPRESSION_ERROR', () => {
  const bad = [
    '80', // index 0
    'ff 00', // index 127, past the tables (nothing dynamic yet)
    'be', // dynamic index 62 on an empty table
    '0f', // literal, name index cut short
    '40 05 61 62', // literal name longer than the block
    '00 01 61 7f', // value length past the end
    'ff ff ff ff ff ff 0f', // an integer far too large
    '40 81 18 00', // Huffman name with bad padding
  ];
  for (const b of bad) assert.equal(decode(new HpackDecoder(), hex(b)), null, b);
});

test('the encoder: static indexes for known names and statuses, literals otherwise', () => {
  const b = Buffer.alloc(256);
  let at = encodeStatus(b, 0, 200);
  at = encodeStatus(b, at, 201);
  at = encodeField(b, at, 'content-type', 'text/plain');
  at = encodeField(b, at, 'x-cache', 'HIT');
  const d = new HpackDecoder();
  assert.deepEqual(decode(d, b.subarray(0, at)), [
    [':status', '200'],
    [':status', '201'],
    ['content-type', 'text/plain'],
    ['x-cache', 'HIT'],
  ]);
  // Nothing was added to the client's table.
  assert.equal(d.tableLength, 0);
});
