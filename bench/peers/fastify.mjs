// Peer: fastify + Map, the framework most Node users would pick. Logging off, as in fastify's own benchmarks.
import Fastify from 'fastify';
import { parseFlags, parseRange, nextEtag, announce, HELLO, DEFAULT_TYPE } from './common.mjs';

const { port, host } = parseFlags(process.argv.slice(2));
const store = new Map();
const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024, keepAliveTimeout: 60_000 });
// Values are opaque bytes whatever their Content-Type: parse every body as a Buffer.
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

app.get('/', (_req, reply) => {
  reply.type('text/plain').send(HELLO);
});

app.get('/get/*', (req, reply) => {
  const e = store.get(req.params['*']);
  if (e === undefined) return reply.code(404).type('text/plain').send('not found\n');
  if (req.headers['if-none-match'] === e.etag) return reply.code(304).header('etag', e.etag).send();
  const r = parseRange(req.headers.range, e.body.length);
  if (r === -1) return reply.code(416).header('content-range', `bytes */${e.body.length}`).send();
  reply.type(e.type).header('etag', e.etag);
  if (r === null) return reply.send(e.body);
  reply.code(206).header('content-range', `bytes ${r[0]}-${r[1]}/${e.body.length}`);
  return reply.send(e.body.subarray(r[0], r[1] + 1));
});

function store_(req, reply) {
  const key = req.params['*'];
  const existed = store.has(key);
  const body = req.body ?? Buffer.alloc(0);
  store.set(key, { body, type: req.headers['content-type'] ?? DEFAULT_TYPE, etag: nextEtag() });
  reply
    .code(existed ? 200 : 201)
    .type('text/plain')
    .send(existed ? 'replaced\n' : 'created\n');
}
app.post('/store/*', store_);
app.put('/store/*', store_);

await app.listen({ port, host });
announce(host, app.server.address().port);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
process.on('SIGINT', () => process.exit(0));
