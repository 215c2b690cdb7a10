import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Errno, Method, TYPE_REQUEST, USED_EXPORTS } from '../../dist/parser/llhttp.js';

const require = createRequire(import.meta.url);

/** The part of the WebAssembly API used here (tsconfig's lib has no WebAssembly types). */
interface WasmApi {
  Module: {
    new (bytes: Uint8Array): object;
    exports(m: object): { name: string }[];
    imports(m: object): { name: string }[];
  };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
const IMPORTS = [
  'wasm_on_message_begin',
  'wasm_on_url',
  'wasm_on_status',
  'wasm_on_header_field',
  'wasm_on_header_value',
  'wasm_on_headers_complete',
  'wasm_on_body',
  'wasm_on_message_complete',
];

for (const file of ['llhttp-wasm.js', 'llhttp_simd-wasm.js']) {
  test(`undici/lib/llhttp/${file} has every export and import the binding uses`, () => {
    const bytes = require(`undici/lib/llhttp/${file}`) as Uint8Array;
    let mod: object;
    try {
      mod = new WA.Module(bytes);
    } catch (e) {
      if (file.includes('simd')) return; // no wasm SIMD here: the plain build is used
      throw e;
    }
    const exports = new Set(WA.Module.exports(mod).map((e) => e.name));
    for (const name of USED_EXPORTS) assert.ok(exports.has(name), `missing export ${name}`);
    const imports = WA.Module.imports(mod)
      .map((i) => i.name)
      .sort();
    assert.deepEqual(imports, [...IMPORTS].sort());
  });
}

test('llhttp constants used by the binding match undici/lib/llhttp/constants.js', () => {
  const c = require('undici/lib/llhttp/constants.js') as {
    ERROR: Record<string, number>;
    TYPE: Record<string, number>;
    METHODS: Record<string, number>;
  };
  for (const [name, value] of Object.entries(Errno)) assert.equal(c.ERROR[name], value, name);
  assert.equal(c.TYPE.REQUEST, TYPE_REQUEST);
  for (const [name, value] of Object.entries(Method)) assert.equal(c.METHODS[name], value, name);
});

test('undici is pinned to an exact version (its llhttp files are internals)', () => {
  const pkg = require('../../package.json') as { dependencies: Record<string, string> };
  assert.match(pkg.dependencies.undici!, /^\d+\.\d+\.\d+$/);
  const installed = require('undici/package.json') as { version: string };
  assert.equal(installed.version, pkg.dependencies.undici);
});
