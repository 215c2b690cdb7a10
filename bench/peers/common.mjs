// Shared by every peer server (Node and Bun): flags, the Range rule of docs/http-api.md, canned texts.
// Peers are the yardsticks stripecache is measured against, so each keeps the same contract on
// the benchmarked routes (status codes, Content-Type kept, strong ETag, single byte ranges).

export function parseFlags(argv) {
  const flags = { port: 0, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port' || argv[i] === '-p') flags.port = Number(argv[++i]);
    else if (argv[i] === '--host') flags.host = argv[++i];
  }
  return flags;
}

export const HELLO = 'Hello, World!';
export const DEFAULT_TYPE = 'application/octet-stream';

/**
 * Single-range rule of docs/http-api.md: returns [start, endInclusive], -1 when unsatisfiable, or null when
 * the header is absent, multi-range or malformed (the caller then sends the whole value).
 */
export function parseRange(header, len) {
  if (header === undefined || header === null || !header.startsWith('bytes=')) return null;
  const spec = header.slice(6).trim();
  if (spec.includes(',')) return null;
  const m = /^(\d*)-(\d*)$/.exec(spec);
  if (m === null || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || len === 0) return -1;
    return [Math.max(0, len - n), len - 1];
  }
  const start = Number(m[1]);
  let end = m[2] === '' ? len - 1 : Number(m[2]);
  if (m[2] !== '' && end < start) return null;
  if (start >= len) return -1;
  if (end >= len) end = len - 1;
  return [start, end];
}

/** A strong ETag from a store-wide version counter: cheap, and unique per stored value. */
let version = 0;
export function nextEtag() {
  version++;
  return `"${version.toString(16)}"`;
}

/** Prints the readiness line every harness and test waits for. */
export function announce(host, port) {
  process.stdout.write(`listening on ${host}:${port}\n`);
}
