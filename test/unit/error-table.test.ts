// One error table: the HttpError codes, the canned answers built from ERRORS and the table users
// read in docs/http-api.md must agree, and every error class anywhere in src/ carries a code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS, HttpError } from '../../dist/base/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('HttpError codes index ERRORS by name, with nothing left over', () => {
  const names = Object.keys(HttpError) as (keyof typeof HttpError)[];
  assert.equal(ERRORS.length, names.length);
  for (const name of names) assert.equal(ERRORS[HttpError[name]]?.name, name, name);
});

interface DocRow {
  code: string;
  status: number;
  extra: string;
  close: boolean;
  message: string;
}

function docRows(): DocRow[] {
  const md = readFileSync(path.join(ROOT, 'docs/http-api.md'), 'utf8');
  const start = md.indexOf('<!-- errors:start -->');
  const end = md.indexOf('<!-- errors:end -->');
  assert.ok(start !== -1 && end > start, 'docs/http-api.md has the errors markers');
  const unquote = (cell: string): string => cell.trim().replace(/^`(.*)`$/, '$1');
  const rows: DocRow[] = [];
  for (const line of md.slice(start, end).split('\n')) {
    if (!line.startsWith('| `')) continue; // header and rule lines
    const cells = line.split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, ''));
    assert.equal(cells.length, 6, line);
    const [code, status, extra, conn, message] = cells.map(unquote) as [
      string,
      string,
      string,
      string,
      string,
    ];
    assert.ok(conn === 'close' || conn === 'keep', line);
    rows.push({ code, status: Number(status), extra, close: conn === 'close', message });
  }
  return rows;
}

test('docs/http-api.md lists every refusal with its status, header, connection and body', () => {
  const expected = ERRORS.filter((e) => e.name !== 'NONE').map((e) => ({
    code: e.name,
    status: e.status,
    extra: e.extra.trim(),
    close: e.close,
    message: e.message,
  }));
  assert.deepEqual(docRows(), expected);
});

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Each `export class X extends ...Error` and the code literal in its body (up to the first `}` in column 0). */
export function errorClasses(text: string): { name: string; code: string | null }[] {
  const out: { name: string; code: string | null }[] = [];
  const re = /^export class (\w+) extends (\w*Error)\b[^{]*\{/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const close = text.indexOf('\n}', m.index);
    const body = text.slice(m.index, close === -1 ? text.length : close);
    // `readonly code = 'X'`, `code = 'X' as const` or `this.code = 'X'`: a literal, so it can be checked here.
    const code = /\bcode\s*(?::\s*string\s*)?=\s*'([A-Za-z][\w-]*)'/.exec(body);
    out.push({ name: m[1]!, code: code === null ? null : code[1]! });
  }
  return out;
}

test('the class scan sees a missing code', () => {
  const found = errorClasses(
    "export class A extends Error {\n  readonly code = 'A_CODE';\n}\nexport class B extends RangeError {\n  x = 1;\n}\n",
  );
  assert.deepEqual(found, [
    { name: 'A', code: 'A_CODE' },
    { name: 'B', code: null },
  ]);
});

test('every exported error class in src/ carries a code of its own', () => {
  const seen = new Map<string, string>();
  const missing: string[] = [];
  for (const file of sourceFiles(path.join(ROOT, 'src'))) {
    for (const c of errorClasses(readFileSync(file, 'utf8'))) {
      const where = `${path.relative(ROOT, file)}: ${c.name}`;
      if (c.code === null) {
        missing.push(where);
        continue;
      }
      assert.ok(!seen.has(c.code), `${where} reuses code ${c.code} of ${seen.get(c.code)}`);
      seen.set(c.code, where);
    }
  }
  assert.ok(seen.size >= 4, `found ${seen.size} error classes`);
  assert.deepEqual(missing, []);
});
