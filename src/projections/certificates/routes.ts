/**
 * GET /certificate/:id          the certificate (public by design, THREATS G49)
 * GET /certificate/:id/verify   the verifier's verdict, check by check
 */
import type { FastifyPluginAsync } from 'fastify';
import { EphemeraError } from '../../errors.js';
import { errorBodySchema } from '../../http-errors.js';
import { verifyCertificate, type VerifyOptions } from '../../verify/index.js';
import type { CertificateReader } from './reader.js';
import { replayWithProofs } from './replay.js';

export const certificateIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^(cert_)?[0-9A-HJKMNP-TV-Z]{26}$' } },
} as const;

export const certificateSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['certificate_id', 'events'],
  properties: { certificate_id: { type: 'string' }, status: { type: 'string' }, events: { type: 'array' } },
} as const;

export const verdictSchema = {
  type: 'object',
  required: ['valid', 'checks'],
  properties: {
    valid: { type: 'boolean' },
    certificate_id: { type: ['string', 'null'] },
    tee: { type: ['string', 'null'] },
    hardware_backed: { type: 'boolean' },
    notice: { type: ['string', 'null'] },
    failure: {
      type: ['object', 'null'],
      properties: { code: { type: 'string' }, field: { type: ['string', 'null'] }, message: { type: 'string' } },
    },
    checks: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, status: { type: 'string' }, code: { type: 'string' }, field: { type: 'string' }, detail: { type: 'string' } },
      },
    },
  },
} as const;

export function certificateRoutes(deps: { certificates: CertificateReader; verifyOptions: () => VerifyOptions }): FastifyPluginAsync {
  return async (app) => {
    const load = async (id: string) => {
      const certificate = await deps.certificates.get(id);
      if (!certificate) throw new EphemeraError('CERTIFICATE_NOT_FOUND', `no certificate ${id}`, { fields: { field: 'params.id' } });
      return certificate;
    };

    app.get<{ Params: { id: string } }>('/certificate/:id', {
      schema: { params: certificateIdParams, response: { 200: certificateSchema, 400: errorBodySchema, 404: errorBodySchema } },
    }, async (request) => load(request.params.id));

    app.get<{ Params: { id: string } }>('/certificate/:id/events', {
      schema: {
        params: certificateIdParams,
        response: {
          200: {
            type: 'object',
            properties: {
              certificate_id: { type: 'string' }, tree_size: { type: 'integer' }, root: { type: 'string' }, sealed_root: { type: ['string', 'null'] },
              events: { type: 'array', items: { type: 'object', properties: { event: { type: 'object', additionalProperties: true }, leaf_index: { type: ['integer', 'null'] }, inclusion_proof: { type: ['array', 'null'], items: { type: 'string' } } } } },
            },
          },
          400: errorBodySchema, 404: errorBodySchema,
        },
      },
    }, async (request) => {
      const certificate = await load(request.params.id);
      return { certificate_id: certificate.certificate_id, sealed_root: certificate.merkle?.root ?? null, ...replayWithProofs(certificate.events) };
    });

    app.get<{ Params: { id: string } }>('/certificate/:id/verify', {
      schema: { params: certificateIdParams, response: { 200: verdictSchema, 400: errorBodySchema, 404: errorBodySchema } },
    }, async (request) => verifyCertificate(await load(request.params.id), deps.verifyOptions()));
  };
}
