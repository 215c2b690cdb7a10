import { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { readAll, readText } from './body.js';
import { errorFor } from './errors.js';
import { encodeKey, type Key } from './key.js';

/** Connection settings, handed to undici's `Pool` as they are. */
export interface ClientOptions {
  /** Most TCP connections to the server (undici's default: no limit, one per concurrent request). */
  readonly connections?: number;
  /**
   * Requests sent on one connection before their answers arrive (HTTP/1.1 pipelining; the server
   * answers in order). 1, undici's default, means keep-alive without pipelining; 0 closes each
   * connection after one request. undici never pipelines behind a streamed upload.
   */
  readonly pipelining?: number;
  /** Idle keep-alive time in ms before the client closes a connection (undici's default: 4 s). */
  readonly keepAliveTimeout?: number;
  /** Upper bound in ms on a keep-alive timeout the server proposes. */
  readonly keepAliveMaxTimeout?: number;
  /** Time in ms to open a connection. */
  readonly connectTimeout?: number;
  /** Time in ms for a response head to arrive. */
  readonly headersTimeout?: number;
  /** Most time in ms between two chunks of a body. */
  readonly bodyTimeout?: number;
}

/** What `set` accepts as a value: bytes, a string (its UTF-8 bytes), or a stream of bytes. */
export type Value = Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

export interface SetOptions {
  /** Seconds until the entry expires (a positive integer); none: no expiry. */
  readonly ttl?: number;
  /** Kept and returned by reads; the server's default is `application/octet-stream`. */
  readonly contentType?: string;
  /** Store only when the current entry's ETag is one of these (`'*'`: when any entry exists). */
  readonly ifMatch?: string | readonly string[];
  /** `'*'`: store only when the key is absent. */
  readonly ifNoneMatch?: '*';
  /**
   * Byte length of a streamed value, sent as `Content-Length`: the server then refuses an oversized
   * value before any of it is sent and reserves exactly this much. Without it a stream goes chunked.
   * Ignored for bytes and strings, whose length is known.
   */
  readonly length?: number;
  readonly signal?: AbortSignal;
}

export interface SetResult {
  /** 201 when the key was new, 200 when a value was replaced. */
  readonly status: 200 | 201;
  readonly created: boolean;
  /**
   * The stored entry's strong ETag, as a `get` of it reports it: ready for the next `ifMatch`
   * (undefined only from an older server that did not send it).
   */
  readonly etag: string | undefined;
}

/** An inclusive byte range as in HTTP: `[first, last]`, or `[first]` for `first` to the end. */
export type ByteRange = readonly [first: number, last?: number];

export interface GetOptions {
  readonly range?: ByteRange;
  /** ETag(s) the caller holds: a match answers `notModified` without the body. */
  readonly ifNoneMatch?: string | readonly string[];
  readonly signal?: AbortSignal;
}

/** Where a `206` body sits in the whole value: bytes `first`..`last` (inclusive) of `size`. */
export interface ContentRange {
  readonly first: number;
  readonly last: number;
  readonly size: number;
}

export interface Entry<B> {
  /** 200 (whole value), 206 (the range asked for) or 304 (the caller's ETag still matches). */
  readonly status: 200 | 206 | 304;
  readonly notModified: boolean;
  /** The bytes; empty for a 304 (and for `head`). */
  readonly body: B;
  readonly contentType: string | undefined;
  readonly etag: string | undefined;
  /** Bytes in `body` (for `head`: what a GET would send). */
  readonly length: number;
  /** Set for a 206. */
  readonly range: ContentRange | undefined;
}

export interface DeleteOptions {
  /** Delete only when the current entry's ETag is one of these. */
  readonly ifMatch?: string | readonly string[];
  readonly signal?: AbortSignal;
}

export interface PurgeOptions {
  readonly signal?: AbortSignal;
}

type Headers = Record<string, string>;
/** undici's body stream: a Readable with `dump()` to discard the rest without buffering it. */
type Body = Dispatcher.ResponseData['body'];
type Method = 'GET' | 'HEAD' | 'PUT' | 'DELETE';

function etagList(v: string | readonly string[]): string {
  return typeof v === 'string' ? v : v.join(', ');
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function checkCount(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min)
    throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
}

function rangeHeader([from, to]: ByteRange): string {
  checkCount('range first', from, 0);
  if (to === undefined) return `bytes=${from}-`;
  checkCount('range last', to, from);
  return `bytes=${from}-${to}`;
}

function parseContentRange(v: string | undefined): ContentRange | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(v ?? '');
  return m ? { first: Number(m[1]), last: Number(m[2]), size: Number(m[3]) } : undefined;
}

const EMPTY = Buffer.alloc(0);

/**
 * A client for one stripecache server (or a balancer in front of several), on an undici `Pool`:
 * keep-alive connections, optional pipelining, values streamed in both directions.
 *
 * Misses are answers (`get` gives `undefined`, `delete` gives `false`); every other status the
 * method does not expect is thrown as a `StripecacheError` subclass carrying the server's status
 * and message.
 */
export class Client {
  readonly #pool: Pool;
  /** Path of the server under the URL's origin, without a trailing `/` (usually empty). */
  readonly #base: string;

