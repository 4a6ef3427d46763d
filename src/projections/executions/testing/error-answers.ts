/** The app's error answers (src/app.ts), for a bare fastify that registers only the executions routes. */
import type { FastifyInstance } from 'fastify';
import type { EphemeraError } from '../../../errors.js';
import { toHttpError } from '../../../http-errors.js';

export function answerErrorsAsTheApp(app: FastifyInstance): void {
  app.setErrorHandler((error, _request, reply) => {
    const { status, body } = toHttpError((error as EphemeraError).code ?? 'INTERNAL', (error as Error).message);
    const retryAfter = (error as EphemeraError).retryAfterSeconds;
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    return reply.status(status).send(body);
  });
}
