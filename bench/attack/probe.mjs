// The probe: a fresh TCP connection per `GET /` every --interval ms, each bounded by --timeout.
// Runs as its own process (pinned by the harness to the client core) so that a busy harness
// event loop cannot inflate the latencies it reports. Open loop: a probe starts on schedule even
// while earlier ones hang, so a stalled server shows up as timeouts, not as fewer probes.
// One line per finished probe on stdout: "<start, epoch ms> <outcome> <latency ms> <status>".
// Outcomes: ok (complete response, status < 500), http5xx, refused (ECONNREFUSED), reset (closed or
// reset before the response was complete), timeout, error (anything else).
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    path: { type: 'string', default: '/' },
    interval: { type: 'string', default: '50' },
    timeout: { type: 'string', default: '2000' },
    'max-seconds': { type: 'string', default: '600' },
  },
});
const port = Number(values.port);
const intervalMs = Number(values.interval);
const timeoutMs = Number(values.timeout);
const maxMs = Number(values['max-seconds']) * 1000;
if (!(port > 0 && intervalMs > 0 && timeoutMs > 0 && maxMs > 0)) {
  console.error('probe: --port, --interval, --timeout, --max-seconds must be positive numbers');
  process.exit(2);
}
const request = Buffer.from(
  `GET ${values.path} HTTP/1.1\r\nHost: ${values.host}:${port}\r\nConnection: close\r\n\r\n`,
);
const t0 = performance.now();
let inFlight = 0;
let stopping = false;
const lines = [];

function flush() {
  if (lines.length) process.stdout.write(lines.splice(0).join(''));
}

function probeOnce() {
  const start = performance.now();
  inFlight++;
  let settled = false;
  let head = null;
  let received = Buffer.alloc(0);
  let status = 0;
  let need = -1;
  const socket = net.connect({ host: values.host, port });
  const finish = (outcome) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.destroy();
    inFlight--;
    const latency = performance.now() - start;
    lines.push(`${(performance.timeOrigin + start).toFixed(1)} ${outcome} ${latency.toFixed(3)} ${status}\n`);
  };
  const timer = setTimeout(() => finish('timeout'), timeoutMs);
  socket.on('connect', () => socket.write(request));
  socket.on('data', (chunk) => {
    received = Buffer.concat([received, chunk]);
    if (head === null) {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) {
        if (received.length > 65536) finish('error');
        return;
      }
      head = received.subarray(0, end).toString('latin1');
      status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      // Without Content-Length the body ends at close (Connection: close was asked for).
      need = cl ? end + 4 + Number(cl[1]) : -1;
    }
    if (need >= 0 && received.length >= need) finish(status >= 500 ? 'http5xx' : status > 0 ? 'ok' : 'error');
  });
  socket.on('end', () => {
    if (head !== null && need < 0) finish(status >= 500 ? 'http5xx' : status > 0 ? 'ok' : 'error');
    else finish('reset');
  });
  socket.on('error', (err) =>
    finish(
      err.code === 'ECONNREFUSED'
        ? 'refused'
        : err.code === 'ECONNRESET' || err.code === 'EPIPE'
          ? 'reset'
          : 'error',
    ),
  );
  socket.on('close', () => finish('reset'));
}

// Bounded: at most timeout/interval + 1 probes are ever in flight, and the run ends by itself
// after --max-seconds even if nobody stops it.
const maxInFlight = Math.ceil(timeoutMs / intervalMs) + 1;
let next = performance.now();
function tick() {
  if (stopping) return;
  const now = performance.now();
  if (now - t0 > maxMs) return stop();
  while (next <= now) {
    if (inFlight < maxInFlight) probeOnce();
    next += intervalMs;
  }
  flush();
  setTimeout(tick, Math.max(1, next - performance.now()));
}

function stop() {
  if (stopping) return;
  stopping = true;
  // Let probes in flight finish (each ends within its timeout), then report them and exit.
  const deadline = performance.now() + timeoutMs + 500;
  const wait = () => {
    if (inFlight === 0 || performance.now() > deadline) {
      flush();
      process.exit(0);
    }
    setTimeout(wait, 20);
  };
  wait();
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
tick();
