import { HttpError } from '../base/errors.js';
import { Errno } from './llhttp.js';
import { TOKEN_CHUNKED, equalsToken, type RequestHead } from './request.js';

/** What llhttp lets through and this server refuses (docs/http-api.md "Refusals"). */
export function checkHead(head: RequestHead): number {
  if (head.major !== 1 || head.minor > 1) return HttpError.VERSION;
  if (head.hostCount > 1) return HttpError.DUPLICATE_HOST;
  if (head.hostCount === 0 && head.minor === 1) return HttpError.MISSING_HOST;
  if (head.clCount > 1) return HttpError.DUPLICATE_CONTENT_LENGTH;
  if (head.teCount !== 0) {
    if (head.clCount !== 0) return HttpError.CONTENT_LENGTH_CONFLICT;
    if (head.teCount > 1 || !equalsToken(head.src, head.teStart, head.teLen, TOKEN_CHUNKED)) {
      return HttpError.UNSUPPORTED_TE;
    }
  }
  return 0;
}

export function errorForErrno(errno: number): number {
  switch (errno) {
    case Errno.INVALID_VERSION:
      return HttpError.VERSION;
    case Errno.INVALID_TRANSFER_ENCODING:
      return HttpError.UNSUPPORTED_TE;
    case Errno.UNEXPECTED_CONTENT_LENGTH:
      return HttpError.CONTENT_LENGTH_CONFLICT;
    case Errno.INVALID_CONTENT_LENGTH:
      return HttpError.INVALID_CONTENT_LENGTH;
    case Errno.INVALID_CHUNK_SIZE:
      return HttpError.BAD_CHUNK;
    case Errno.INVALID_HEADER_TOKEN:
      return HttpError.INVALID_HEADER;
    case Errno.CR_EXPECTED:
      return HttpError.BARE_LF;
    default:
      return HttpError.MALFORMED;
  }
}

/**
 * Whether the bytes from `from` hold a complete first line of two parts (method and target, no
 * version): an HTTP/0.9 request. Its client sends that one line and waits for an answer, so it
 * is refused as soon as the line ends, not when a blank line or --header-timeout comes.
 */
export function isHttp09Line(src: Uint8Array, from: number, end: number): boolean {
  const lf = src.indexOf(0x0a, from);
  if (lf < 0 || lf >= end || lf - from < 3 || src[lf - 1] !== 0x0d) return false;
  let spaces = 0;
  for (let i = from; i < lf - 1; i++) if (src[i] === 0x20) spaces++;
  return spaces === 1 && src[from] !== 0x20 && src[lf - 2] !== 0x20;
}
