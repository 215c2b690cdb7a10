import { Method } from '../parser/llhttp.js';
import type { RequestHead } from '../parser/request.js';
import { StoreLockTimeoutError } from '../store/lock.js';
import type { TakeoverContext } from '../http/api.js';
import { Conn } from '../http/canned.js';
import { HttpError } from '../base/errors.js';
import { C_H2_REQUESTS, Route } from '../http/metrics.js';
import type { Answer } from './answer.js';

/**
 * One HTTP/2 request answered by the thread's Responder (`code`: an HttpError to answer
 * instead), the same way on both HTTP/2 layers: what the responder wrote goes into `answer`, and
 * its `:status` + fields come back (null when the head could not be read back). The head is
 * released; the answer's body and pins are the caller's to send.
 */
export function replyInto(
  ctx: TakeoverContext,
  answer: Answer,
  head: RequestHead,
  code: number,
): (string | number)[] | null {
  const r = ctx.responder;
  const out = r.out;
  const withBody = head.method !== Method.HEAD;
  out.mark();
  try {
    if (code !== 0) r.error(code, Conn.Keep, withBody, Route.Other);
    else r.answer(head, Conn.Keep);
  } catch (e) {
    // As on HTTP/1.1: a stuck stripe lock is 503, anything else a bug (500); the thread goes on.
    ctx.log(e);
    out.rewind();
    r.error(
      e instanceof StoreLockTimeoutError ? HttpError.STORE_BUSY : HttpError.INTERNAL,
      Conn.Keep,
      true,
      Route.Other,
    );
  }
  head.release();
  out.flush(answer);
  r.metrics.add(C_H2_REQUESTS, 1);
  return answer.parse();
}
