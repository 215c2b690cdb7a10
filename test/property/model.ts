import { header, type ParsedResponse } from './response-parser.js';

/**
 * The model the server is compared with: key bytes -> value, content type and what is known of
 * its ETag. The ETag is the server's to choose (a version, not a hash of the bytes), so the model
 * learns it from the first answer that carries one after a write, and requires that it differs
 * from every tag the key had before (a strong validator changes whenever the value does) and stays
 * the same until the next write.
 */
export interface Entry {
  bytes: Buffer;
  contentType: string;
  /** null: written since the last answer that showed the tag. */
  etag: string | null;
}

export class StoreModel {
  readonly entries = new Map<string, Entry>();
  /** Every tag each key has shown, to check a new value's tag is new. */
  private readonly seen = new Map<string, Set<string>>();
  /** Every key any request named (read back at the end, present or not). */
  readonly touched = new Map<string, Buffer>();

  static id(key: Uint8Array): string {
    return Buffer.from(key).toString('hex');
  }

  get(key: Uint8Array): Entry | undefined {
    return this.entries.get(StoreModel.id(key));
  }

  touch(key: Uint8Array): void {
    this.touched.set(StoreModel.id(key), Buffer.from(key));
  }

  /** Stores a value; returns whether the key was new (201) rather than replaced (200). */
  set(key: Uint8Array, bytes: Buffer, contentType: string): boolean {
    const id = StoreModel.id(key);
    const had = this.entries.has(id);
    this.entries.set(id, { bytes, contentType, etag: null });
    return !had;
  }

  delete(key: Uint8Array): boolean {
    return this.entries.delete(StoreModel.id(key));
  }

  /**
   * Checks the ETag of an answer about `key` (present in the model) and learns it. Returns a
   * problem or null.
   */
  learnEtag(key: Uint8Array, r: ParsedResponse): string | null {
    const tag = header(r, 'etag');
    if (tag === undefined) return 'no ETag';
    if (!/^"[0-9a-f]{16}"$/.test(tag)) return `ETag ${tag} is not a strong 16-hex-digit tag`;
    const id = StoreModel.id(key);
    const e = this.entries.get(id)!;
    if (e.etag !== null) return e.etag === tag ? null : `ETag ${tag}, expected ${e.etag} (no write since)`;
    let seen = this.seen.get(id);
    if (seen === undefined) this.seen.set(id, (seen = new Set()));
    if (seen.has(tag)) return `ETag ${tag} was already this key's tag before the last write`;
    seen.add(tag);
    e.etag = tag;
    return null;
  }
}

/** A Range header as RFC 9110 §14 reads it (one bytes= spec; anything else is ignored). */
export type RangeAnswer =
  { kind: 'whole' } | { kind: 'partial'; first: number; last: number } | { kind: 'unsatisfiable' };

export function resolveRangeModel(value: string, total: number): RangeAnswer {
  const m = /^bytes=(\d*)-(\d*)$/i.exec(value);
  if (m === null) return { kind: 'whole' };
  const [a, b] = [m[1]!, m[2]!];
  if (a === '' && b === '') return { kind: 'whole' };
  if (a === '') {
    const n = Number(b);
    if (n === 0 || total === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', first: Math.max(0, total - n), last: total - 1 };
  }
  const first = Number(a);
  if (b !== '' && Number(b) < first) return { kind: 'whole' };
  if (first >= total) return { kind: 'unsatisfiable' };
  const last = b === '' ? total - 1 : Math.min(Number(b), total - 1);
  return { kind: 'partial', first, last };
}

/** The quoted 16-hex-digit tags of an If-None-Match value (weak or strong), or '*'. */
export function inmTags(value: string): string[] | '*' {
  if (value.trim() === '*') return '*';
  return [...value.matchAll(/(?:W\/)?("[^"]*")/g)].map((m) => m[1]!);
}
