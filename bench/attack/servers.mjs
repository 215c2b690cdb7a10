// The two servers the attacks are aimed at: stripecache (dist/main.js, under the Node binary given
// by --node) and nginx serving static files from a temporary prefix, the reference row. Both are
// pinned to the server core with taskset (taskset execs, so the child's pid is the server's pid),
// bound to 127.0.0.1 only, and hold the same 1 MiB value at /store/big.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../lib/servers.mjs';

export const HOST = '127.0.0.1';
export const BIG_PATH = '/store/big';

function tail(text, n = 800) {
  return text.length > n ? text.slice(-n) : text;
}

/** Resolves once `exited` settles or the timeout passes; then kills the pid with SIGKILL. */
async function stopChild(child, exited, graceMs) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = new Promise((resolve) => setTimeout(resolve, graceMs, 'timeout'));
  if ((await Promise.race([exited, timer])) === 'timeout') {
    child.kill('SIGKILL');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
  }
}

function watchExit(child) {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** A free port on 127.0.0.1 (nginx cannot print the port it picked). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function connectOnce(port, timeoutMs) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    const done = (ok) => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Sends one request on a fresh connection and returns the status code (bounded by timeoutMs). */
function request(port, head, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: HOST, port });
    let got = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer to ${head.split('\r\n')[0]} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('connect', () => {
      s.write(head);
      if (body) s.write(body);
    });
    s.on('data', (c) => {
      got += c.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      if (m && got.includes('\r\n\r\n')) {
        clearTimeout(t);
        s.destroy();
        resolve(Number(m[1]));
      }
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

export function bigValue(bytes) {
  // Deterministic, incompressible-looking bytes: the same value on every run and server.
  const b = Buffer.alloc(bytes);
  let x = 0x9e3779b9;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/**
 * Starts `node dist/main.js --port 0 --threads N [extra]` on the server core and stores the
 * 1 MiB value. Resolves to { name, pid, port, version, stop() }.
 */
export async function startStripecache({ node, threads, serverCpu, extraArgs, value }) {
  const args = ['-c', String(serverCpu), node, path.join(ROOT, 'dist/main.js'), '--port', '0'];
  args.push('--threads', String(threads), ...extraArgs);
  const child = spawn('taskset', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = watchExit(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (c) => (err = tail(err + c, 4000)));
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`stripecache did not print its port within 15 s: ${tail(err)}`)),
      15_000,
    );
    child.stdout.on('data', (c) => {
      out += c;
      const m = /listening on [^\s]*:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(t);
      reject(new Error(`stripecache exited (${code ?? signal}) before listening: ${tail(err)}`));
    });
  });
  child.stdout.resume();
  const status = await request(
    port,
    `POST ${BIG_PATH} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nContent-Length: ${value.length}\r\nConnection: close\r\n\r\n`,
    value,
    10_000,
  );
  if (status !== 201 && status !== 200 && status !== 204) {
    await stopChild(child, exited, 12_000);
    throw new Error(`POST ${BIG_PATH} answered ${status}`);
  }
  return {
    name: 'stripecache',
    pid: child.pid,
    port,
    banner: out.split('\n')[0].trim(),
    exited,
    stderrTail: () => tail(err),
    stop: () => stopChild(child, exited, 12_000),
  };
}

/**
 * Starts nginx (worker_processes = --threads) on a free port with a temporary prefix holding
 * index.html for `GET /` and the 1 MiB value as the static file /store/big. Its own timeouts are
 * nginx's defaults (client_header_timeout 60 s, keepalive_timeout 75 s), as in the run.
 */
export async function startNginx({ threads, serverCpu, value }) {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'stripecache-attack-nginx-'));
  // nginx started as root drops its workers to `nobody`, which must be able to read the files.
  chmodSync(prefix, 0o755);
  mkdirSync(path.join(prefix, 'html/store'), { recursive: true });
  mkdirSync(path.join(prefix, 'logs'));
  writeFileSync(path.join(prefix, 'html/index.html'), 'Hello, World!');
  writeFileSync(path.join(prefix, 'html/store/big'), value);
  const port = await freePort();
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    [
      `worker_processes ${threads};`,
      `pid ${prefix}/nginx.pid;`,
      `error_log ${prefix}/logs/error.log warn;`,
      'worker_rlimit_nofile 16384;',
      'events { worker_connections 8192; }',
      'http {',
      '  access_log off;',
      `  server { listen ${HOST}:${port}; root ${prefix}/html; location / { } }`,
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn(
    'taskset',
    ['-c', String(serverCpu), 'nginx', '-p', prefix, '-c', conf, '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = watchExit(child);
  let err = '';
  child.stderr.on('data', (c) => (err = tail(err + c, 4000)));
  const deadline = Date.now() + 10_000;
  let up = false;
  while (!up && Date.now() < deadline && child.exitCode === null) {
    up = await connectOnce(port, 500);
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  const cleanup = () => rmSync(prefix, { recursive: true, force: true });
  if (!up) {
    await stopChild(child, exited, 5000);
    cleanup();
    throw new Error(`nginx did not accept on ${HOST}:${port} within 10 s: ${tail(err)}`);
  }
  return {
    name: 'nginx',
    pid: child.pid,
    port,
    banner: `nginx on ${HOST}:${port} (${threads} workers)`,
    exited,
    stderrTail: () => tail(err),
    stop: async () => {
      await stopChild(child, exited, 12_000);
      cleanup();
    },
  };
}
