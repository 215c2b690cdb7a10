/**
 * What an origin's `Cache-Control` means for the RAM tier (RFC 9111 §5.2.2, as a shared cache):
 * `no-store` and `private` forbid keeping the answer (it is still served to the requests that
 * waited for it); `s-maxage` wins over `max-age` for the TTL; anything else keeps the default.
 */
export interface Freshness {
  store: boolean;
  /** Seconds; 0 = no expiry; -1 = none given (use --origin-ttl). */
  ttl: number;
}

const MAX_TTL = 10 * 366 * 24 * 3600;

export function parseCacheControl(value: string | string[] | undefined): Freshness {
  const out: Freshness = { store: true, ttl: -1 };
  if (value === undefined) return out;
  const text = Array.isArray(value) ? value.join(',') : value;
  let maxAge = -1;
  let sMaxAge = -1;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const arg =
      eq < 0
        ? ''
        : part
            .slice(eq + 1)
            .trim()
            .replace(/^"(.*)"$/, '$1');
    if (name === 'no-store' || name === 'private') out.store = false;
    else if (name === 'max-age' && /^\d+$/.test(arg)) maxAge = Math.min(Number(arg), MAX_TTL);
    else if (name === 's-maxage' && /^\d+$/.test(arg)) sMaxAge = Math.min(Number(arg), MAX_TTL);
  }
  const age = sMaxAge >= 0 ? sMaxAge : maxAge;
  // max-age=0: stale at once, so not kept (the requests that waited for it are still served).
  if (age === 0) out.store = false;
  else if (age > 0) out.ttl = age;
  return out;
}
