/**
 * The error model: every refusal the server can answer, as a small integer code. Each code maps to
 * a status, a canned text/plain body naming the problem, and whether the connection is closed
 * after it (ERRORS below, the one place these are defined). The canned bytes are built once
 * (src/http/canned.ts); no request ever builds an error message or sees a stack trace. The table
 * users read, with when each one happens, is docs/http-api.md "Refusals";
 * test/unit/error-table.test.ts keeps it equal to ERRORS. It lives on the ground floor because
 * the parser refuses with these codes as well as the HTTP layer.
 */
export const HttpError = {
  NONE: 0,
  MALFORMED: 1,
  BARE_LF: 2,
  INVALID_HEADER: 3,
  CONTENT_LENGTH_CONFLICT: 4,
  DUPLICATE_CONTENT_LENGTH: 5,
  INVALID_CONTENT_LENGTH: 6,
  BAD_CHUNK: 7,
  MISSING_HOST: 8,
  DUPLICATE_HOST: 9,
  BAD_KEY: 10,
  BAD_PERCENT: 11,
  BAD_TTL: 12,
  CONTENT_TYPE_TOO_LONG: 13,
  NOT_FOUND: 14,
  KEY_NOT_FOUND: 15,
  METHOD_GET_HEAD: 16,
  METHOD_STORE: 17,
  PAYLOAD_TOO_LARGE: 18,
  URI_TOO_LONG: 19,
  HEADERS_TOO_LARGE: 20,
  HEADER_TIMEOUT: 21,
  TOO_MANY_CONNECTIONS: 22,
  SHUTTING_DOWN: 23,
  UNHEALTHY: 24,
  VALUE_TOO_LARGE: 25,
  UNSUPPORTED_TE: 26,
  VERSION: 27,
  INTERNAL: 28,
  STORE_BUSY: 29,
  BAD_PREFIX: 30,
  METHOD_PREFIX: 31,
  PRECONDITION_FAILED: 32,
  BAD_PRECONDITION: 33,
  ORIGIN_NOT_FOUND: 34,
  ORIGIN_FAILED: 35,
  ORIGIN_TIMEOUT: 36,
  ORIGIN_TOO_LARGE: 37,
  ORIGIN_WAITERS: 38,
  ORIGIN_NO_MEMORY: 39,
  BAD_TRAILER: 40,
} as const;
export type HttpError = (typeof HttpError)[keyof typeof HttpError];

export interface ErrorInfo {
  readonly name: string;
  readonly status: number;
  /** The connection is always closed after this answer. */
  readonly close: boolean;
  readonly message: string;
  /** Extra header lines, CRLF-terminated. */
  readonly extra: string;
}

function e(name: string, status: number, close: boolean, message: string, extra = ''): ErrorInfo {
  return { name, status, close, message, extra };
}

/** Indexed by HttpError code. */
export const ERRORS: readonly ErrorInfo[] = [
  e('NONE', 500, true, 'internal error'),
  e('MALFORMED', 400, true, 'malformed request'),
  e('BARE_LF', 400, true, 'malformed request: line ends in LF without CR'),
  e('INVALID_HEADER', 400, true, 'malformed request: invalid byte in a header'),
  e('CONTENT_LENGTH_CONFLICT', 400, true, 'Content-Length together with Transfer-Encoding'),
  e('DUPLICATE_CONTENT_LENGTH', 400, true, 'several Content-Length fields'),
  e('INVALID_CONTENT_LENGTH', 400, true, 'invalid Content-Length'),
  e('BAD_CHUNK', 400, true, 'bad chunked framing'),
  e('MISSING_HOST', 400, true, 'HTTP/1.1 request without Host'),
  e('DUPLICATE_HOST', 400, true, 'several Host fields'),
  e('BAD_KEY', 400, false, 'key must be 1 to 1024 bytes after percent-decoding'),
  e('BAD_PERCENT', 400, false, 'bad percent-encoding in key'),
  e('BAD_TTL', 400, false, 'ttl must be a positive integer number of seconds'),
  e('CONTENT_TYPE_TOO_LONG', 400, false, 'Content-Type over 255 bytes'),
  e('NOT_FOUND', 404, false, 'no such path'),
  e('KEY_NOT_FOUND', 404, false, 'key not found'),
  e('METHOD_GET_HEAD', 405, false, 'method not allowed', 'Allow: GET, HEAD\r\n'),
  e('METHOD_STORE', 405, false, 'method not allowed', 'Allow: POST, PUT, DELETE\r\n'),
  e('PAYLOAD_TOO_LARGE', 413, true, 'body over --max-value-size'),
  e('URI_TOO_LONG', 414, true, 'request target over 8 KiB'),
  e('HEADERS_TOO_LARGE', 431, true, 'header section over 16 KiB'),
  e('HEADER_TIMEOUT', 408, true, 'request head not received within --header-timeout'),
  e('TOO_MANY_CONNECTIONS', 503, true, 'too many connections', 'Retry-After: 1\r\n'),
  e('SHUTTING_DOWN', 503, true, 'server is shutting down', 'Retry-After: 1\r\n'),
  e('UNHEALTHY', 503, false, 'shutting down'),
  e('VALUE_TOO_LARGE', 507, false, 'value larger than the store can ever hold'),
  e('UNSUPPORTED_TE', 501, true, 'unsupported Transfer-Encoding (only chunked)'),
  e('VERSION', 505, true, 'HTTP version not supported (1.0 and 1.1 only)'),
  e('INTERNAL', 500, true, 'internal error'),
  e('STORE_BUSY', 503, true, 'store busy: a lock was not released in time; retry', 'Retry-After: 1\r\n'),
  e('BAD_PREFIX', 400, false, 'prefix must be 1 to 1024 bytes after percent-decoding'),
  e('METHOD_PREFIX', 405, false, 'method not allowed', 'Allow: DELETE\r\n'),
  e('PRECONDITION_FAILED', 412, false, 'precondition failed: If-Match or If-None-Match does not hold'),
  e(
    'BAD_PRECONDITION',
    400,
    false,
    'If-Match takes at most 8 field lines of 8 tags; on a write If-None-Match takes only *',
  ),
  e('ORIGIN_NOT_FOUND', 404, false, 'key not found at the origin'),
  e('ORIGIN_FAILED', 502, false, 'origin failed (bad status, refused, reset or short body); nothing stored'),
  e('ORIGIN_TIMEOUT', 504, false, 'origin did not answer within --origin-timeout; nothing stored'),
  e('ORIGIN_TOO_LARGE', 502, false, 'origin value over --max-value-size; nothing stored'),
  e(
    'ORIGIN_WAITERS',
    503,
    false,
    'too many requests waiting for this key (--origin-max-waiters)',
    'Retry-After: 1\r\n',
  ),
  e(
    'ORIGIN_NO_MEMORY',
    507,
    false,
    'no memory for this origin fetch now (fills in flight); retry',
    'Retry-After: 1\r\n',
  ),
  e('BAD_TRAILER', 400, true, 'Content-Length or Transfer-Encoding in a chunked trailer'),
];

export const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  206: 'Partial Content',
  304: 'Not Modified',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  416: 'Range Not Satisfiable',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  507: 'Insufficient Storage',
};
