import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { FLAGS, envName, parseCli, UsageError } from '../../dist/runtime/cli.js';
import { parseDuration, parseSize } from '../../dist/runtime/units.js';
import { defaultConfig, type Config } from '../../dist/base/config.js';

function run(argv: string[], env: NodeJS.ProcessEnv = {}): Config {
  const r = parseCli(argv, env);
  assert.equal(r.action, 'run');
  return (r as { config: Config }).config;
}

function rejects(argv: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}): void {
  assert.throws(
    () => parseCli(argv, env),
    (e: unknown) => {
      assert.ok(e instanceof UsageError, `expected UsageError, got ${String(e)}`);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    },
  );
}

test('the flag table and defaultConfig() agree (one set of defaults for CLI, tests, benchmarks)', () => {
  assert.deepEqual(run([]), defaultConfig());
});

test('defaults match docs/operations.md', () => {
  assert.deepEqual(run([]), {
    port: 3000,
    host: '127.0.0.1',
    threads: availableParallelism(),
    stripes: 256,
    memory: 1024 ** 3,
    maxKeys: 1_000_000,
    maxValueSize: 16 * 1024 ** 2,
    concurrencyLimit: 250,
    maxConnections: 10_000,
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
    shutdownTimeoutMs: 10_000,
    socketBuffer: 4 * 1024 ** 2,
    backlog: 4096,
    logLevel: 'info',
    pinThreads: false,
    origin: '',
    originTimeoutMs: 10_000,
    originConnections: 64,
    originMaxWaiters: 10_000,
    originTtl: 0,
    negativeTtl: 1,
    originSlice: 0,
  });
});

test('every flag is read from its flag', () => {
  const c = run([
    '--port=8080',
    '--host',
    '::1',
    '--threads',
    '3',
    '--stripes',
    '64',
    '--memory',
    '512MiB',
    '--max-keys',
    '5000',
    '--max-value-size',
    '1MB',
    '--concurrency-limit',
    '7',
    '--max-connections',
    '9',
    '--header-timeout',
    '500ms',
    '--idle-timeout',
    '2m',
    '--shutdown-timeout',
    '3',
    '--socket-buffer',
    '64KiB',
    '--backlog',
    '128',
    '--log-level',
    'debug',
    '--pin-threads',
  ]);
  assert.deepEqual(c, {
    port: 8080,
    host: '::1',
    threads: 3,
    stripes: 64,
    memory: 512 * 1024 ** 2,
    maxKeys: 5000,
    maxValueSize: 1_000_000,
    concurrencyLimit: 7,
    maxConnections: 9,
    headerTimeoutMs: 500,
    idleTimeoutMs: 120_000,
    shutdownTimeoutMs: 3000,
    socketBuffer: 65536,
    backlog: 128,
    logLevel: 'debug',
    pinThreads: true,
    origin: '',
    originTimeoutMs: 10_000,
    originConnections: 64,
    originMaxWaiters: 10_000,
    originTtl: 0,
    negativeTtl: 1,
    originSlice: 0,
  });
});

test('the --origin flags', () => {
  const c = run([
    '--origin',
    'https://tier2.internal:8443/objects',
    '--origin-timeout',
    '1500ms',
    '--origin-connections',
    '8',
    '--origin-max-waiters',
    '100',
    '--origin-ttl',
    '5m',
    '--negative-ttl',
    '0',
    '--origin-slice',
    '10MiB',
  ]);
  assert.equal(c.origin, 'https://tier2.internal:8443/objects');
  assert.equal(c.originTimeoutMs, 1500);
  assert.equal(c.originConnections, 8);
  assert.equal(c.originMaxWaiters, 100);
  assert.equal(c.originTtl, 300);
  assert.equal(c.negativeTtl, 0);
  assert.equal(c.originSlice, 10 * 1024 ** 2);
  assert.equal(run(['--origin', 'http://127.0.0.1:9000/']).origin, 'http://127.0.0.1:9000/');
  assert.equal(run([], { STRIPECACHE_ORIGIN: 'http://o:1/' }).origin, 'http://o:1/');
  rejects(['--origin', 'ftp://x/'], /--origin: 'ftp:\/\/x\/' is not an http/);
  rejects(['--origin', 'not a url'], /--origin/);
  rejects(['--origin', 'http://x/?a=1'], /query/);
  rejects(['--origin-timeout', '0'], /--origin-timeout/);
  rejects(['--origin-connections', '0'], /--origin-connections/);
  rejects(['--origin-ttl', '1500ms'], /whole number of seconds/);
  rejects(['--negative-ttl', 'x'], /--negative-ttl/);
  rejects(['--origin-slice', '0'], /--origin-slice/);
});

