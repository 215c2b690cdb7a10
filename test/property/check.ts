import { StoreModel, inmTags, resolveRangeModel } from './model.js';
import { header, type ParsedResponse } from './response-parser.js';
import type { WireRequest } from './requests.js';

/**
 * Compares one answer with what the model says it must be, then applies the request to the
 * model. Returns the problems found (empty when none).
 */
export function checkAnswer(model: StoreModel, w: WireRequest, r: ParsedResponse): string[] {
  const problems: string[] = [];
  const want = (cond: boolean, what: string) => {
    if (!cond) problems.push(what);
  };
  const op = w.op;
  const conn = header(r, 'connection')?.toLowerCase();
  if (w.closes) want(conn === 'close', `Connection: ${String(conn)}, expected close`);
  else if (w.keepAlive10) want(conn === 'keep-alive', `Connection: ${String(conn)}, expected keep-alive`);
  else want(conn === undefined || conn === 'keep-alive', `Connection: ${String(conn)} on a kept connection`);
  const interim = op.t === 'put' && op.expect100 ? [100] : [];
  want(
    JSON.stringify(r.interim) === JSON.stringify(interim),
    `interim answers ${JSON.stringify(r.interim)}, expected ${JSON.stringify(interim)}`,
  );
  const status = (s: number) => want(r.status === s, `status ${r.status}, expected ${s}`);
  const bodyIs = (b: Buffer) =>
    want(r.body.equals(b), `body of ${r.body.length} bytes differs from the expected ${b.length} bytes`);
  const textPlain = () => want(header(r, 'content-type') === 'text/plain', 'error answer is not text/plain');
  switch (op.t) {
    case 'put': {
      model.touch(op.key);
      const created = model.set(op.key, op.body, op.contentType ?? 'application/octet-stream');
      status(created ? 201 : 200);
      want(header(r, 'content-length') === '0', 'store answer has a body');
      break;
    }
    case 'del': {
      model.touch(op.key);
      const existed = model.delete(op.key);
      status(existed ? 204 : 404);
      if (!existed) textPlain();
      break;
    }
    case 'get': {
      model.touch(op.key);
      const e = model.get(op.key);
      if (e === undefined) {
        status(404);
        textPlain();
        break;
      }
      // The request's tags match when one is the tag the model knew; a key written since its tag
      // was last seen has a new tag, which no request can carry yet.
      let notModified = false;
      if (op.inm !== null) {
        const tags = inmTags(op.inm);
        notModified = tags === '*' || (e.etag !== null && tags.includes(e.etag));
      }
      if (r.status !== 416) {
        const etagProblem = model.learnEtag(op.key, r);
        if (etagProblem !== null) problems.push(etagProblem);
      }
      if (notModified) {
        status(304);
        break;
      }
      const total = e.bytes.length;
      const ranged =
        op.range !== null && !op.head ? resolveRangeModel(op.range, total) : { kind: 'whole' as const };
      if (ranged.kind === 'unsatisfiable') {
        status(416);
        want(
          header(r, 'content-range') === `bytes */${total}`,
          `Content-Range ${header(r, 'content-range')}`,
        );
        break;
      }
      want(
        header(r, 'content-type') === e.contentType,
        `Content-Type ${header(r, 'content-type')}, expected ${e.contentType}`,
      );
      want(header(r, 'accept-ranges') === 'bytes', 'no Accept-Ranges: bytes');
      if (ranged.kind === 'partial') {
        status(206);
        const cr = `bytes ${ranged.first}-${ranged.last}/${total}`;
        want(
          header(r, 'content-range') === cr,
          `Content-Range ${header(r, 'content-range')}, expected ${cr}`,
        );
        want(
          header(r, 'content-length') === String(ranged.last - ranged.first + 1),
          'Content-Length of the range',
        );
        bodyIs(e.bytes.subarray(ranged.first, ranged.last + 1));
      } else {
        status(200);
        want(!r.headers.has('content-range'), 'Content-Range on a whole answer');
        want(
          header(r, 'content-length') === String(total),
          `Content-Length ${header(r, 'content-length')}, expected ${total}`,
        );
        if (!op.head) bodyIs(e.bytes);
      }
      break;
    }
    case 'root':
      status(200);
      want(header(r, 'content-length') === '13', 'Content-Length of Hello, World!');
      if (!op.head) bodyIs(Buffer.from('Hello, World!'));
      break;
    case 'healthz':
      status(200);
      bodyIs(Buffer.from('ok\n'));
      break;
    case 'refused':
      status(op.status);
      if (op.method !== 'HEAD') textPlain();
      if (op.allow !== null)
        want(header(r, 'allow') === op.allow, `Allow ${header(r, 'allow')}, expected ${op.allow}`);
      break;
    case 'fatal':
      want(
        op.statuses.includes(r.status),
        `status ${r.status}, expected ${op.statuses.join(' or ')} (${op.why})`,
      );
      textPlain();
      break;
  }
  return problems;
}

export { StoreModel };
