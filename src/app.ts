/**
 * The fastify app: plugins, then routes; one error handler that maps codes to
 * statuses and never echoes a 5xx message or any text derived from a request
 * body (Node's JSON.parse errors quote their input: never forwarded).
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { ErrorObject } from 'ajv';
import { isEphemeraError } from './errors.js';
import { toHttpError, type ErrorProblem } from './http-errors.js';
import { parseJsonBody } from './json-body.js';
import { AJV_OPTIONS, executeRoute, partInvalid } from './commands/execute/index.js';
import { LiveRuns } from './commands/execute/live-runs.js';
import { executionRoutes, type EventStreamLimits } from './projections/executions/routes.js';
import { certificateRoutes } from './projections/certificates/index.js';
import type { Services } from './services.js';
import { keyFingerprint } from './verify/index.js';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { searchRoutes } from './projections/search/routes.js';
import { analyticsRoutes } from './projections/analytics/routes.js';
import { replayRoutes } from './projections/replay/index.js';
import { webRoutes } from './web/plugin.js';
import { OPENAPI_DOCUMENT } from './openapi.js';
import { attestorProbe, healthRoutes, logProbe, projectionsProbe } from './health.js';
import { createMetrics, metricsRoutes } from './metrics.js';
import { executorOfTee } from './projections/executor.js';
import { SEALED_REQUEST_CONTENT_TYPE } from './seal/index.js';
import { keyRoutes } from './commands/keys/route.js';
import { tlogRoutes } from './projections/tlog/routes.js';

export interface AppOptions {
  /** fastify logger setting; off in tests (a stream: tests that read what is logged). Request bodies and headers are never logged. */
  logger?: boolean | { level: string; stream?: { write(line: string): void } };
  /** Event streams' keep-alive and polling periods (tests shorten them); the other limits come from the config. */
  eventStreams?: Partial<Pick<EventStreamLimits, 'keepAliveMs' | 'pollMs'>>;
}

export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: services.config.bodyLimitBytes,
    logger: options.logger ?? false,
    ajv: { customOptions: { ...AJV_OPTIONS } },
  });

  // JSON only: fastify's default text/plain parser would hand a text body to schema validation (a 400 that hides the real 415).
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body } = classify(error, request as unknown as Record<string, unknown>);
    // Overload and shutdown refusals are not failures: they say when to come back (RFC 9110 §10.2.3) instead of being logged.
    const retryAfter = isEphemeraError(error) ? error.retryAfterSeconds : undefined;
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    else if (status >= 500) request.log.error({ code: body.error.code, errCode: isEphemeraError(error) ? error.code : error.code }, 'request failed');
    return reply.status(status).send(body);
  });
  // A draining node closes each connection after its answer: a proxy then never reuses an idle one the node is about
  // to close, a race that reaches the client as a bare connection reset on a POST it cannot safely retry.
  app.addHook('onSend', async (_request, reply) => {
    if (services.admission.snapshot().draining) void reply.header('connection', 'close');
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } }),
  );

  await app.register(swagger, { openapi: OPENAPI_DOCUMENT });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const metrics = createMetrics(services);
  // This node's async runs: written by the execute route, read by the executions routes.
  const runs = new LiveRuns({ max: services.config.asyncRunsMax, retentionMs: services.config.asyncRetentionSeconds * 1000 });
  await app.register(
    executeRoute(
      {
        config: services.config,
        log: services.log,
        attestor: services.attestor,
        createSandbox: services.createSandbox,
        selfCheck: services.selfCheck,
        admission: services.admission,
        onRunEnd: metrics.observeRun,
        journal: services.journal,
      },
      { runs },
      services.keyRing,
    ),
  );
  // The first sealing key is made as the app starts (a failing attestor leaves plain requests served: key-ring.ts).
  await services.keyRing.start();
  await app.register(keyRoutes(services.keyRing));
  await app.register(
    executionRoutes({
      runs,
      streams: services.certificates,
      nodeId: services.nodeId,
      leaseMs: services.config.executionLeaseMs,
      // An async run may be in its accepting node's memory only this long before its first event is stored.
      pendingMs: services.config.queueTimeoutMs + services.config.datasetFetchTimeoutMs + 10_000,
      limits: {
        maxStreams: services.config.eventStreamsMax,
        maxDurationMs: services.config.eventStreamMaxSeconds * 1000,
        keepAliveMs: options.eventStreams?.keepAliveMs ?? 15_000,
        pollMs: options.eventStreams?.pollMs ?? 1000,
      },
    }),
  );
  await app.register(
    certificateRoutes({
      certificates: services.certificates,
      verifyOptions: () => services.verifyOptions,
      keyDocument: () => keyDocumentOf(services.attestor),
      leaseMs: services.config.executionLeaseMs,
      ...(services.tlog ? { transparencyOf: (id: string) => services.tlog!.transparencyOf(id) } : {}),
    }),
  );
  await app.register(searchRoutes(services.readModel));
  await app.register(analyticsRoutes(services.readModel));
  await app.register(
    healthRoutes(
      { log: logProbe(services.log), projections: projectionsProbe(services.readModel), attestor: attestorProbe(services.attestor) },
      () => services.admission.snapshot(),
      { nodeId: services.nodeId, executor: once(async () => executorOfTee(await services.attestor.describe())) },
    ),
    replayRoutes({ certificates: services.certificates, readModel: services.readModel, verifyOptions: () => services.verifyOptions, log: services.log.kind }),
  );
  await app.register(metricsRoutes(metrics));
  const tlog = services.tlog;
  await app.register(tlogRoutes({ log: tlog && { projection: tlog.projection, store: tlog.store, logKey: () => tlog.logKeyDocument() } }));
  tlog?.start();
  await app.register(webRoutes({ certificateExists: async (id) => (await services.certificates.get(id)) !== null }));
  return app;
}

