import arg from 'arg';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Config, LogLevel } from '../base/config.js';
import { parseDuration, parseInteger, parseSize } from './units.js';

type Kind = 'port' | 'int' | 'pow2' | 'size' | 'duration' | 'seconds' | 'host' | 'level' | 'url' | 'switch';

interface FlagDef {
  readonly flag: string;
  readonly alias?: string;
  readonly key: keyof Config;
  readonly kind: Kind;
  /** Default as a user would write it, parsed like user input. */
  readonly def: () => string;
  readonly min?: number;
  readonly max?: number;
  readonly help: string;
}

const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
const INT32_MAX = 2 ** 31 - 1;

/** One table drives parsing, environment variables and --help; docs/operations.md "Flags" lists it. */
export const FLAGS: readonly FlagDef[] = [
  {
    flag: '--port',
    alias: '-p',
    key: 'port',
    kind: 'port',
    def: () => '3000',
    help: 'TCP port (0 picks a free one)',
  },
  { flag: '--host', key: 'host', kind: 'host', def: () => '127.0.0.1', help: 'address to bind (:: for all)' },
  {
    flag: '--threads',
    alias: '-t',
    key: 'threads',
    kind: 'int',
    def: () => String(availableParallelism()),
    min: 1,
    max: 1024,
    help: 'event-loop threads, each with its own listener',
  },
  {
    flag: '--stripes',
    key: 'stripes',
    kind: 'pow2',
    def: () => '256',
    min: 1,
    max: 65536,
    help: 'lock stripes of the store (power of two; 1 = one global lock)',
  },
  {
    flag: '--memory',
    key: 'memory',
    kind: 'size',
    def: () => '1GiB',
    min: 1,
    help: 'memory budget of the store',
  },
  {
    flag: '--max-keys',
    key: 'maxKeys',
    kind: 'int',
    def: () => '1000000',
    min: 1,
    max: 2 ** 30,
    help: 'index capacity, preallocated',
  },
  {
    flag: '--max-value-size',
    key: 'maxValueSize',
    kind: 'size',
    def: () => '16MiB',
    min: 1,
    max: INT32_MAX,
    help: 'largest storable value',
  },
  {
    flag: '--concurrency-limit',
    key: 'concurrencyLimit',
    kind: 'int',
    def: () => '250',
    min: 1,
    max: INT32_MAX,
    help: 'requests in progress at once (uploads at most half); more wait unread',
  },
  {
    flag: '--max-connections',
    key: 'maxConnections',
    kind: 'int',
    def: () => '10000',
    min: 1,
    max: INT32_MAX,
    help: 'hard cap across threads; beyond it 503 and close',
  },
  {
    flag: '--header-timeout',
    key: 'headerTimeoutMs',
    kind: 'duration',
    def: () => '10s',
    min: 1,
    max: INT32_MAX,
    help: 'time allowed for a complete request head',
  },
  {
    flag: '--idle-timeout',
    key: 'idleTimeoutMs',
    kind: 'duration',
    def: () => '60s',
    min: 1,
    max: INT32_MAX,
    help: 'keep-alive idle time before the server closes',
  },
  {
    flag: '--shutdown-timeout',
    key: 'shutdownTimeoutMs',
    kind: 'duration',
    def: () => '10s',
    min: 0,
    max: INT32_MAX,
    help: 'drain time on SIGINT/SIGTERM',
  },
  {
    flag: '--socket-buffer',
    key: 'socketBuffer',
    kind: 'size',
    def: () => '4MiB',
    min: 0,
    max: INT32_MAX,
    help: 'SO_SNDBUF and SO_RCVBUF (kernel caps apply); 0: kernel defaults, autotuned',
  },
  {
    flag: '--backlog',
    key: 'backlog',
    kind: 'int',
    def: () => '4096',
    min: 1,
    max: 65535,
    help: 'listen backlog (kernel caps it at somaxconn)',
  },
  {
    flag: '--log-level',
    key: 'logLevel',
    kind: 'level',
    def: () => 'info',
    help: 'error, warn, info or debug',
  },
  {
    flag: '--pin-threads',
    key: 'pinThreads',
    kind: 'switch',
    def: () => 'off',
    help: 'pin worker thread i to one core, round robin over the allowed set (the flag alone: on)',
  },
  {
    flag: '--origin',
    key: 'origin',
    kind: 'url',
    def: () => 'none',
    help: 'read-through origin URL (http:// or https://); the key is appended',
  },
  {
    flag: '--origin-timeout',
    key: 'originTimeoutMs',
    kind: 'duration',
    def: () => '10s',
    min: 1,
    max: INT32_MAX,
    help: 'time for the origin to start answering and to finish',
  },
  {
    flag: '--origin-connections',
    key: 'originConnections',
    kind: 'int',
    def: () => '64',
    min: 1,
    max: 65535,
    help: 'keep-alive connections to the origin, per thread',
  },
  {
    flag: '--origin-max-waiters',
    key: 'originMaxWaiters',
    kind: 'int',
    def: () => '10000',
    min: 1,
    max: INT32_MAX,
    help: 'requests that may wait for one in-flight origin fetch',
  },
  {
    flag: '--origin-ttl',
    key: 'originTtl',
    kind: 'seconds',
    def: () => 'none',
    min: 0,
    max: 10 * 366 * 24 * 3600,
    help: 'TTL of origin values without max-age (none: no expiry)',
  },
  {
    flag: '--negative-ttl',
    key: 'negativeTtl',
    kind: 'seconds',
    def: () => '1s',
    min: 0,
    max: 10 * 366 * 24 * 3600,
    help: 'how long an origin 404/410 is remembered (0: not at all)',
  },
  {
    flag: '--origin-slice',
    key: 'originSlice',
    kind: 'size',
    def: () => 'none',
    min: 1,
    max: INT32_MAX,
    help: 'cache origin objects in slices of this size, fetched with Range',
  },
];

