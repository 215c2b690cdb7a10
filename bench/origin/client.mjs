// Cold-burst load client: opens N connections, then sends one 4 KiB Range GET on each at once
// (random 4 KiB-aligned offsets of one object), and times every answer. Raw node:net, so that
// the client adds as little as it can; every byte received is checked against the origin's content.
//
//   node bench/origin/client.mjs --host H --port P --path /obj/x --clients 1000 --size 10485760
//                                [--slice 4096] [--seed 1] [--timeout-ms 30000] [--name /obj/x]
// --name: the origin object whose bytes every answer must match (unset: status and length only).
//
// Prints one JSON line: {clients, ok, statuses, errors, mismatches, wallMs, p50Ms, p99Ms, maxMs, connectMs}.
import net from 'node:net';
import { originByte } from './origin.mjs';

function parseArgs(argv) {
  const o = {
    host: '127.0.0.1',
    port: 0,
    path: '/',
    clients: 1,
    size: 10485760,
    slice: 4096,
    seed: 1,
    timeoutMs: 30000,
    name: '',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
    if (!(k in o)) throw new Error(`client: unknown argument ${argv[i]}`);
    o[k] = typeof o[k] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  return o;
}

// Small deterministic PRNG (mulberry32): the same offsets for every server in a run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Parses one response (Content-Length or chunked) from the bytes of one connection. */
function parseResponse(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.subarray(0, end).toString('latin1');
  const status = Number(head.slice(9, 12));
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const bodyStart = end + 4;
  if (cl !== null) {
    const n = Number(cl[1]);
    if (buf.length < bodyStart + n) return null;
    return { status, head, body: buf.subarray(bodyStart, bodyStart + n) };
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const parts = [];
    let at = bodyStart;
    for (;;) {
      const le = buf.indexOf('\r\n', at);
      if (le < 0) return null;
      const len = parseInt(buf.subarray(at, le).toString('latin1'), 16);
      if (buf.length < le + 2 + len + 2) return null;
      if (len === 0) return { status, head, body: Buffer.concat(parts) };
      parts.push(buf.subarray(le + 2, le + 2 + len));
      at = le + 2 + len + 2;
    }
  }
  return { status, head, body: Buffer.alloc(0) };
}

function check(name, start, body) {
  for (let i = 0; i < body.length; i++) if (body[i] !== originByte(name, start + i)) return false;
  return true;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const rand = rng(o.seed);
  const slices = Math.floor(o.size / o.slice);
  const offsets = Array.from({ length: o.clients }, () => Math.floor(rand() * slices) * o.slice);

  const t0 = performance.now();
  const sockets = await Promise.all(
    offsets.map(
      () =>
        new Promise((resolve) => {
          const s = net.connect({ host: o.host, port: o.port });
          s.setNoDelay(true);
          s.once('connect', () => resolve(s));
          s.once('error', (e) => resolve(e));
        }),
    ),
  );
  const connectMs = performance.now() - t0;

  const statuses = {};
  const errors = {};
  let mismatches = 0;
  const times = [];
  const start = performance.now();
  await Promise.all(
    sockets.map(
      (s, i) =>
        new Promise((resolve) => {
          let settled = false;
          const fail = (why) => {
            if (settled) return;
            settled = true;
            errors[why] = (errors[why] ?? 0) + 1;
            if (!(s instanceof Error)) s.destroy();
            resolve();
          };
          if (s instanceof Error) return fail(s.code ?? s.message);
          const a = offsets[i];
          const chunks = [];
          let have = 0;
          const timer = setTimeout(() => fail('timeout'), o.timeoutMs);
          s.on('data', (d) => {
            chunks.push(d);
            have += d.length;
            const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, have);
            const r = parseResponse(buf);
            if (r === null || settled) return;
            settled = true;
            times.push(performance.now() - start);
            clearTimeout(timer);
            statuses[r.status] = (statuses[r.status] ?? 0) + 1;
            if (r.status !== 206 || r.body.length !== o.slice || (o.name !== '' && !check(o.name, a, r.body)))
              mismatches++;
            s.destroy();
            resolve();
          });
          s.on('error', (e) => {
            clearTimeout(timer);
            fail(e.code ?? e.message);
          });
          s.on('close', () => {
            clearTimeout(timer);
            fail('closed before the answer');
          });
          s.write(
            `GET ${o.path} HTTP/1.1\r\nHost: ${o.host}:${o.port}\r\nRange: bytes=${a}-${a + o.slice - 1}\r\n\r\n`,
          );
        }),
    ),
  );
  const wallMs = performance.now() - start;
  times.sort((x, y) => x - y);
  const q = (p) => (times.length ? times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)] : NaN);
  process.stdout.write(
    JSON.stringify({
      clients: o.clients,
      ok: times.length - mismatches,
      statuses,
      errors,
      mismatches,
      wallMs,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      maxMs: times.at(-1) ?? NaN,
      connectMs,
    }) + '\n',
  );
}

main().catch((e) => {
  process.stderr.write(`client: ${e.stack ?? e}\n`);
  process.exit(1);
});
