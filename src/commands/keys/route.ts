/**
 * GET /.well-known/ephemera-seal-key.json: the current sealing key's document
 * (docs/sealed.md §2): its statement, the statement's hash, the report data
 * and the attestation over it. A client checks all of it before it seals.
 * Never cached: a key rotates, and a stale one is refused.
 */
import type { FastifyPluginAsync } from 'fastify';
import { KEY_DOCUMENT_PATH } from '../../seal/index.js';
import { errorResponses } from '../../openapi.js';
import type { KeyRing } from './key-ring.js';

const hash = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } as const;

/** The key document; the attestation is the same shape as a certificate's (`certificate.sealed.attestation`). */
export const keyDocumentSchema = {
  description: "The executor's current sealing key: its statement, bound by the attestation's report data (docs/sealed.md §2)",
  type: 'object',
  additionalProperties: false,
  required: ['statement', 'statement_hash', 'report_data', 'attestation'],
  properties: {
    statement: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'v', 'suite', 'public_key', 'key_id', 'node', 'tee', 'not_before', 'not_after'],
      properties: {
        type: { type: 'string', enum: ['ephemera.key-statement'] },
        v: { type: 'integer', enum: [1] },
        suite: { type: 'string', enum: ['x25519-aes256gcm', 'xwing-aes256gcm'] },
        public_key: { type: 'string', pattern: '^[0-9a-f]+$', description: 'the HPKE public key, hex' },
        key_id: { ...hash, description: 'SHA-256 of the public key bytes' },
        node: { type: 'string' },
        tee: { type: 'object', additionalProperties: true, description: 'what sandbox.created.runtime.tee records for this executor' },
        not_before: { type: 'string', format: 'date-time' },
        not_after: { type: 'string', format: 'date-time', description: 'not_before + rotation period + grace' },
      },
    },
    statement_hash: { ...hash, description: 'SHA-256 of the JCS statement: what a sealed request names as its key_id' },
    report_data: { type: 'string', pattern: '^[0-9a-f]{128}$' },
    attestation: {
      type: 'object',
      additionalProperties: true,
      description: 'over report_data: a simulated Ed25519 signature, or a TDX quote with its event log and collateral',
    },
  },
} as const;

export function keyRoutes(keyRing: KeyRing): FastifyPluginAsync {
  return async (app) => {
    app.get(
      KEY_DOCUMENT_PATH,
      {
        schema: {
          summary: "The executor's sealing key, attested",
          description:
            'Fetch it, verify the attestation over its report data, trust its key or build, check its age, then seal a request to it ' +
            '(POST /execute with Content-Type application/vnd.ephemera.sealed-request). Keys rotate; a request sealed to a key this node no longer holds gets 421 or 410.',
          tags: ['execute'],
          response: {
            200: keyDocumentSchema,
            ...errorResponses(500),
            503: {
              ...errorResponses(503)[503],
              description: 'No attested sealing key yet: the attestor did not answer (ATTEST_UNAVAILABLE); plain requests are still served',
            },
          },
        },
      },
      async (_request, reply) => {
        const document = await keyRing.document();
        return reply.header('cache-control', 'no-store').send(document);
      },
    );
  };
}
