#!/usr/bin/env node
// npm run bench:profile -- --workload get64: records V8 CPU profiles of the server under one
// workload. The server runs with --cpu-prof (one .cpuprofile per thread, workers included, written
// when it exits after SIGTERM); this prints where they are, the top functions by self time, and
// writes a flame graph SVG next to each profile. Open a .cpuprofile in Chrome DevTools
// (Performance > Load profile) or https://www.speedscope.app for the interactive view.
import { parseArgs } from 'node:util';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WORKLOADS, WORKLOAD_IDS } from '../lib/workloads.mjs';
import { ensurePeers, unavailableReason, ROOT } from '../lib/servers.mjs';
import { wrkMissing } from '../lib/wrk.mjs';
import { cpuSplit } from '../lib/machine.mjs';
import { launch, measureLoad } from '../lib/measure.mjs';
import { topSelf, callTree } from '../lib/cpuprofile.mjs';
import { flameGraph, fmt } from '../lib/svg.mjs';

const HELP = `usage: npm run bench:profile -- [--workload ID] [options]

  --workload ID       one of: ${WORKLOAD_IDS.join(', ')} (default get64; "get" works too)
  --duration S        seconds of load while profiling (default 10)
  --threads N         stripecache --threads (default 1)
  --sc-args "FLAGS"   extra stripecache flags
  --server NAME       stripecache (default), or a Node peer: node-http, fastify, uws
  --top N             functions in the self-time summary (default 20)
  --no-pin, --server-cpus LIST, --wrk-cpus LIST   as for npm run bench
  --out DIR           where profiles go (default bench/results/profiles/<date>-<workload>)`;

async function main() {
  const { values } = parseArgs({
    options: {
      workload: { type: 'string', default: 'get64' },
      duration: { type: 'string', default: '10' },
      threads: { type: 'string', default: '1' },
      'sc-args': { type: 'string', default: '' },
      server: { type: 'string', default: 'stripecache' },
      top: { type: 'string', default: '20' },
      'no-pin': { type: 'boolean', default: false },
      'server-cpus': { type: 'string' },
      'wrk-cpus': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return console.log(HELP);
  const wid = values.workload === 'get' ? 'get64' : values.workload;
  const w = WORKLOADS.find((x) => x.id === wid);
  if (!w) {
    console.error(`bench:profile: unknown workload "${values.workload}"\n\n${HELP}`);
    process.exit(2);
  }
  if (!['stripecache', 'node-http', 'fastify', 'uws'].includes(values.server)) {
    console.error(`bench:profile: --server must be stripecache or a Node peer (node-http, fastify, uws)`);
    process.exit(2);
  }
  const missing = wrkMissing();
  if (missing) {
    console.error(`bench:profile: ${missing}`);
    process.exit(1);
  }
  if (values.server !== 'stripecache') ensurePeers();
  const why = unavailableReason(values.server);
  if (why) {
    console.error(`bench:profile: cannot run ${values.server}: ${why}`);
    process.exit(1);
  }
  const split = cpuSplit({
    pin: !values['no-pin'],
    serverCpus: values['server-cpus'],
    wrkCpus: values['wrk-cpus'],
  });
  if (split?.error) {
    console.error(`bench:profile: ${split.error}`);
    process.exit(2);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const dir = path.resolve(
    values.out ?? path.join(ROOT, 'bench/results/profiles', `${stamp}-${values.server}-${wid}`),
  );
  mkdirSync(dir, { recursive: true });
  const threads = Number(values.threads);
  console.log(
    `bench:profile: ${values.server} --threads ${threads} under ${w.title} for ${values.duration} s, profiles in ${path.relative(process.cwd(), dir)}`,
  );
  const srv = await launch(values.server, w, {
    cpus: split?.server ?? null,
    threads,
    serverArgs: values['sc-args'].split(/\s+/).filter(Boolean),
    nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir],
  });
  let r;
  try {
    r = await measureLoad(srv, w, {
      connections: w.connections,
      durationS: Number(values.duration),
      warmupS: 1,
      wrkThreads: split ? split.wrk.length : 1,
      wrkCpus: split?.wrk ?? null,
    });
  } finally {
    // SIGTERM lets every thread exit normally, which is when V8 writes its profile.
    await srv.stop(15_000);
  }
  console.log(
    `load: ${fmt(r.rps)} req/s, p99 ${r.p99ms.toFixed(2)} ms (profiling slows the server; do not compare with bench figures)`,
  );
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  if (files.length === 0) {
    console.error('bench:profile: no .cpuprofile written (did the server exit on SIGTERM?)');
    process.exit(1);
  }
  const top = Number(values.top);
  for (const f of files) {
    const profile = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    const { totalMs, idleMs, rows } = topSelf(profile, top);
    const svg = path.join(dir, f.replace(/\.cpuprofile$/, '.flame.svg'));
    writeFileSync(svg, flameGraph({ title: `${values.server} ${wid}: ${f}`, root: callTree(profile) }));
    console.log(
      `\n${path.relative(process.cwd(), path.join(dir, f))}  (${(totalMs / 1000).toFixed(1)} s sampled, ${((idleMs / totalMs) * 100).toFixed(0)}% idle; shares are of busy time)`,
    );
    console.log(`flame graph: ${path.relative(process.cwd(), svg)}`);
    console.log('   self ms   share  function');
    for (const x of rows)
      console.log(
        `${x.selfMs.toFixed(1).padStart(10)}  ${(x.share * 100).toFixed(1).padStart(5)}%  ${x.name}`,
      );
  }
}

await main();
