/** GET /certificate/:id/replay: `ephemera replay` over HTTP, so it works while this server holds the embedded store. */
import type { FastifyPluginAsync } from 'fastify';
import { EphemeraError } from '../../errors.js';
import { errorResponses } from '../../openapi.js';
import type { VerifyOptions } from '../../verify/index.js';
import type { CertificateReader } from '../certificates/index.js';
import { certificateIdParams } from '../certificates/routes.js';
import type { ReadModel } from '../read-model.js';
import { replayAgainstProjection } from './diff.js';

const replaySchema = {
  description: 'The replay: whether the certificate re-derived from the log verifies, and where the projection differs',
  type: 'object',
  additionalProperties: false,
  required: ['certificate_id', 'events', 'log', 'valid', 'failure', 'projection_diff'],
  properties: {
    certificate_id: { type: 'string' },
    events: { type: 'integer', description: 'events replayed from the log' },
    log: { type: 'string', enum: ['sqlite', 'kafka'] },
    valid: { type: 'boolean', description: 'the certificate re-derived from the log verifies' },
    failure: {
      type: ['object', 'null'],
      properties: { code: { type: 'string' }, field: { type: ['string', 'null'] }, message: { type: 'string' } },
    },
    projection_diff: {
      type: 'array',
      description: 'columns where the ClickHouse projection differs from the log (empty: it matches)',
      items: { type: 'object', required: ['field'], properties: { field: { type: 'string' }, log: {}, projection: {} } },
    },
  },
} as const;

export function replayRoutes(deps: {
  certificates: CertificateReader;
  readModel: ReadModel;
  verifyOptions: () => VerifyOptions;
  log: 'sqlite' | 'kafka';
}): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { id: string } }>(
      '/certificate/:id/replay',
      {
        schema: {
          summary: 'Re-derive a certificate from the log, verify it, and diff it against the projection',
          tags: ['certificates'],
          params: certificateIdParams,
          response: { 200: replaySchema, ...errorResponses(400, 404, 500, 503) },
        },
      },
      async (request) => {
        const report = await deps.readModel.query(async (store) =>
          replayAgainstProjection({ certificates: deps.certificates, store, verifyOptions: deps.verifyOptions() }, request.params.id),
        );
        if (!report) throw new EphemeraError('CERTIFICATE_NOT_FOUND', `no certificate ${request.params.id} in the log`, { fields: { field: 'params.id' } });
        const { certificate, valid, failure, projection_diff } = report;
        return { certificate_id: certificate.certificate_id, events: certificate.events.length, log: deps.log, valid, failure, projection_diff };
      },
    );
  };
}
