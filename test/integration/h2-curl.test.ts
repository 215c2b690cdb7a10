import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer } from '../helpers/server.js';

/** The README's curl examples, each with --http2-prior-knowledge (one URL per call). */

let curl = true;
try {
  execFileSync('curl', ['--version'], { stdio: 'ignore' });
} catch {
  curl = false;
}

let s: RunningServer;
let dir = '';
before(async () => {
  s = await startServer(['--threads', '2', '--memory', '64MiB']);
  dir = mkdtempSync(path.join(os.tmpdir(), 'h2-curl-'));
  writeFileSync(path.join(dir, 'chunk.bin'), Buffer.alloc(188 * 7, 0x47));
  writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 0x62));
});
after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface CurlResult {
  version: string;
  status: number;
  head: string;
  body: string;
}

function h2curl(args: string[]): Promise<CurlResult> {
  const url = (p: string): string => `http://127.0.0.1:${s.port}${p}`;
  const full = [
    '-s',
    '--http2-prior-knowledge',
    '--max-time',
    '10',
    '-D',
    '-',
    '-w',
    '\n%{http_version} %{http_code}',
  ];
  for (const a of args) full.push(a.startsWith('/') ? url(a) : a);
  return new Promise((resolve, reject) => {
    execFile('curl', full, { cwd: dir, encoding: 'latin1', maxBuffer: 16 * 1024 * 1024 }, (err, out) => {
      if (err) return reject(err);
      const nl = out.lastIndexOf('\n');
      const [version, code] = out.slice(nl + 1).split(' ');
      const text = out.slice(0, nl);
      const end = text.indexOf('\r\n\r\n');
      resolve({
        version: version!,
        status: Number(code),
        head: text.slice(0, end),
        body: text.slice(end + 4),
      });
    });
  });
}

test(
  'curl --http2-prior-knowledge against the README examples',
  { skip: !curl && 'curl not installed' },
  async () => {
    const root = await h2curl(['/']);
    assert.equal(root.version, '2');
    assert.equal(root.status, 200);
    assert.equal(root.body, 'Hello, World!');
    const up = await h2curl([
      '-X',
      'POST',
      '--data-binary',
      '@chunk.bin',
      '-H',
      'Content-Type: video/mp2t',
      '/store/videos/42/chunk-0007',
    ]);
    assert.equal(up.status, 201);
    assert.equal((await h2curl(['-X', 'PUT', '--data', 'hello', '/store/greeting?ttl=60'])).status, 201);
    const get = await h2curl(['-i', '/get/greeting']);
    assert.equal(get.status, 200);
    assert.match(get.head, /^HTTP\/2 200/);
    assert.match(get.head, /etag: "[0-9a-f]{16}"/);
    const etag = /etag: ("[0-9a-f]{16}")/.exec(get.head)![1]!;
    const head = await h2curl(['-I', '/get/greeting']);
    assert.equal(head.status, 200);
    assert.match(head.head, /content-length: 5/);
    const r1 = await h2curl(['-H', 'Range: bytes=0-3', '/get/greeting']);
    assert.equal(r1.status, 206);
    assert.equal(r1.body, 'hell');
    const r2 = await h2curl(['-H', 'Range: bytes=-2', '/get/greeting']);
    assert.equal(r2.status, 206);
    assert.equal(r2.body, 'lo');
    assert.equal((await h2curl(['-H', `If-None-Match: ${etag}`, '-i', '/get/greeting'])).status, 304);
    assert.equal((await h2curl(['-X', 'DELETE', '-i', '/store/greeting'])).status, 204);
    // curl sends no Transfer-Encoding over HTTP/2 (DATA frames carry the body without a length).
    const big = await h2curl([
      '-X',
      'POST',
      '-H',
      'Transfer-Encoding: chunked',
      '--data-binary',
      '@big.bin',
      '/store/big',
    ]);
    assert.equal(big.status, 201);
    const bigGet = await h2curl(['-I', '/get/big']);
    assert.match(bigGet.head, new RegExp(`content-length: ${3 * 1024 * 1024}`));
    assert.equal((await h2curl(['/get/%FF%00binary-key'])).status, 404);
    assert.equal((await h2curl(['/healthz'])).body, 'ok\n');
    const metrics = await h2curl(['/metrics']);
    assert.match(metrics.body, /stripecache_requests_by_protocol_total\{protocol="h2"\} [1-9]/);
    assert.equal(
      (await h2curl(['/get/videos/42/chunk-0007'])).body,
      Buffer.alloc(188 * 7, 0x47).toString('latin1'),
    );
  },
);
