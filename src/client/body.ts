import type { Readable } from 'node:stream';

/**
 * Reads a response body into one Buffer. With a declared length the Buffer is allocated once and
 * each chunk is copied into place as it arrives, so a big value is held once (not as a list of
 * chunks plus their concatenation); the chunks themselves are the socket's and are released as
 * soon as they are copied.
 */
export async function readAll(body: Readable, length: number | undefined): Promise<Buffer> {
  if (length === undefined) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for await (const chunk of body) {
    const c = chunk as Buffer;
    if (at + c.length > length) {
      body.destroy();
      throw new Error(`response body longer than its Content-Length ${length}`);
    }
    c.copy(out, at);
    at += c.length;
  }
  if (at !== length) throw new Error(`response body of ${at} bytes, Content-Length said ${length}`);
  return out;
}

/** An error body as text, at most `limit` bytes of it (the rest is discarded, never buffered). */
export async function readText(body: Readable, limit = 4096): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const c = chunk as Buffer;
    if (size < limit) chunks.push(c.subarray(0, limit - size));
    size += c.length;
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}
