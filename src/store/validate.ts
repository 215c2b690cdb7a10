/** Argument checks shared by `set` and `reserve`: RangeError with a human message. */
import { MAX_CONTENT_TYPE_BYTES, MAX_KEY_BYTES } from './api.js';

export function checkWriteArgs(
  key: Uint8Array,
  contentType: Uint8Array,
  ttlSeconds: number,
  valueLen: number,
  maxValueSize: number,
): void {
  const keyLen = key.length;
  if (keyLen === 0 || keyLen > MAX_KEY_BYTES) {
    throw new RangeError(`key must be 1 to ${MAX_KEY_BYTES} bytes, got ${keyLen}`);
  }
  if (contentType.length > MAX_CONTENT_TYPE_BYTES) {
    throw new RangeError(`content type must be at most ${MAX_CONTENT_TYPE_BYTES} bytes`);
  }
  if (!(ttlSeconds >= 0) || !Number.isFinite(ttlSeconds)) {
    throw new RangeError(`ttlSeconds must be a finite number >= 0, got ${ttlSeconds}`);
  }
  if (!Number.isSafeInteger(valueLen) || valueLen < 0 || valueLen > maxValueSize) {
    throw new RangeError(`value of ${valueLen} bytes: must be 0 to maxValueSize ${maxValueSize}`);
  }
}
