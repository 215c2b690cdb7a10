import { createRequire } from 'node:module';

/**
 * The llhttp WebAssembly build shipped inside `undici` (pinned to an exact version in
 * package.json because these files are undici internals; test/unit/parser-wasm.test.ts checks
 * that every export and import used here exists). One instance per thread: instantiate once,
 * share between all connections of the thread, one `llhttp_t` per connection.
 *
 * undici 7.30.2 carries llhttp of the 9.3 line: its constants have the QUERY method (46) and
 * HPE_CB_PROTOCOL_COMPLETE (38), both new in llhttp 9.3; the package records no version string.
 * Why this source: maintained by the Node.js organisation alongside Node's own llhttp, built
 * plain and with wasm SIMD, and exposing the raw module (the `llhttp-wasm` npm wrapper hides it
 * behind a wrapper that allocates and decodes strings per call).
 */

/** The wasm exports this binding relies on. */
export interface LlhttpExports {
  readonly memory: WebAssembly.Memory;
  _initialize?: () => void;
  llhttp_alloc(type: number): number;
  llhttp_free(parser: number): void;
  llhttp_reset(parser: number): void;
  llhttp_execute(parser: number, data: number, len: number): number;
  llhttp_resume(parser: number): void;
  llhttp_get_error_pos(parser: number): number;
  llhttp_get_method(parser: number): number;
  llhttp_get_http_major(parser: number): number;
  llhttp_get_http_minor(parser: number): number;
  llhttp_should_keep_alive(parser: number): number;
  malloc(size: number): number;
  free(ptr: number): void;
}

export const USED_EXPORTS = [
  'memory',
  'llhttp_alloc',
  'llhttp_free',
  'llhttp_reset',
  'llhttp_execute',
  'llhttp_resume',
  'llhttp_get_error_pos',
  'llhttp_get_method',
  'llhttp_get_http_major',
  'llhttp_get_http_minor',
  'llhttp_should_keep_alive',
  'malloc',
  'free',
] as const;

/** Callbacks the wasm imports from `env`; return 0 to go on, -1 for an error, 21 to pause. */
export interface LlhttpImports {
  wasm_on_message_begin(p: number): number;
  wasm_on_url(p: number, at: number, len: number): number;
  wasm_on_status(p: number, at: number, len: number): number;
  wasm_on_header_field(p: number, at: number, len: number): number;
  wasm_on_header_value(p: number, at: number, len: number): number;
  wasm_on_headers_complete(p: number, statusCode: number, upgrade: number, keepAlive: number): number;
  wasm_on_body(p: number, at: number, len: number): number;
  wasm_on_message_complete(p: number): number;
}

/** llhttp_errno values (llhttp.h) that this server tells apart. */
export const Errno = {
  OK: 0,
  INTERNAL: 1,
  STRICT: 2,
  LF_EXPECTED: 3,
  UNEXPECTED_CONTENT_LENGTH: 4,
  CLOSED_CONNECTION: 5,
  INVALID_METHOD: 6,
  INVALID_URL: 7,
  INVALID_CONSTANT: 8,
  INVALID_VERSION: 9,
  INVALID_HEADER_TOKEN: 10,
  INVALID_CONTENT_LENGTH: 11,
  INVALID_CHUNK_SIZE: 12,
  INVALID_TRANSFER_ENCODING: 15,
  CB_MESSAGE_BEGIN: 16,
  CB_HEADERS_COMPLETE: 17,
  CB_MESSAGE_COMPLETE: 18,
  PAUSED: 21,
  PAUSED_UPGRADE: 22,
  PAUSED_H2_UPGRADE: 23,
  USER: 24,
  CR_EXPECTED: 25,
} as const;

export const TYPE_REQUEST = 1;

/** llhttp_method values of the methods the API routes. */
export const Method = { DELETE: 0, GET: 1, HEAD: 2, POST: 3, PUT: 4 } as const;

const require = createRequire(import.meta.url);

/** `undici/lib/llhttp/*.js` export the wasm bytes as a Buffer (lazily decoded from base64). */
function loadModule(): WebAssembly.Module {
  if (process.env.STRIPECACHE_NO_WASM_SIMD !== '1') {
    try {
      return new WebAssembly.Module(require('undici/lib/llhttp/llhttp_simd-wasm.js') as Uint8Array);
    } catch {
      // No wasm SIMD on this CPU or runtime: the plain build parses the same grammar.
    }
  }
  return new WebAssembly.Module(require('undici/lib/llhttp/llhttp-wasm.js') as Uint8Array);
}

let module: WebAssembly.Module | null = null;

function llhttpModule(): WebAssembly.Module {
  module ??= loadModule();
  return module;
}

export function instantiate(imports: LlhttpImports): LlhttpExports {
  const instance = new WebAssembly.Instance(llhttpModule(), {
    env: imports as unknown as WebAssembly.ModuleImports,
  });
  const exp = instance.exports as unknown as LlhttpExports;
  exp._initialize?.();
  return exp;
}
