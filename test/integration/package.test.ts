import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackFile {
  path: string;
}

// --ignore-scripts: `prepare` would rebuild dist/ while other test files run servers from it;
// `npm test` has built it already.
async function npm(args: string[], cwd: string, timeout = 120_000): Promise<string> {
  const { stdout } = await run(NPM, args, { cwd, timeout, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

let dir: string;
let tarball: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'stripecache-pack-'));
  await npm(['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], ROOT);
  const tgz = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
  assert.equal(tgz.length, 1, `one tarball in ${dir}: ${tgz.join(', ')}`);
  tarball = path.join(dir, tgz[0]!);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the package ships the server and the client, and nothing of tests, benchmarks or sources', async () => {
  const [pack] = JSON.parse(await npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT)) as [
    { files: PackFile[] },
  ];
  const files = pack.files.map((f) => f.path);
  for (const needed of [
    'package.json',
    'dist/main.js',
    'dist/client/index.js',
    'dist/client/index.d.ts',
    'dist/client/client.d.ts',
    'docs/client.md',
  ]) {
    assert.ok(files.includes(needed), `${needed} is shipped`);
  }
  const unwanted = files.filter(
    (f) => /^(test|bench|dist-test|src|node_modules)\//.test(f) || f.endsWith('.map'),
  );
  assert.deepEqual(unwanted, []);
});

test('installed from its tarball: the bin serves and stripecache/client talks to it', async () => {
  const app = path.join(dir, 'app');
  mkdirSync(app);
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module' }),
  );
  // The dependencies come from the npm cache when it has them (no network needed then).
  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], app, 240_000);

  const bin = path.join(app, 'node_modules', '.bin', 'stripecache');
  const server = spawn(bin, ['--port', '0', '--threads', '1', '--memory', '16MiB', '--max-keys', '1000'], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(server, 'exit');
  try {
    let out = '';
    let err = '';
    server.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`installed bin printed no port in 15 s:\n${err}`)),
        15_000,
      );
      server.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /listening on \S+:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      void exited.then(([code]) => {
        clearTimeout(timer);
        reject(new Error(`installed bin exited with ${String(code)}:\n${err}`));
      });
    });

    // The user's script resolves both entry points through the package's exports.
    writeFileSync(
      path.join(app, 'use.mjs'),
      [
        "import { Client, StripecacheError } from 'stripecache/client';",
        'const client = new Client(`http://127.0.0.1:${process.argv[2]}`);',
        "const set = await client.set(Buffer.from([0x6b, 0x2f, 0x25, 0xff]), 'from the tarball', { contentType: 'text/plain' });",
        'const got = await client.get(Buffer.from([0x6b, 0x2f, 0x25, 0xff]));',
        "const miss = await client.get('absent');",
        'await client.close();',
        'console.log(JSON.stringify({',
        '  created: set.created,',
        "  body: got.body.toString('utf8'),",
        '  contentType: got.contentType,',
        '  miss: miss === undefined,',
        "  errorClass: typeof StripecacheError === 'function',",
        "  main: import.meta.resolve('stripecache'),",
        '}));',
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, ['use.mjs', String(port)], { cwd: app, timeout: 30_000 });
    const result = JSON.parse(stdout) as Record<string, unknown>;
    assert.deepEqual(
      { ...result, main: undefined },
      {
        created: true,
        body: 'from the tarball',
        contentType: 'text/plain',
        miss: true,
        errorClass: true,
        main: undefined,
      },
    );
    assert.equal(
      fileURLToPath(String(result['main'])),
      path.join(app, 'node_modules', 'stripecache', 'dist', 'main.js'),
    );

    // The types resolve the way a TypeScript user's would (NodeNext reads the "types" condition).
    writeFileSync(
      path.join(app, 'use.ts'),
      [
        "import { Client, type Entry, PayloadTooLargeError } from 'stripecache/client';",
        "const client = new Client('http://127.0.0.1:1', { pipelining: 4 });",
        "const entry: Entry<Buffer> | undefined = await client.get('k', { range: [0, 9] });",
        'const size: number | undefined = entry?.length;',
        "const status: number = new PayloadTooLargeError(413, 'm', 'PUT', '/store/k').status;",
        'export { size, status };',
      ].join('\n'),
    );
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          typeRoots: [path.join(ROOT, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['use.ts'],
      }),
    );
    await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], {
      cwd: app,
      timeout: 60_000,
    });
  } finally {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }
});
