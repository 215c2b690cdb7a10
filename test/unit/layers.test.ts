// The import check of the layering: src/ is a stack of floors and imports only point down.
// Folders on the same floor (socket, parser, store) do not know each other; a file may import
// any file of its own folder. A folder missing from FLOORS fails the check, so a new feature
// folder has to be given its floor here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

/** Top to bottom. The key is the first path segment under src/ ('main.ts' for the entry). */
const FLOORS: Readonly<Record<string, number>> = {
  'main.ts': 6,
  runtime: 5,
  // Feature folders over the HTTP layer: they reuse its responder and routes; http reaches them
  // only through interfaces that runtime wires up.
  h2: 4,
  origin: 4,
  http: 3,
  // The typed client is its own entry point: it imports nothing of the server.
  client: 3,
  socket: 2,
  parser: 2,
  store: 2,
  base: 1,
};

export interface SourceFile {
  /** Path under src/, with forward slashes: 'http/routes.ts'. */
  readonly file: string;
  readonly text: string;
}

/** Every module specifier a file names: static and type imports, re-exports, import('...'). */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

function area(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : file;
}

/** One line per import that runs up a floor, across a floor, or out of src/. */
export function violations(files: readonly SourceFile[]): string[] {
  const bad: string[] = [];
  for (const { file, text } of files) {
    const from = area(file);
    const fromFloor = FLOORS[from];
    if (fromFloor === undefined) {
      bad.push(`${file}: src/${from} has no floor in FLOORS`);
      continue;
    }
    for (const spec of specifiers(text)) {
      if (!spec.startsWith('.')) continue; // node: builtins and packages
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      if (target.startsWith('..')) {
        bad.push(`${file} -> ${spec}: outside src/`);
        continue;
      }
      const to = area(target);
      if (to === from) continue;
      const toFloor = FLOORS[to];
      if (toFloor === undefined) bad.push(`${file} -> ${spec}: src/${to} has no floor`);
      else if (toFloor > fromFloor) bad.push(`${file} -> ${spec}: up from ${from} to ${to}`);
      else if (toFloor === fromFloor) bad.push(`${file} -> ${spec}: across from ${from} to ${to}`);
    }
  }
  return bad;
}

function sources(dir: string, rel = ''): SourceFile[] {
  const out: SourceFile[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...sources(path.join(dir, e.name), r));
    else if (e.name.endsWith('.ts'))
      out.push({ file: r, text: readFileSync(path.join(dir, e.name), 'utf8') });
  }
  return out;
}

test('every import in src/ points down a floor or stays in its folder', () => {
  const files = sources(SRC);
  assert.ok(files.length > 20, `found ${files.length} files under ${SRC}`);
  assert.deepEqual(violations(files), []);
});

test('the check catches imports up, across and out, and unknown folders', () => {
  const bad = violations([
    { file: 'parser/parser.ts', text: "import { HttpError } from '../http/errors.js';" },
    { file: 'socket/conn.ts', text: "import type {\n  HttpParser,\n} from '../parser/parser.js';" },
    { file: 'base/log.ts', text: "export { Store } from '../store/index.js';" },
    { file: 'store/x.ts', text: "type K = typeof import('../runtime/cli.js');" },
    { file: 'http/a.ts', text: "import '../../bench/lib/x.mjs';" },
    { file: 'plugins/client.ts', text: "import { Logger } from '../base/log.js';" },
    { file: 'http/routes.ts', text: "import { fetchMiss } from '../origin/fill.js';" },
  ]);
  assert.deepEqual(bad, [
    'parser/parser.ts -> ../http/errors.js: up from parser to http',
    'socket/conn.ts -> ../parser/parser.js: across from socket to parser',
    'base/log.ts -> ../store/index.js: up from base to store',
    'store/x.ts -> ../runtime/cli.js: up from store to runtime',
    'http/a.ts -> ../../bench/lib/x.mjs: outside src/',
    'plugins/client.ts: src/plugins has no floor in FLOORS',
    'http/routes.ts -> ../origin/fill.js: up from http to origin',
  ]);
});

test('imports down a floor, within a folder and of packages pass', () => {
  const ok = violations([
    {
      file: 'main.ts',
      text: "import { Supervisor } from './runtime/supervisor.js';\nimport arg from 'arg';",
    },
    { file: 'http/connection.ts', text: "import { adoptWithReadBuffer } from '../socket/read-buffer.js';" },
    {
      file: 'parser/engine.ts',
      text: "import { HttpParser } from './parser.js';\nimport { Socket } from 'node:net';",
    },
    { file: 'runtime/worker.ts', text: "import { Store } from '../store/index.js';" },
  ]);
  assert.deepEqual(ok, []);
});

/** A file past this many lines holds more than one concept: split it where the concepts part. */
const MAX_LINES = 450;

test(`no file in src/ is over ${MAX_LINES} lines`, () => {
  const long = sources(SRC)
    .map((f) => ({ file: f.file, lines: f.text.split('\n').length - (f.text.endsWith('\n') ? 1 : 0) }))
    .filter((f) => f.lines > MAX_LINES)
    .map((f) => `${f.file}: ${f.lines} lines`);
  assert.deepEqual(long, []);
});
