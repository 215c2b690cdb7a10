export function httpRequest(
  method: string,
  path: string,
  opts?: { host?: string; headers?: Record<string, string>; body?: Buffer },
): Buffer;
export function parseResponses(
  buf: Buffer,
  pos: number,
  onResponse: (status: number, head: string, body: Buffer) => void,
  expectBody?: (status: number) => boolean,
): number;
export function sendAll(
  host: string,
  port: number,
  count: number,
  make: (i: number) => Buffer,
  opts?: { connections?: number; depth?: number; timeoutMs?: number },
): Promise<Record<string, number>>;
export function fetchOne(
  host: string,
  port: number,
  request: Buffer,
  timeoutMs?: number,
): Promise<{ status: number; head: string; body: Buffer }>;
