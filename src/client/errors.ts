/**
 * Errors the server answers with, one class per status a caller may want to tell apart, each with
 * a stable `code`, the HTTP `status` and the server's own text (`serverMessage`). Anything the
 * table does not name is a plain `StripecacheError` carrying its status, so a caller can always
 * switch on `status` alone. Transport failures (refused connection, reset, timeouts) are undici's
 * own errors and pass through unchanged.
 */

export interface ErrorContext {
  readonly method: string;
  readonly path: string;
  /** Response headers, lower-case names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export class StripecacheError extends Error {
  override readonly name: string = 'StripecacheError';
  readonly code: string = 'STRIPECACHE_ERR_HTTP';

  constructor(
    readonly status: number,
    readonly serverMessage: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path}: ${status}${serverMessage === '' ? '' : ` ${serverMessage}`}`);
  }
}

/** 400: bad key (empty, over 1024 bytes), bad ttl or a request the server could not read. */
export class BadRequestError extends StripecacheError {
  override readonly name = 'BadRequestError';
  override readonly code = 'STRIPECACHE_ERR_BAD_REQUEST';
}

/** 404 where a miss is not an answer (e.g. a server without `DELETE /prefix/`). */
export class NotFoundError extends StripecacheError {
  override readonly name = 'NotFoundError';
  override readonly code = 'STRIPECACHE_ERR_NOT_FOUND';
}

/** 405: the server knows the path but not the method. */
export class MethodNotAllowedError extends StripecacheError {
  override readonly name = 'MethodNotAllowedError';
  override readonly code = 'STRIPECACHE_ERR_METHOD_NOT_ALLOWED';
}

/** 412: an `ifMatch` / `ifNoneMatch: '*'` condition did not hold; nothing was changed. */
export class PreconditionFailedError extends StripecacheError {
  override readonly name = 'PreconditionFailedError';
  override readonly code = 'STRIPECACHE_ERR_PRECONDITION_FAILED';
}

/** 413: the value is over the server's `--max-value-size`. */
export class PayloadTooLargeError extends StripecacheError {
  override readonly name = 'PayloadTooLargeError';
  override readonly code = 'STRIPECACHE_ERR_PAYLOAD_TOO_LARGE';
}

/** 416: the range starts past the end of the value; `size` is the value's length when the server said. */
export class RangeNotSatisfiableError extends StripecacheError {
  override readonly name = 'RangeNotSatisfiableError';
  override readonly code = 'STRIPECACHE_ERR_RANGE_NOT_SATISFIABLE';
  readonly size: number | undefined;

  constructor(status: number, serverMessage: string, method: string, path: string, size: number | undefined) {
    super(status, serverMessage, method, path);
    this.size = size;
  }
}

/** 503: over `--max-connections`, too many waiters, or shutting down; `retryAfter` in seconds. */
export class ServiceUnavailableError extends StripecacheError {
  override readonly name = 'ServiceUnavailableError';
  override readonly code = 'STRIPECACHE_ERR_SERVICE_UNAVAILABLE';
  readonly retryAfter: number | undefined;

  constructor(
    status: number,
    serverMessage: string,
    method: string,
    path: string,
    retryAfter: number | undefined,
  ) {
    super(status, serverMessage, method, path);
    this.retryAfter = retryAfter;
  }
}

/** 507: the value can never fit in the store, even after evicting everything else. */
export class InsufficientStorageError extends StripecacheError {
  override readonly name = 'InsufficientStorageError';
  override readonly code = 'STRIPECACHE_ERR_INSUFFICIENT_STORAGE';
}

function header(ctx: ErrorContext, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function intOrUndefined(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

/** The error for a status the caller did not expect; `message` is the server's text body. */
export function errorFor(status: number, message: string, ctx: ErrorContext): StripecacheError {
  const { method, path } = ctx;
  switch (status) {
    case 400:
      return new BadRequestError(status, message, method, path);
    case 404:
      return new NotFoundError(status, message, method, path);
    case 405:
      return new MethodNotAllowedError(status, message, method, path);
    case 412:
      return new PreconditionFailedError(status, message, method, path);
    case 413:
      return new PayloadTooLargeError(status, message, method, path);
    case 416: {
      // `Content-Range: bytes */LEN` names the length the range missed.
      const m = /^bytes \*\/(\d+)$/.exec(header(ctx, 'content-range') ?? '');
      return new RangeNotSatisfiableError(status, message, method, path, intOrUndefined(m?.[1]));
    }
    case 503:
      return new ServiceUnavailableError(
        status,
        message,
        method,
        path,
        intOrUndefined(header(ctx, 'retry-after')),
      );
    case 507:
      return new InsufficientStorageError(status, message, method, path);
    default:
      return new StripecacheError(status, message, method, path);
  }
}
