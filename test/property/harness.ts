import net from 'node:net';
import type { Prng } from './prng.js';
import { parseResponses, type ParseOutcome } from './response-parser.js';
import { checkAnswer, StoreModel } from './check.js';
import { isHeadRequest, toWire, type WireRequest } from './requests.js';

/** The longest a sequence may take to be answered and closed. */
const SEQUENCE_TIMEOUT_MS = 10_000;

export interface Exchange {
  data: Buffer;
  /** Why the connection ended early ('timeout') or null. */
  problem: string | null;
  /** The pieces the request bytes were sent in (to replay a failure). */
  pieces: Buffer[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Cut points for `length` bytes: none, a few anywhere, or many (down to single bytes). */
function cuts(rng: Prng, length: number): number[] {
  const r = rng.int(10);
  const n = r < 2 ? 0 : r < 8 ? rng.range(1, 6) : rng.range(6, 30);
  const set = new Set<number>();
  for (let i = 0; i < n && length > 1; i++) set.add(rng.range(1, length - 1));
  return [...set].sort((a, b) => a - b);
}

/**
 * Sends `bytes` on a new connection in pieces cut at random offsets (with pauses between them,
 * so they arrive as separate reads), and collects everything the server sends until it closes.
 */
export async function exchange(port: number, rng: Prng, bytes: Buffer): Promise<Exchange> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const chunks: Buffer[] = [];
  let ended = false;
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {
    // A write after the server closed (EPIPE, ECONNRESET): what it sent before is in `chunks`.
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.once('end', () => (ended = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const points = cuts(rng, bytes.length);
  let from = 0;
  const pieces: Buffer[] = [];
  for (const at of [...points, bytes.length]) {
    if (ended || socket.destroyed) break;
    pieces.push(bytes.subarray(from, at));
    socket.write(pieces[pieces.length - 1]);
    from = at;
    if (at === bytes.length) break;
    if (rng.chance(0.5)) await sleep(rng.range(0, 2));
    else await new Promise((r) => setImmediate(r));
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    closed.then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), SEQUENCE_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  socket.destroy();
  return {
    data: Buffer.concat(chunks),
    problem: timedOut ? `the server did not close within ${SEQUENCE_TIMEOUT_MS} ms` : null,
    pieces,
  };
}

/** A request's bytes for a failure message (printable, cut short). */
export function show(b: Buffer): string {
  const s = JSON.stringify(b.subarray(0, 400).toString('latin1'));
  return b.length > 400 ? `${s}... (${b.length} bytes)` : s;
}

/**
 * Checks the answers to `requests` (sent in that order on one connection) against the model:
 * one well-framed answer per request up to the first that closes, none after it, no stray
 * bytes. Returns the problems, each naming the request.
 */
export function checkExchange(
  model: StoreModel,
  requests: WireRequest[],
  ex: Exchange,
  statuses?: Set<number>,
): string[] {
  const parsed: ParseOutcome = parseResponses(ex.data, (i) => isHeadRequest(requests[i]!));
  const problems: string[] = [];
  if (parsed.error !== null) problems.push(`framing: ${parsed.error}`);
  let i = 0;
  for (; i < requests.length; i++) {
    const w = requests[i]!;
    const r = parsed.responses[i];
    if (r === undefined) {
      if (parsed.error === null) problems.push(`request ${i} ${show(w.bytes)} got no answer`);
      break;
    }
    statuses?.add(r.status);
    for (const s of r.interim) statuses?.add(s);
    const found = checkAnswer(model, w, r);
    if (found.length !== 0) problems.push(`request ${i} ${show(w.bytes)}:\n    ${found.join('\n    ')}`);
    if (w.closes) break;
  }
  if (parsed.responses.length > i + 1) {
    problems.push(`${parsed.responses.length - i - 1} answer(s) after the request that closes (${i})`);
  }
  if (parsed.error === null && parsed.rest.length !== 0) {
    problems.push(`${parsed.rest.length} bytes after the last whole answer: ${show(parsed.rest)}`);
  }
  if (ex.problem !== null) problems.push(ex.problem);
  return problems;
}

/** Reads every key the model knows of back on one connection and compares. */
export async function readBack(port: number, rng: Prng, model: StoreModel): Promise<string[]> {
  const keys = [...model.touched.values()];
  const problems: string[] = [];
  for (let i = 0; i < keys.length; i += 64) {
    const batch = keys.slice(i, i + 64);
    const requests = batch.map((key, j) =>
      toWire(rng, { t: 'get', key, head: false, range: null, inm: null }, false, j === batch.length - 1),
    );
    const ex = await exchange(port, rng, Buffer.concat(requests.map((w) => w.bytes)));
    problems.push(...checkExchange(model, requests, ex));
  }
  return problems;
}
