// The caches under test in front of the slow origin: Varnish, nginx (proxy_cache + slice) and
// stripecache. Each start() returns { name, port, pid, stop(), log() } or throws with the reason.
// Every server is pinned with taskset to the CPUs it is given.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT } from '../lib/servers.mjs';

/** A port that was free a moment ago (the servers here cannot all print the port they chose). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function pinned(cpus, argv) {
  return ['taskset', '-c', cpus.join(','), ...argv];
}

/** Spawns argv, collects its output, and resolves once `port` accepts connections. */
async function launch(name, argv, port, { cwd = ROOT, timeoutMs = 20_000, env = process.env } = {}) {
  const proc = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d) => (out += d));
  const exited = new Promise((resolve) => proc.once('exit', (code, sig) => resolve({ code, sig })));
  let gone = null;
  void exited.then((e) => (gone = e));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone !== null) {
      const err = new Error(
        `${name} exited (${gone.code ?? gone.sig}) before listening: ${out.trim().slice(-600)}`,
      );
      err.exitCode = gone.code;
      err.output = out;
      throw err;
    }
    const up = await new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${name} did not listen on ${port} within ${timeoutMs} ms: ${out.trim().slice(-600)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // taskset execs the server, so the child's PID is the server's (Varnish's and nginx's workers
  // are its descendants; bench/lib/proc.mjs sums the whole tree).
  return {
    name,
    port,
    pid: proc.pid,
    log: () => out,
    async stop() {
      if (gone !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export function version(name) {
  const r =
    name === 'varnish'
      ? spawnSync('varnishd', ['-V'], { encoding: 'utf8' })
      : name === 'nginx'
        ? spawnSync('nginx', ['-v'], { encoding: 'utf8' })
        : null;
  if (r === null) return JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  return (r.stdout + r.stderr).split('\n')[0].trim();
}

/**
 * Varnish with the built-in VCL behaviour: only a backend is declared, so on a miss Varnish
 * fetches the whole object (it drops Range from the backend request), parks concurrent misses
 * on its waiting list, and serves every Range from the cached object.
 */
export async function startVarnish({ dir, origin, cpus }) {
  const port = await freePort();
  const work = path.join(dir, 'varnish');
  mkdirSync(work, { recursive: true });
  const vcl = path.join(dir, 'default.vcl');
  writeFileSync(
    vcl,
    `vcl 4.1;\nbackend origin {\n  .host = "${origin.host}";\n  .port = "${origin.port}";\n}\n`,
  );
  // -j none: no privilege separation, so it runs the same as root or as a plain user.
  const argv = [
    'varnishd',
    '-F',
    '-j',
    'none',
    '-n',
    work,
    '-a',
    `127.0.0.1:${port}`,
    '-f',
    vcl,
    '-s',
    'malloc,512m',
    // Without a CLI listener varnishd needs none of varnishadm's secrets.
    '-T',
    'none',
  ];
  return launch('varnish', pinned(cpus, argv), port);
}

/** nginx proxy_cache, 1 MiB slices, cache lock: one origin fetch per slice, not per client. */
export async function startNginx({ dir, origin, cpus }) {
  const v = spawnSync('nginx', ['-V'], { encoding: 'utf8' });
  if (!/--with-http_slice_module/.test(v.stderr + v.stdout)) {
    throw new Error('this nginx has no slice module (nginx -V lacks --with-http_slice_module)');
  }
  const port = await freePort();
  const prefix = path.join(dir, 'nginx');
  for (const d of ['cache', 'tmp', 'logs']) mkdirSync(path.join(prefix, d), { recursive: true });
  const conf = path.join(prefix, 'nginx.conf');
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  writeFileSync(
    conf,
    `${user}worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
worker_rlimit_nofile 16384;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  proxy_cache_path ${prefix}/cache levels=1:2 keys_zone=origin:16m max_size=2g inactive=1h use_temp_path=off;
  upstream origin { server ${origin.host}:${origin.port}; keepalive 32; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      slice 1m;
      proxy_cache origin;
      proxy_cache_key $uri$is_args$args$slice_range;
      proxy_set_header Range $slice_range;
      proxy_cache_valid 200 206 1h;
      proxy_cache_lock on;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://origin;
    }
  }
}
`,
  );
  return launch('nginx', pinned(cpus, ['nginx', '-p', prefix, '-c', conf]), port);
}

/**
 * stripecache, one thread. With `origin`, it is started with --origin URL; a build that does not
 * know the flag exits 2 naming it, and then this throws an error with `unsupported` set.
 */
export async function startStripecache({ origin, cpus, node }) {
  const main = path.join(ROOT, 'dist/main.js');
  if (!existsSync(main)) throw new Error('dist/main.js missing: run `npm run build` first');
  const port = await freePort();
  const args = [main, '--port', String(port), '--host', '127.0.0.1', '--threads', '1', '--log-level', 'warn'];
  // The key is appended: /get/KEY is fetched as /obj/KEY, the path the other caches use.
  if (origin !== undefined) args.push('--origin', `http://${origin.host}:${origin.port}/obj/`);
  try {
    return await launch('stripecache', pinned(cpus, [node, ...args]), port);
  } catch (e) {
    if (origin !== undefined && e.exitCode === 2 && /--origin/.test(e.output ?? '')) {
      const said = e.output
        .trim()
        .split('\n')[0]
        .replace(/^stripecache: /, '');
      const err = new Error(`no --origin in this build (exit 2: ${said})`);
      err.unsupported = true;
      throw err;
    }
    throw e;
  }
}