/** A bad flag, value or environment variable: main.ts prints it and exits 2. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

export type CliResult = { action: 'run'; config: Config } | { action: 'help' } | { action: 'version' };

/** `--max-value-size` -> `STRIPECACHE_MAX_VALUE_SIZE` */
export function envName(flag: string): string {
  return 'STRIPECACHE_' + flag.slice(2).toUpperCase().replace(/-/g, '_');
}

/** Parses argv (without node and script) and the environment; throws UsageError naming the flag. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliResult {
  const spec: arg.Spec = { '--help': Boolean, '-h': '--help', '--version': Boolean, '-v': '--version' };
  for (const f of FLAGS) {
    spec[f.flag] = f.kind === 'switch' ? Boolean : String;
    if (f.alias) spec[f.alias] = f.flag;
  }
  let parsed: arg.Result<arg.Spec>;
  try {
    parsed = arg(spec, { argv: [...argv] });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (parsed._.length > 0) throw new UsageError(`unexpected argument '${parsed._[0]}' (flags start with --)`);
  if (parsed['--help']) return { action: 'help' };
  if (parsed['--version']) return { action: 'version' };

  const config: Record<string, unknown> = {};
  for (const f of FLAGS) {
    const given = parsed[f.flag] as string | boolean | undefined;
    const fromFlag = given === true ? 'on' : given === false ? undefined : given;
    const fromEnv = env[envName(f.flag)];
    const source = fromFlag !== undefined ? f.flag : fromEnv !== undefined ? envName(f.flag) : undefined;
    const text = fromFlag ?? fromEnv ?? f.def();
    config[f.key] = parseValue(f, text, source ?? `default of ${f.flag}`);
  }
  const c = config as unknown as Config;
  // Each slice is one store value.
  if (c.originSlice > c.maxValueSize) {
    throw new UsageError(
      `--origin-slice: ${c.originSlice} bytes is over --max-value-size (${c.maxValueSize})`,
    );
  }
  return { action: 'run', config: c };
}

const SWITCH_ON = ['on', 'true', 'yes', '1'];
const SWITCH_OFF = ['off', 'false', 'no', '0'];

function parseValue(f: FlagDef, text: string, source: string): number | string | boolean {
  const bad = (why: string): never => {
    throw new UsageError(`${source}: '${text}' ${why}`);
  };
  const inRange = (n: number, what: string): number => {
    if (!Number.isFinite(n)) bad(`is not ${what}`);
    if (f.min !== undefined && n < f.min) bad(`is below the minimum of ${f.min}`);
    if (f.max !== undefined && n > f.max) bad(`is above the maximum of ${f.max}`);
    return n;
  };
  switch (f.kind) {
    case 'port': {
      const n = parseInteger(text);
      if (!Number.isInteger(n) || n > 65535) bad('is not a port number from 0 to 65535');
      return n;
    }
    case 'int':
      return inRange(parseInteger(text), 'a whole number');
    case 'pow2': {
      const n = inRange(parseInteger(text), 'a whole number');
      if ((n & (n - 1)) !== 0) bad('is not a power of two');
      return n;
    }
    case 'size':
      if (text === 'none' && f.def() === 'none') return 0;
      return inRange(parseSize(text), 'a size (e.g. 512MiB, 1GiB, 4096)');
    case 'seconds': {
      // Stored as whole seconds, the store's TTL unit; 'none' (where it is the default) is 0.
      if (text === 'none' && f.def() === 'none') return 0;
      const ms = parseDuration(text);
      if (Number.isFinite(ms) && ms % 1000 !== 0) bad('is not a whole number of seconds');
      return inRange(ms / 1000, 'a duration (e.g. 1s, 30s, 5m)');
    }
    case 'url': {
      if (text === 'none' || text === '') return '';
      let u: URL;
      try {
        u = new URL(text);
      } catch {
        return bad('is not a URL (e.g. http://origin.internal:8080/objects/)');
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') bad('is not an http:// or https:// URL');
      if (u.search !== '' || u.hash !== '') bad('must not have a query or fragment (the key is appended)');
      if (u.username !== '' || u.password !== '') bad('must not carry credentials');
      return u.href;
    }
    case 'duration':
      return inRange(parseDuration(text), 'a duration (e.g. 500ms, 10s, 2m)');
    case 'host': {
      const host = text === 'localhost' ? '127.0.0.1' : text.replace(/^\[(.*)\]$/, '$1');
      if (isIP(host) === 0) bad('is not an IPv4 or IPv6 address');
      return host;
    }
    case 'level':
      if (!(LEVELS as readonly string[]).includes(text)) bad(`is not one of ${LEVELS.join(', ')}`);
      return text;
    case 'switch':
      if (SWITCH_ON.includes(text)) return true;
      if (SWITCH_OFF.includes(text)) return false;
      return bad(`is not on or off`);
  }
}

export function usage(version: string): string {
  const lines = [
    `stripecache ${version}: HTTP/1.1 in-memory key-value cache`,
    '',
    'Usage: stripecache [flags]   (node dist/main.js [flags])',
    '',
    'Flags (each also read from the environment variable shown; the flag wins):',
  ];
  for (const f of FLAGS) {
    const name = (f.alias ? `${f.alias}, ` : '    ') + f.flag;
    lines.push(`  ${name.padEnd(24)} ${f.help} (default ${f.def()}; ${envName(f.flag)})`);
  }
  lines.push('  -h, --help               this text', '  -v, --version            the version');
  lines.push('', 'Sizes: B, KiB, MiB, GiB (KB, MB, GB are powers of 1000). Durations: ms, s, m (bare = s).');
  return lines.join('\n');
}