  constructor(url: string | URL, options: ClientOptions = {}) {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new TypeError(`stripecache client: ${u.protocol} URLs are not supported (http: or https:)`);
    }
    this.#base = u.pathname.replace(/\/+$/, '');
    this.#pool = new Pool(u.origin, {
      connections: options.connections ?? null,
      pipelining: options.pipelining,
      keepAliveTimeout: options.keepAliveTimeout,
      keepAliveMaxTimeout: options.keepAliveMaxTimeout,
      connectTimeout: options.connectTimeout,
      headersTimeout: options.headersTimeout,
      bodyTimeout: options.bodyTimeout,
    });
  }

  /** Stores `value` under `key`. Throws `PreconditionFailedError` when a condition does not hold. */
  async set(key: Key, value: Value, options: SetOptions = {}): Promise<SetResult> {
    let path = `${this.#base}/store/${encodeKey(key)}`;
    if (options.ttl !== undefined) {
      checkCount('ttl', options.ttl, 1);
      path += `?ttl=${options.ttl}`;
    }
    const headers: Headers = {};
    if (options.contentType !== undefined) headers['content-type'] = options.contentType;
    if (options.ifMatch !== undefined) headers['if-match'] = etagList(options.ifMatch);
    if (options.ifNoneMatch !== undefined) headers['if-none-match'] = options.ifNoneMatch;
    let body: Dispatcher.DispatchOptions['body'];
    if (typeof value === 'string' || value instanceof Uint8Array) {
      body = value;
    } else {
      if (options.length !== undefined) {
        checkCount('length', options.length, 0);
        headers['content-length'] = String(options.length);
      }
      // undici takes a Readable as it is and pulls other async iterables with backpressure.
      body = value instanceof Readable ? value : Readable.from(value, { objectMode: false });
    }
    const res = await this.#request('PUT', path, headers, options.signal, body);
    if (res.statusCode === 200 || res.statusCode === 201) {
      await res.body.dump();
      return {
        status: res.statusCode,
        created: res.statusCode === 201,
        etag: first(res.headers['etag']),
      };
    }
    throw await this.#fail('PUT', path, res);
  }

  /** The value under `key` as one Buffer, or `undefined` when there is none (or it expired). */
  async get(key: Key, options: GetOptions = {}): Promise<Entry<Buffer> | undefined> {
    const entry = await this.#read('GET', key, options);
    if (entry === undefined) return undefined;
    const body = entry.notModified ? EMPTY : await readAll(entry.body, entry.length);
    return { ...entry, body };
  }

  /**
   * The value under `key` as a stream, for values too large to hold at once: the body arrives
   * as the caller reads it. The caller must read it to the end or `destroy()` it, since the
   * connection is not reused before then.
   */
  async getStream(key: Key, options: GetOptions = {}): Promise<Entry<Readable> | undefined> {
    return this.#read('GET', key, options);
  }

  /** What `get` would answer, without the body: status, type, ETag and length. */
  async head(key: Key, options: GetOptions = {}): Promise<Entry<Buffer> | undefined> {
    const entry = await this.#read('HEAD', key, options);
    if (entry === undefined) return undefined;
    await entry.body.dump();
    return { ...entry, body: EMPTY };
  }

  /** Removes `key`: `true` when it existed, `false` when it did not. */
  async delete(key: Key, options: DeleteOptions = {}): Promise<boolean> {
    const path = `${this.#base}/store/${encodeKey(key)}`;
    const headers: Headers = {};
    if (options.ifMatch !== undefined) headers['if-match'] = etagList(options.ifMatch);
    const res = await this.#request('DELETE', path, headers, options.signal);
    if (res.statusCode === 204 || res.statusCode === 404) {
      await res.body.dump();
      return res.statusCode === 204;
    }
    throw await this.#fail('DELETE', path, res);
  }

  /** Removes every entry whose key starts with `prefix`; resolves with how many were removed. */
  async purge(prefix: Key, options: PurgeOptions = {}): Promise<number> {
    const path = `${this.#base}/prefix/${encodeKey(prefix)}`;
    const res = await this.#request('DELETE', path, {}, options.signal);
    if (res.statusCode === 200) {
      const text = await readText(res.body, 64);
      if (!/^\d+$/.test(text))
        throw new Error(`DELETE ${path}: 200 with a body that is not a count: ${text}`);
      return Number(text);
    }
    throw await this.#fail('DELETE', path, res);
  }

  /** Waits for requests in flight, then closes every connection. */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  async #read(method: 'GET' | 'HEAD', key: Key, options: GetOptions): Promise<Entry<Body> | undefined> {
    const path = `${this.#base}/get/${encodeKey(key)}`;
    const headers: Headers = {};
    if (options.range !== undefined) headers['range'] = rangeHeader(options.range);
    if (options.ifNoneMatch !== undefined) headers['if-none-match'] = etagList(options.ifNoneMatch);
    const res = await this.#request(method, path, headers, options.signal);
    const status = res.statusCode;
    if (status === 404) {
      await res.body.dump();
      return undefined;
    }
    if (status !== 200 && status !== 206 && status !== 304) throw await this.#fail(method, path, res);
    const notModified = status === 304;
    if (notModified) await res.body.dump();
    const declared = first(res.headers['content-length']);
    return {
      status,
      notModified,
      body: res.body,
      contentType: first(res.headers['content-type']),
      etag: first(res.headers['etag']),
      length: notModified || declared === undefined ? 0 : Number(declared),
      range: status === 206 ? parseContentRange(first(res.headers['content-range'])) : undefined,
    };
  }

  #request(
    method: Method,
    path: string,
    headers: Headers,
    signal: AbortSignal | undefined,
    body?: Dispatcher.DispatchOptions['body'],
  ): Promise<Dispatcher.ResponseData> {
    return this.#pool.request({ method, path, headers, body, signal });
  }

  async #fail(method: string, path: string, res: Dispatcher.ResponseData): Promise<Error> {
    const message = await readText(res.body);
    return errorFor(res.statusCode, message, { method, path, headers: res.headers });
  }
}
