/**
 * The witness over HTTP (C2SP tlog-witness): `POST /add-checkpoint`, the
 * monitoring `GET /<origin hash>/checkpoint`, and `GET /` (its key and logs).
 * A small fastify app of its own, nothing of the API's: the body is bounded
 * before it is read (ADD_CHECKPOINT_MAX_BYTES, else 413), and a request has
 * WITNESS_REQUEST_TIMEOUT_MS to arrive whole.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { ADD_CHECKPOINT_MAX_BYTES } from '../tlog/witness-messages.js';
import { errorAnswer, type Witness, type WitnessAnswer } from './witness.js';

export const WITNESS_REQUEST_TIMEOUT_MS = 10_000;
/** Connections at once: each may hold a body of ADD_CHECKPOINT_MAX_BYTES, so this bounds the memory requests take (~70 MiB). */
export const WITNESS_MAX_CONNECTIONS = 256;

export function buildWitnessApp(witness: Witness, options: { requestTimeoutMs?: number } = {}): FastifyInstance {
  const timeout = options.requestTimeoutMs ?? WITNESS_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    logger: false,
    bodyLimit: ADD_CHECKPOINT_MAX_BYTES,
    // The whole request (headers and body) within the timeout, and no socket idle longer; Node checks these every
    // connectionsCheckingInterval (30 s by default, which would let a slow sender hold a socket 40 s).
    requestTimeout: timeout,
    connectionTimeout: timeout,
    http: { headersTimeout: timeout, connectionsCheckingInterval: Math.min(1_000, timeout) },
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
  });
  app.server.maxConnections = WITNESS_MAX_CONNECTIONS;
  // The body is the protocol's text whatever Content-Type a client sends (or none): read as bytes, parsed by us.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const send = (reply: import('fastify').FastifyReply, answer: WitnessAnswer) =>
    reply.code(answer.status).header('content-type', answer.contentType).header('cache-control', 'no-store').send(answer.body);

  app.post('/add-checkpoint', async (request, reply) => {
    const body = request.body;
    if (!(body instanceof Uint8Array)) return send(reply, errorAnswer('TLOG_WITNESS_REQUEST_MALFORMED', 'the request has no body'));
    return send(reply, await witness.addCheckpoint(body));
  });

  app.get<{ Params: { originHash: string } }>('/:originHash/checkpoint', async (request, reply) => {
    const note = /^[0-9a-f]{64}$/.test(request.params.originHash) ? witness.latestByOriginHash(request.params.originHash) : null;
    if (note === null) return send(reply, errorAnswer('TLOG_WITNESS_ORIGIN_UNKNOWN', 'this witness has cosigned no checkpoint of a log with this origin hash'));
    return reply.code(200).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-cache').send(note);
  });

  app.get('/', async (_request, reply) =>
    reply.code(200).header('cache-control', 'no-cache').send({ type: 'ephemera.witness', vkey: witness.vkey, origins: witness.origins() }),
  );

  app.setNotFoundHandler((_request, reply) => send(reply, errorAnswer('NOT_FOUND', 'no such route on this witness')));
  // Fastify's own refusals (body too large, a body on a GET, a timeout): a stable code, never a stack.
  app.setErrorHandler((error: { statusCode?: number; code?: string }, _request, reply) => {
    if (error.statusCode === 413) return send(reply, errorAnswer('REQUEST_BODY_TOO_LARGE', `a request is at most ${ADD_CHECKPOINT_MAX_BYTES} bytes`));
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
      return send(reply, errorAnswer('TLOG_WITNESS_REQUEST_MALFORMED', 'the request could not be read'));
    return send(reply, errorAnswer('INTERNAL', 'internal error'));
  });
  return app;
}
