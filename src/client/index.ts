/**
 * `stripecache/client`: a typed HTTP client for the stripecache server, on undici. It shares no
 * code with the server; the wire format (routes, headers, key encoding) is the contract between them.
 */
export { Client } from './client.js';
export type {
  ByteRange,
  ClientOptions,
  ContentRange,
  DeleteOptions,
  Entry,
  GetOptions,
  PurgeOptions,
  SetOptions,
  SetResult,
  Value,
} from './client.js';
export {
  BadRequestError,
  InsufficientStorageError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  RangeNotSatisfiableError,
  ServiceUnavailableError,
  StripecacheError,
} from './errors.js';
export { encodeKey, type Key } from './key.js';