test('short aliases -p and -t', () => {
  const c = run(['-p', '0', '-t', '2']);
  assert.equal(c.port, 0);
  assert.equal(c.threads, 2);
});

test('every flag has a STRIPECACHE_ environment variable; the flag wins', () => {
  const env: NodeJS.ProcessEnv = {};
  for (const f of FLAGS)
    env[envName(f.flag)] =
      f.kind === 'host'
        ? '::'
        : f.kind === 'level'
          ? 'warn'
          : f.kind === 'switch'
            ? 'on'
            : f.kind === 'url'
              ? 'http://127.0.0.1:2/'
              : '2';
  const c = run([], env);
  assert.equal(c.port, 2);
  assert.equal(c.host, '::');
  assert.equal(c.threads, 2);
  assert.equal(c.stripes, 2);
  assert.equal(c.memory, 2);
  assert.equal(c.headerTimeoutMs, 2000);
  assert.equal(c.logLevel, 'warn');
  assert.equal(c.pinThreads, true);
  assert.equal(envName('--max-value-size'), 'STRIPECACHE_MAX_VALUE_SIZE');
  assert.equal(run(['--port', '9'], { STRIPECACHE_PORT: '10' }).port, 9);
  assert.equal(run([], { STRIPECACHE_PORT: '10' }).port, 10);
});

test('help and version', () => {
  assert.deepEqual(parseCli(['--help'], {}), { action: 'help' });
  assert.deepEqual(parseCli(['-h'], {}), { action: 'help' });
  assert.deepEqual(parseCli(['--version'], {}), { action: 'version' });
  assert.deepEqual(parseCli(['-v'], {}), { action: 'version' });
});

test('bad input names the flag and the problem', () => {
  rejects(['--nope'], /--nope/);
  rejects(['--port'], /--port/);
  rejects(['stray'], /unexpected argument 'stray'/);
  rejects(['--port', 'abc'], /--port: 'abc' is not a port number/);
  rejects(['--port', '65536'], /--port: '65536' is not a port number/);
  rejects(['--port', '-1'], /--port/);
  rejects(['--port', '80.5'], /--port/);
  rejects(['--threads', '0'], /--threads: '0' is below the minimum of 1/);
  rejects(['--threads', 'many'], /--threads: 'many' is not a whole number/);
  rejects(['--stripes', '3'], /--stripes: '3' is not a power of two/);
  rejects(['--memory', '1XB'], /--memory: '1XB' is not a size/);
  rejects(['--memory', '0'], /--memory: '0' is below the minimum/);
  rejects(['--max-value-size', 'big'], /--max-value-size/);
  rejects(['--header-timeout', '10h'], /--header-timeout: '10h' is not a duration/);
  rejects(['--idle-timeout', 'soon'], /--idle-timeout/);
  rejects(['--shutdown-timeout', '-5s'], /--shutdown-timeout/);
  rejects(['--socket-buffer', '5GiB'], /--socket-buffer: '5GiB' is above the maximum/);
  rejects(['--backlog', '0'], /--backlog/);
  rejects(['--max-keys', '1e6'], /--max-keys/);
  rejects(['--concurrency-limit', ''], /--concurrency-limit/);
  rejects(['--max-connections', '0'], /--max-connections/);
  rejects(['--host', 'example.com'], /--host: 'example.com' is not an IPv4 or IPv6 address/);
  rejects(['--log-level', 'loud'], /--log-level: 'loud' is not one of error, warn, info, debug/);
  rejects([], /STRIPECACHE_PORT: 'x'/, { STRIPECACHE_PORT: 'x' });
});

test('sizes and durations', () => {
  assert.equal(parseSize('100'), 100);
  assert.equal(parseSize('4KiB'), 4096);
  assert.equal(parseSize('1.5MiB'), 1572864);
  assert.equal(parseSize('2GB'), 2e9);
  assert.equal(parseSize('3kb'), 3000);
  assert.ok(Number.isNaN(parseSize('MiB')));
  assert.ok(Number.isNaN(parseSize('-1')));
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('2'), 2000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('1m'), 60000);
  assert.ok(Number.isNaN(parseDuration('1h')));
});

test('--pin-threads: a switch, off by default; the flag alone turns it on', () => {
  assert.equal(run([]).pinThreads, false);
  assert.equal(run(['--pin-threads']).pinThreads, true);
  assert.equal(run([], { STRIPECACHE_PIN_THREADS: 'off' }).pinThreads, false);
  assert.throws(() => parseCli([], { STRIPECACHE_PIN_THREADS: 'sometimes' }), /STRIPECACHE_PIN_THREADS/);
});
