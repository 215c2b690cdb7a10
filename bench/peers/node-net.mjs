// Probe, not a peer server: the least a Node process can do to answer a GET from a
// SharedArrayBuffer. node:net, a request scanner that knows only what the benchmarks send (request
// line, Content-Length), values kept in one SharedArrayBuffer, every answer written as its cached
// head plus a view of the value (no copy). No HTTP conformance, no eviction, no limits beyond the
// arena: it exists to show which part of stripecache's cost on big values is Node's own socket
// path (libuv, the stream binding, the kernel work a write from JS causes) and which is
// stripecache's. It runs on the same Node binary as stripecache (bench/lib/servers.mjs), so the
// two are compared on equal runtimes; uWebSockets.js is the native yardstick beside them.
import net from 'node:net';
import { parseFlags, announce, HELLO, nextEtag } from './common.mjs';

const { port, host } = parseFlags(process.argv.slice(2));
const ARENA = Number(process.env.NODE_NET_PROBE_ARENA_MIB || 768) * 1024 * 1024;
const arena = Buffer.from(new SharedArrayBuffer(ARENA));
let top = 0;
/** key -> { head, body }: head is the whole 200 head, body a view of the arena. */
const store = new Map();

const CRLF2 = Buffer.from('\r\n\r\n');
const text = (status, body) =>
  Buffer.from(
    `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
const HELLO_ANSWER = text('200 OK', HELLO);
const OK_ANSWER = text('200 OK', 'ok\n');
const NOT_FOUND = text('404 Not Found', 'not found\n');
const STORED = text('201 Created', 'stored\n');
const FULL = text('507 Insufficient Storage', 'probe arena full\n');
const BAD = text('400 Bad Request', 'bad request\n');

function contentLength(head) {
  const m = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  return m === null ? 0 : Number(m[1]);
}

function put(key, body) {
  const old = store.get(key);
  // An overwrite that fits reuses its bytes: the write benchmarks overwrite the same keys.
  let at;
  if (old !== undefined && old.cap >= body.length) at = old.at;
  else if (top + body.length <= ARENA) {
    at = top;
    top += body.length;
  } else return false;
  body.copy(arena, at);
  const head = Buffer.from(
    `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nETag: ${nextEtag()}\r\nContent-Length: ${body.length}\r\n\r\n`,
  );
  store.set(key, { head, body: arena.subarray(at, at + body.length), at, cap: old?.cap ?? body.length });
  return true;
}

function serve(socket) {
  let pending = null;
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    let buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    pending = null;
    socket.cork();
    for (;;) {
      const end = buf.indexOf(CRLF2);
      if (end < 0) break;
      const head = buf.latin1Slice(0, end);
      const body = contentLength(head);
      if (buf.length < end + 4 + body) break;
      const sp1 = head.indexOf(' ');
      const sp2 = head.indexOf(' ', sp1 + 1);
      if (sp1 < 0 || sp2 < 0) {
        socket.end(BAD);
        return;
      }
      const method = head.slice(0, sp1);
      const target = head.slice(sp1 + 1, sp2);
      if (method === 'GET' && target.startsWith('/get/')) {
        const e = store.get(decodeURIComponent(target.slice(5)));
        if (e === undefined) socket.write(NOT_FOUND);
        else {
          socket.write(e.head);
          socket.write(e.body);
        }
      } else if ((method === 'POST' || method === 'PUT') && target.startsWith('/store/')) {
        const ok = put(decodeURIComponent(target.slice(7)), buf.subarray(end + 4, end + 4 + body));
        socket.write(ok ? STORED : FULL);
      } else if (method === 'GET' && target === '/') socket.write(HELLO_ANSWER);
      else if (method === 'GET' && target === '/healthz') socket.write(OK_ANSWER);
      else socket.write(NOT_FOUND);
      buf = buf.subarray(end + 4 + body);
      if (buf.length === 0) break;
    }
    socket.uncork();
    // a view is enough: Node hands every data event a fresh chunk, and the next concat copies it
    if (buf.length > 0) pending = buf;
  });
}

const server = net.createServer({ noDelay: true }, serve);
server.listen(port, host, () => announce(host, server.address().port));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
