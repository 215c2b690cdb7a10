#!/usr/bin/env node
// npm run bench:micro: runs every other bench/micro/*.mjs in its own fresh node process (so one
// file's JIT state and garbage never skew another's), then prints one summary table and writes
// bench/results/micro-latest.{md,json}.
// A micro file reports through benchmark.js's usual cycle line, `String(event.target)`:
//   "name x 1,234,567 ops/sec ±0.52% (95 runs sampled)"
// or through a line `BENCH {"name": ..., "hz": ops/s, "rme": %}` / `BENCH {"name": ..., "value": x}`.
// Usage: npm run bench:micro [-- NAME...] (file names without .mjs, e.g. hash store).
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const DIR = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.resolve(DIR, '../results');
const CYCLE = /^(.+?) x ([\d,.]+) ops\/sec [±\u00b1]([\d.]+)% \((\d+) runs? sampled\)/;

export function parseMicroOutput(text) {
  const rows = [];
  for (const line of text.split('\n')) {
    const m = CYCLE.exec(line.trim());
    if (m)
      rows.push({ name: m[1], hz: Number(m[2].replace(/,/g, '')), rme: Number(m[3]), runs: Number(m[4]) });
    else if (line.startsWith('BENCH ')) {
      try {
        rows.push(JSON.parse(line.slice(6)));
      } catch {
        // not ours
      }
    }
  }
  return rows;
}

function runFile(file, timeoutMs) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(DIR, file)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      process.stdout.write(d.replace(/^/gm, `  ${file}: `).replace(/ {2}\S+: $/, ''));
    });
    p.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, out, err });
    });
  });
}

const fmtHz = (hz) =>
  hz >= 1e6 ? `${(hz / 1e6).toFixed(2)} M` : hz >= 1e3 ? `${(hz / 1e3).toFixed(1)} k` : hz.toFixed(1) + ' ';

async function main() {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.startsWith('_'))
    .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.mjs$/, '')))
    .sort();
  if (files.length === 0) {
    console.error(`bench:micro: no micro benchmark matches ${wanted.join(', ')}`);
    process.exit(2);
  }
  const results = [];
  let failed = 0;
  for (const f of files) {
    console.log(`bench:micro: ${f}`);
    const r = await runFile(f, 10 * 60_000);
    if (r.code !== 0) {
      failed++;
      console.log(`  ${f}: FAILED (exit ${r.code}) ${r.err.trim().split('\n').slice(-3).join(' | ')}`);
    }
    for (const row of parseMicroOutput(r.out)) results.push({ file: f, ...row });
  }
  const lines = ['| file | case | ops/s | ± | runs |', '| --- | --- | --- | --- | --- |'];
  for (const r of results) {
    const v = r.hz !== undefined ? `${fmtHz(r.hz)}` : String(r.value);
    lines.push(
      `| ${r.file} | ${r.name} | ${v} | ${r.rme !== undefined ? r.rme.toFixed(2) + '%' : ''} | ${r.runs ?? ''} |`,
    );
  }
  const table = lines.join('\n');
  console.log('\n' + table + '\n');
  const date = new Date().toISOString();
  mkdirSync(OUT, { recursive: true });
  const machine = `${os.availableParallelism()} cores (${os.cpus()[0]?.model}), Node ${process.version}, ${os.type()} ${os.release()}`;
  writeFileSync(
    path.join(OUT, 'micro-latest.md'),
    `# Micro benchmarks\n\n- Date: ${date}\n- Machine: ${machine}; load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(
        ' / ',
      )}\n- Command: \`npm run bench:micro${wanted.length ? ' -- ' + wanted.join(' ') : ''}\` (benchmark.js, each file in a fresh process)\n\n${table}\n`,
  );
  writeFileSync(
    path.join(OUT, 'micro-latest.json'),
    JSON.stringify({ date, machine, results }, null, 1) + '\n',
  );
  console.log('wrote bench/results/micro-latest.md, bench/results/micro-latest.json');
  if (failed > 0) process.exit(1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
