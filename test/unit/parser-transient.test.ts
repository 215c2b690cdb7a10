import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParserEngine } from '../../dist/parser/engine.js';
import { HttpParser, Next, Yield, type ParserHandler } from '../../dist/parser/parser.js';
import type { RequestHead } from '../../dist/parser/request.js';

/**
 * feed(chunk, true): the caller overwrites the chunk's memory once feed returns (the thread's
 * read buffer). What outlives the call (a body that goes on in a later chunk, its head, a yielded
 * rest) must have been copied out.
 */

const engine = new ParserEngine(1 << 20);

interface Seen {
  key: string;
  body: string;
}

function collector(yieldAfter = -1): { handler: ParserHandler; seen: Seen[] } {
  const seen: Seen[] = [];
  const handler: ParserHandler = {
    onHead: () => 0,
    onRequest: (head: RequestHead) => {
      const src = Buffer.from(head.src.buffer, head.src.byteOffset, head.src.length);
      const key = src.toString('latin1', head.urlStart, head.urlStart + head.urlLen);
      const body = Buffer.concat(head.body).toString('latin1');
      seen.push({ key, body });
      return seen.length === yieldAfter ? Yield : Next;
    },
    onError: (code) => assert.fail(`parse error ${code}`),
  };
  return { handler, seen };
}

/** Feeds `parts` through one reused buffer, scribbling over it after each feed. */
function feedThroughScratch(parser: HttpParser, parts: string[]): void {
  const scratch = Buffer.alloc(4096);
  for (const p of parts) {
    const n = scratch.write(p, 'latin1');
    parser.feed(scratch.subarray(0, n), true);
    scratch.fill(0x5a);
  }
}

test('a body split over reused chunks keeps its head and earlier parts', () => {
  const { handler, seen } = collector();
  const parser = new HttpParser(engine, handler);
  const body = 'abcdefghij'.repeat(30);
  const whole = `PUT /store/split HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  // Every split point past the head, and a three-way split.
  const headEnd = whole.indexOf('\r\n\r\n') + 4;
  for (let cut = headEnd; cut < whole.length; cut += 17) {
    feedThroughScratch(parser, [whole.slice(0, cut), whole.slice(cut)]);
  }
  feedThroughScratch(parser, [
    whole.slice(0, headEnd + 5),
    whole.slice(headEnd + 5, headEnd + 90),
    whole.slice(headEnd + 90),
  ]);
  assert.ok(seen.length > 3);
  for (const s of seen) assert.deepEqual(s, { key: '/store/split', body });
  parser.destroy();
});

test('a head split over reused chunks is parsed from its own copy', () => {
  const { handler, seen } = collector();
  const parser = new HttpParser(engine, handler);
  const whole = 'GET /get/k1 HTTP/1.1\r\nHost: h\r\n\r\n';
  for (let cut = 1; cut < whole.length; cut++)
    feedThroughScratch(parser, [whole.slice(0, cut), whole.slice(cut)]);
  assert.equal(seen.length, whole.length - 1);
  for (const s of seen) assert.equal(s.key, '/get/k1');
  parser.destroy();
});

test('the rest left by a Yield survives the chunk being reused', () => {
  const { handler, seen } = collector(1);
  const parser = new HttpParser(engine, handler);
  let batch = '';
  for (let i = 0; i < 5; i++) batch += `GET /get/k${i} HTTP/1.1\r\nHost: h\r\n\r\n`;
  feedThroughScratch(parser, [batch]);
  assert.equal(seen.length, 1);
  assert.notEqual(parser.pending, null);
  // More input arrives while the rest waits: it queues behind it.
  feedThroughScratch(parser, ['GET /get/k5 HTTP/1.1\r\nHost: h\r\n\r\n']);
  assert.equal(parser.resumePending(), true);
  assert.deepEqual(
    seen.map((s) => s.key),
    ['/get/k0', '/get/k1', '/get/k2', '/get/k3', '/get/k4', '/get/k5'],
  );
  parser.destroy();
});

test('requests answered within their chunk leave nothing that points into it', () => {
  const { handler, seen } = collector();
  const parser = new HttpParser(engine, handler);
  const chunk = Buffer.from(
    'GET /get/a HTTP/1.1\r\nHost: h\r\n\r\nPOST /store/b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxy',
  );
  parser.feed(chunk, true);
  assert.equal(seen.length, 2);
  assert.equal(parser.pending, null);
  assert.equal(parser.carry, null);
  assert.equal(parser.head.inBody, false);
  assert.equal(parser.head.body.length, 0);
  parser.destroy();
});
