import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import http from 'node:http';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { MAIN, startServer, type RunningServer } from '../helpers/server.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [MAIN, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

function get(
  port: number,
  path: string,
  agent: http.Agent | false = false,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Waits (bounded) until the server says `n` uploads are in progress: the partial body was read. */
async function untilUploading(port: number, n: number): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const m = await get(port, '/metrics');
    const v = /^stripecache_connections_uploading (\d+)$/m.exec(m.body);
    if (v !== null && Number(v[1]) >= n) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${n} upload(s) in progress`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('--help and --version exit 0', () => {
  const help = runCli(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: stripecache/);
  for (const flag of ['--port', '--threads', '--memory', '--max-value-size', '--log-level']) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  const v = runCli(['-v']);
  assert.equal(v.status, 0);
  assert.equal(v.stdout.trim(), version);
});

test('bad flags exit 2 with one line naming the problem', () => {
  for (const [args, pattern] of [
    [['--bogus'], /--bogus/],
    [['--port', '70000'], /--port: '70000'/],
    [['--stripes', '6'], /--stripes: '6' is not a power of two/],
    [['--memory', 'lots'], /--memory: 'lots'/],
    [['--header-timeout', '1y'], /--header-timeout/],
    [['--memory', '64KiB'], /--memory/],
  ] as const) {
    const r = runCli([...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^stripecache: /);
    assert.match(lines[0]!, pattern);
  }
  const env = runCli([], { STRIPECACHE_THREADS: 'zero' });
  assert.equal(env.status, 2);
  assert.match(env.stderr, /STRIPECACHE_THREADS: 'zero'/);
});

test('a port already in use exits 1 with a clear line', async () => {
  const other = net.createServer();
  other.listen(0, '127.0.0.1');
  await once(other, 'listening');
  const { port } = other.address() as net.AddressInfo;
  try {
    const r = runCli(['--port', String(port), '--threads', '2']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr.trim(), new RegExp(`^stripecache: port ${port} on 127.0.0.1 is already in use`));
    assert.equal(r.stderr.trim().split('\n').length, 1);
  } finally {
    other.close();
  }
});

test('environment variables configure the server', async () => {
  const s = await startServer([], { env: { STRIPECACHE_THREADS: '3', STRIPECACHE_LOG_LEVEL: 'error' } });
  try {
    assert.equal((await get(s.port, '/')).body, 'Hello, World!');
    assert.equal(s.stderr(), '', 'nothing logged at error on a clean start');
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('--threads 4: four listening sockets, connections spread over threads', async () => {
  const s = await startServer(['--threads', '4', '--backlog', '1000']);
  try {
    const ss = execFileSync('ss', ['-ltnH', `sport = :${s.port}`], { encoding: 'utf8' });
    assert.equal(ss.trim().split('\n').length, 4, ss);
    // For a listening socket ss shows the backlog in Send-Q: --backlog capped by somaxconn.
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    for (const line of ss.trim().split('\n')) {
      assert.equal(Number(line.trim().split(/\s+/)[2]), Math.min(1000, somaxconn), line);
    }

    // 200 separate connections; each response says which thread served it.
    const threads = new Set<string>();
    const batch = Array.from({ length: 200 }, () => get(s.port, '/healthz'));
    const results = await Promise.all(batch);
    assert.ok(results.every((r) => r.status === 200));
    const metrics = (await get(s.port, '/metrics')).body;
    for (const line of metrics.split('\n')) {
      const m = /^stripecache_connections_accepted_total\{thread="(\d+)"\} (\d+)/.exec(line);
      if (m && Number(m[2]) > 0) threads.add(m[1]!);
    }
    assert.ok(threads.size > 1, `connections landed on ${threads.size} thread(s):\n${metrics}`);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('SIGTERM with a slow request in flight: it completes, then exit 0', async () => {
  const s = await startServer(['--threads', '2', '--shutdown-timeout', '5s']);
  const sock = net.connect(s.port, '127.0.0.1');
  await once(sock, 'connect');
  let reply = '';
  sock.setEncoding('utf8').on('data', (d: string) => (reply += d));
  sock.write('POST /store/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234');
  await untilUploading(s.port, 1);
  const exit = once(s.proc, 'exit');
  s.proc.kill('SIGTERM');
  await waitFor('shutdown to begin', () => s.stderr().includes('shutting down'));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(s.proc.exitCode, null, 'still draining the slow request');
  sock.write('56789');
  const [code] = await Promise.race([
    exit,
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no exit within 5 s')), 5000)),
  ]);
  assert.equal(code, 0);
  assert.match(reply, /^HTTP\/1\.1 201 /);
  assert.match(reply, /\r\nconnection: close\r\n/i);
  sock.destroy();
});

test('a second signal exits at once', async () => {
  const s = await startServer(['--threads', '1', '--shutdown-timeout', '30s']);
  const sock = net.connect(s.port, '127.0.0.1');
  await once(sock, 'connect');
  sock.write('POST /store/held HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0');
  await untilUploading(s.port, 1);
  const exit = once(s.proc, 'exit');
  const t0 = Date.now();
  s.proc.kill('SIGTERM');
  await waitFor('shutdown to begin', () => s.stderr().includes('shutting down'));
  s.proc.kill('SIGTERM');
  const [code] = await exit;
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(code, 143);
  sock.destroy();
});

test('the shutdown timeout bounds the drain; exit 0', async () => {
  const s = await startServer(['--threads', '2', '--shutdown-timeout', '1s']);
  const sock = net.connect(s.port, '127.0.0.1');
  await once(sock, 'connect');
  sock.on('error', () => {});
  sock.write('POST /store/stuck HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0');
  await untilUploading(s.port, 1);
  const t0 = Date.now();
  const exit = once(s.proc, 'exit');
  s.proc.kill('SIGTERM');
  const [code] = await exit;
  const took = Date.now() - t0;
  assert.equal(code, 0);
  // Bounded by the 1 s shutdown timeout, not by the stuck upload (the header and idle timeouts
  // are 10 s and 60 s): the margin is for a busy machine, not a speed claim.
  assert.ok(took < 5000, `took ${took} ms`);
  sock.destroy();
});

test('a worker that dies is replaced; the server keeps answering', async () => {
  const s: RunningServer = await startServer(['--threads', '2', '--log-level', 'info'], {
    env: { STRIPECACHE_TEST_HOOKS: '1' },
  });
  try {
    const put = await fetch(`http://127.0.0.1:${s.port}/store/survivor`, {
      method: 'PUT',
      body: 'still here',
    });
    assert.equal(put.status, 201);
    s.proc.kill('SIGUSR2');
    await waitFor('the death to be logged', () => s.stderr().includes('thread died; restarting it'));
    // The dead thread's listener is closed: every new connection lands on a live thread.
    for (let i = 0; i < 20; i++) assert.equal((await get(s.port, '/get/survivor')).body, 'still here');
    await waitFor('the restart', () => s.stderr().includes('thread restarted'));
    const ss = execFileSync('ss', ['-ltnH', `sport = :${s.port}`], { encoding: 'utf8' });
    assert.equal(ss.trim().split('\n').length, 2, ss);
    for (let i = 0; i < 20; i++) assert.equal((await get(s.port, '/get/survivor')).body, 'still here');
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('the npm bin is dist/main.js with a node shebang', async () => {
  const pkg = createRequire(import.meta.url)('../../package.json') as { bin: Record<string, string> };
  assert.equal(pkg.bin.stripecache, 'dist/main.js');
  const { readFile } = await import('node:fs/promises');
  assert.match(await readFile(MAIN, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});
