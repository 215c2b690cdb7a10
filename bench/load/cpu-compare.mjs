#!/usr/bin/env node
// Server CPU per request of several servers (or trees, or Node versions), interleaved: every
// round runs bench/load/cpu.mjs once per server in turn, so a machine that drifts during the
// comparison drifts for all of them; prints each server's medians over the rounds and its ratio
// to the first. For before/after figures of one change on a noisy machine (absolute figures swing
// 20-35% between runs here; interleaved medians of several rounds are what a ratio needs).
//
//   node bench/load/cpu-compare.mjs --size 64 --rounds 4 \
//     --servers "new=stripecache,old=stripecache:tree=/tmp/old,uws"
//   node bench/load/cpu-compare.mjs --size 1MiB --servers "n24=stripecache:node=/opt/node24/bin/node,uws"
//
// A server is NAME[:tree=DIR][:node=PATH][:args=FLAGS], optionally LABEL=...: NAME as in cpu.mjs;
// tree: another checkout whose dist/main.js is run (built there); node: the Node binary stripecache
// (or a probe, such as node-net) runs on; args: extra stripecache flags for this server only, space-separated
// ("sb1m=stripecache:args=--socket-buffer 1MiB").
// Other options (--connections, --keys, --depth, --duration, --sc-args) go to every cpu.mjs run.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from '../lib/stats.mjs';
import { PROBE_NAMES } from '../lib/servers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: 'stripecache,uws' },
    size: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '2' },
    connections: { type: 'string' },
    keys: { type: 'string' },
    depth: { type: 'string' },
    'sc-args': { type: 'string' },
  },
});

function parseServer(text) {
  const eq = text.indexOf('=');
  const colon = text.indexOf(':');
  const labelled = eq > 0 && (colon < 0 || eq < colon);
  const label = labelled ? text.slice(0, eq) : text;
  const [name, ...opts] = (labelled ? text.slice(eq + 1) : text).split(':');
  const s = { label, name, tree: null, node: null, args: null };
  for (const o of opts) {
    const m = /^(tree|node|args)=(.+)$/.exec(o);
    if (!m) throw new Error(`--servers: "${o}" in "${text}" is not tree=DIR, node=PATH or args=FLAGS`);
    s[m[1]] = m[1] === 'args' ? m[2] : path.resolve(m[2]);
  }
  if ((s.tree || s.args) && name !== 'stripecache')
    throw new Error(`--servers: tree= and args= are for stripecache`);
  if (s.node && name !== 'stripecache' && !PROBE_NAMES.includes(name))
    throw new Error(`--servers: node= is for stripecache and the probes (${PROBE_NAMES.join(', ')})`);
  return s;
}

const servers = values.servers.split(',').filter(Boolean).map(parseServer);
const pass = ['--size', values.size, '--runs', values.runs, '--duration', values.duration];
for (const k of ['connections', 'keys', 'depth']) if (values[k]) pass.push(`--${k}`, values[k]);
if (values['sc-args']) pass.push(`--sc-args=${values['sc-args']}`);

const LINE = /median ([\d.]+) us CPU\/req \(user ([\d.]+), sys ([\d.]+)\), (\d+) req\/s \(Node (v[\d.]+)\)/;
const cells = new Map(servers.map((s) => [s.label, []]));
for (let r = 1; r <= Number(values.rounds); r++) {
  for (const s of servers) {
    const env = { ...process.env };
    if (s.tree) env.STRIPECACHE_BENCH_TREE = s.tree;
    if (s.node) env.STRIPECACHE_BENCH_NODE = s.node;
    const own =
      s.args === null
        ? pass
        : [
            ...pass.filter((a) => !a.startsWith('--sc-args=')),
            `--sc-args=${[values['sc-args'], s.args].filter(Boolean).join(' ')}`,
          ];
    const out = spawnSync(process.execPath, [path.join(HERE, 'cpu.mjs'), '--server', s.name, ...own], {
      env,
      encoding: 'utf8',
    });
    const m = LINE.exec(out.stdout ?? '');
    if (out.status !== 0 || !m) {
      console.error(`${s.label}: cpu.mjs failed (exit ${out.status})\n${out.stdout}${out.stderr}`);
      process.exit(1);
    }
    const cell = { cpu: +m[1], user: +m[2], sys: +m[3], rps: +m[4], node: m[5] };
    cells.get(s.label).push(cell);
    console.log(
      `round ${r} ${s.label}: ${cell.cpu} us CPU/req (user ${cell.user}, sys ${cell.sys}), ${cell.rps} req/s, Node ${cell.node}`,
    );
  }
}

const base = median(cells.get(servers[0].label).map((c) => c.cpu));
console.log(`\nsize ${values.size}, ${values.rounds} rounds x ${values.runs} runs, medians:`);
for (const s of servers) {
  const cs = cells.get(s.label);
  const cpu = median(cs.map((c) => c.cpu));
  console.log(
    `${s.label.padEnd(14)} ${cpu.toFixed(2)} us CPU/req (user ${median(cs.map((c) => c.user)).toFixed(2)}, sys ${median(cs.map((c) => c.sys)).toFixed(2)}), ${Math.round(median(cs.map((c) => c.rps)))} req/s, ${(cpu / base).toFixed(2)}x ${servers[0].label}'s CPU, Node ${cs[0].node}`,
  );
}