/** The first answer, kept (a failed one is retried next time). */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | null = null;
  return () => (made ??= make().catch((error: unknown) => ((made = null), Promise.reject(error))));
}

/** What a reader pins to trust this server: its simulated key, or (dstack) the build it runs. */
async function keyDocumentOf(attestor: Services['attestor']): Promise<Record<string, unknown>> {
  const tee = await attestor.describe();
  if (tee.type === 'simulated')
    return { tee: 'simulated', algorithm: 'ed25519', public_key: tee.public_key, fingerprint: keyFingerprint(tee.public_key), hardware_backed: false };
  return { tee: 'dstack', hardware_backed: true, compose_hash: tee.compose_hash };
}

function classify(error: FastifyError, request: Record<string, unknown>) {
  if (isEphemeraError(error)) {
    const field = typeof error.fields.field === 'string' ? error.fields.field : undefined;
    const problems = Array.isArray(error.fields.problems) ? (error.fields.problems as ErrorProblem[]) : undefined;
    return toHttpError(error.code, error.message, field, problems);
  }
  if (error.validation) {
    // Another part than the execute body (params, querystring): the same words (one place: problems.ts).
    const part = error.validationContext ?? 'body';
    const invalid = partInvalid(error.validation as ErrorObject[], part, request[part]);
    return toHttpError(invalid.code, invalid.message, invalid.fields.field as string, invalid.fields.problems as ErrorProblem[]);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return toHttpError('REQUEST_BODY_TOO_LARGE', 'the request body exceeds the configured limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return toHttpError('REQUEST_UNSUPPORTED_MEDIA_TYPE', `send application/json (or, to POST /execute, ${SEALED_REQUEST_CONTENT_TYPE})`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return toHttpError('REQUEST_MALFORMED_JSON', 'the body is empty');
  }
  if (error.statusCode === 400 || error instanceof SyntaxError) return toHttpError('REQUEST_MALFORMED_JSON', 'the body is not valid JSON');
  return toHttpError('INTERNAL', 'internal error');
}
