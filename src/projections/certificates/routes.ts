/**
 * GET /certificate/:id          the certificate (public by design, THREATS G49)
 * GET /certificate/:id/verify   the verifier's verdict, check by check; `trust_key` (repeatable) pins
 *                               keys for this request, besides this server's own key and EPHEMERA_TRUSTED_KEYS
 * GET /.well-known/ephemera-key.json   what a reader pins to trust this server's certificates
 */
import type { FastifyPluginAsync } from 'fastify';
import { EphemeraError } from '../../errors.js';
import { errorBodySchema } from '../../http-errors.js';
import { CERTIFICATE_ID_PARAM, certificateJson, verifyCertificate, type VerifyOptions } from '../../verify/index.js';
import type { CertificateReader } from './reader.js';
import { replayWithProofs } from './replay.js';

export const certificateIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: CERTIFICATE_ID_PARAM } },
} as const;

export const certificateSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['certificate_id', 'events'],
  properties: { certificate_id: { type: 'string' }, status: { type: 'string' }, events: { type: 'array' } },
} as const;

export const verdictSchema = {
  type: 'object',
  required: ['valid', 'trusted', 'status', 'checks'],
  properties: {
    valid: { type: 'boolean', description: 'every check passed' },
    trusted: { type: 'boolean', description: "valid, and signed by a pinned or this server's own key, or hardware-attested under the policy" },
    status: { type: 'string', enum: ['trusted', 'untrusted', 'invalid'] },
    certificate_id: { type: ['string', 'null'] },
    format_version: { type: ['integer', 'null'] },
    tee: { type: ['string', 'null'] },
    hardware_backed: { type: 'boolean' },
    key: {
      type: ['object', 'null'],
      properties: { algorithm: { type: 'string' }, public_key: { type: 'string' }, fingerprint: { type: 'string' } },
    },
    trust: { type: 'object', properties: { basis: { type: ['string', 'null'] }, reason: { type: 'string' } } },
    notice: { type: ['string', 'null'] },
    uncommitted: { type: 'array', items: { type: 'string' } },
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

const keyDocumentSchema = {
  type: 'object',
  required: ['tee', 'hardware_backed'],
  properties: {
    tee: { type: 'string', enum: ['simulated', 'dstack'] },
    algorithm: { type: 'string', enum: ['ed25519'] },
    public_key: { type: 'string', description: 'Ed25519 public key, 64 lowercase hex (simulated)' },
    fingerprint: { type: 'string', description: 'sha256:<hex> of the 32 raw key bytes: what readers pin (simulated)' },
    hardware_backed: { type: 'boolean' },
    compose_hash: { type: ['string', 'null'], description: 'the build readers trust (dstack)' },
  },
} as const;

const PIN = { type: 'string', pattern: '^(?:[0-9a-f]{64}|sha256:[0-9a-f]{64})$' } as const;
const trustKeyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    trust_key: { anyOf: [PIN, { type: 'array', maxItems: 16, items: PIN }], description: 'a key or fingerprint to pin for this request; repeat for more' },
  },
} as const;

export interface CertificateRouteDeps {
  certificates: CertificateReader;
  verifyOptions: () => VerifyOptions;
  /** What /.well-known/ephemera-key.json says about this server's attestor. */
  keyDocument: () => Promise<Record<string, unknown>>;
}

export function certificateRoutes(deps: CertificateRouteDeps): FastifyPluginAsync {
  return async (app) => {
    const load = async (id: string) => {
      const certificate = await deps.certificates.get(id);
      if (!certificate) throw new EphemeraError('CERTIFICATE_NOT_FOUND', `no certificate ${id}`, { fields: { field: 'params.id' } });
      return certificate;
    };

    app.get<{ Params: { id: string } }>(
      '/certificate/:id',
      {
        schema: { params: certificateIdParams, response: { 200: certificateSchema, 400: errorBodySchema, 404: errorBodySchema } },
      },
      async (request, reply) => {
        // Written with canonical events (certificateJson): what a verifier reading the bytes hashes as they are.
        return reply.type('application/json; charset=utf-8').send(certificateJson(await load(request.params.id)));
      },
    );

    app.get<{ Params: { id: string } }>(
      '/certificate/:id/events',
      {
        schema: {
          params: certificateIdParams,
          response: {
            200: {
              type: 'object',
              properties: {
                certificate_id: { type: 'string' },
                tree_size: { type: 'integer' },
                root: { type: 'string' },
                sealed_root: { type: ['string', 'null'] },
                events: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      event: { type: 'object', additionalProperties: true },
                      leaf_index: { type: ['integer', 'null'] },
                      inclusion_proof: { type: ['array', 'null'], items: { type: 'string' } },
                    },
                  },
                },
              },
            },
            400: errorBodySchema,
            404: errorBodySchema,
          },
        },
      },
      async (request) => {
        const certificate = await load(request.params.id);
        return { certificate_id: certificate.certificate_id, sealed_root: certificate.merkle?.root ?? null, ...replayWithProofs(certificate.events) };
      },
    );

    app.get<{ Params: { id: string }; Querystring: { trust_key?: string | string[] } }>(
      '/certificate/:id/verify',
      {
        schema: { params: certificateIdParams, querystring: trustKeyQuery, response: { 200: verdictSchema, 400: errorBodySchema, 404: errorBodySchema } },
      },
      async (request) => {
        const options = deps.verifyOptions();
        const pins = ([] as string[]).concat(request.query.trust_key ?? []);
        return verifyCertificate(await load(request.params.id), { ...options, trustedKeys: [...(options.trustedKeys ?? []), ...pins] });
      },
    );

    app.get('/.well-known/ephemera-key.json', { schema: { response: { 200: keyDocumentSchema } } }, async () => deps.keyDocument());
  };
}
