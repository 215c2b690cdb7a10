// A small pipelining HTTP/1.1 client for preloading keys and checking servers before a run.
// Preloading 10,000 keys through fetch() would take longer than the measurement itself; here a
// few keep-alive connections each keep `depth` requests in flight and only statuses are kept.
import net from 'node:net';

/** Builds one request as bytes. */
export function httpRequest(method, path, { host = 'bench', headers = {}, body } = {}) {
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (body !== undefined) head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  return body === undefined
    ? Buffer.from(head, 'latin1')
    : Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Parses as many complete responses as `buf` holds from `pos`. Returns the new position and calls
 * onResponse(status, headersText, body) for each. Handles Content-Length and chunked bodies.
 */
export function parseResponses(buf, pos, onResponse, expectBody = () => true) {
  for (;;) {
    const end = buf.indexOf(CRLFCRLF, pos);
    if (end === -1) return pos;
    const head = buf.toString('latin1', pos, end);
    const status = Number(head.slice(9, 12));
    const bodyStart = end + 4;
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (status === 100) {
      pos = bodyStart;
      continue;
    }
    if (!expectBody(status) || status === 204 || status === 304) {
      onResponse(status, head, buf.subarray(bodyStart, bodyStart));
      pos = bodyStart;
      continue;
    }
    if (cl !== null) {
      const bodyEnd = bodyStart + Number(cl[1]);
      if (bodyEnd > buf.length) return pos;
      onResponse(status, head, buf.subarray(bodyStart, bodyEnd));
      pos = bodyEnd;
      continue;
    }
    if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const parts = [];
      let p = bodyStart;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', p);
        if (lineEnd === -1) return pos;
        const size = parseInt(buf.toString('latin1', p, lineEnd), 16);
        if (size === 0) {
          if (lineEnd + 4 > buf.length) return pos;
          p = lineEnd + 4;
          break;
        }
        if (lineEnd + 2 + size + 2 > buf.length) return pos;
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 2 + size + 2;
      }
      onResponse(status, head, Buffer.concat(parts));
      pos = p;
      continue;
    }
    onResponse(status, head, buf.subarray(bodyStart, bodyStart));
    pos = bodyStart;
  }
}

/**
 * Sends `count` requests (make(i) returns request i as a Buffer) over `connections` keep-alive
 * connections, `depth` in flight on each, and resolves with a count per status. Rejects on a
 * socket error or after `timeoutMs`.
 */
export function sendAll(host, port, count, make, { connections = 8, depth = 32, timeoutMs = 120_000 } = {}) {
  const statuses = {};
  let next = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    if (count === 0) return resolve(statuses);
    const sockets = [];
    const timer = setTimeout(() => {
      for (const s of sockets) s.destroy();
      reject(new Error(`preload timed out after ${timeoutMs} ms (${done}/${count} answered)`));
    }, timeoutMs);
    const finish = (err) => {
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      if (err) reject(err);
      else resolve(statuses);
    };
    const open = Math.min(connections, count);
    for (let c = 0; c < open; c++) {
      const sock = net.connect({ host, port, noDelay: true });
      sockets.push(sock);
      let inFlight = 0;
      let buf = Buffer.alloc(0);
      const fill = () => {
        const batch = [];
        while (inFlight < depth && next < count) {
          batch.push(make(next++));
          inFlight++;
        }
        if (batch.length > 0) sock.write(batch.length === 1 ? batch[0] : Buffer.concat(batch));
      };
      sock.on('connect', fill);
      sock.on('data', (chunk) => {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        const pos = parseResponses(buf, 0, (status) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          inFlight--;
          done++;
        });
        buf = buf.subarray(pos);
        if (done === count) finish();
        else fill();
      });
      sock.on('error', (e) => finish(new Error(`preload connection failed: ${e.message}`)));
      sock.on('close', () => {
        if (inFlight > 0 && done < count) finish(new Error('server closed a preload connection'));
      });
    }
  });
}

/** One request on its own connection; resolves with { status, head, body }. */
export function fetchOne(host, port, request, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('no answer within ' + timeoutMs + ' ms'));
    }, timeoutMs);
    sock.on('connect', () => sock.write(request));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const isHead = request.subarray(0, 5).toString('latin1') === 'HEAD ';
      parseResponses(
        buf,
        0,
        (status, head, body) => {
          clearTimeout(timer);
          sock.destroy();
          resolve({ status, head, body: Buffer.from(body) });
        },
        () => !isHead,
      );
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
