/**
 * POST /execute: run once, certify. Answers with the certificate summary in
 * the seed's shape; the full certificate is at `certificate_url`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { EphemeraError } from '../../errors.js';
import { errorBodySchema } from '../../http-errors.js';
import type { Certificate } from '../../verify/index.js';
import { execute, type ExecuteDeps } from './handler.js';
import { executeRequestSchema, type ExecuteRequest } from './request-schema.js';
import { executeValidatorCompiler } from './request.js';

export const executeResponseSchema = {
  type: 'object',
  required: ['certificate_id', 'status', 'result', 'execution_trace', 'proof', 'certificate_url', 'lifecycle'],
  properties: {
    certificate_id: { type: 'string' },
    status: { type: 'string', enum: ['completed', 'failed'] },
    result: { type: 'object', additionalProperties: true },
    execution_trace: { type: 'object', additionalProperties: true },
    proof: { type: 'object', additionalProperties: true },
    certificate_url: { type: 'string' },
    lifecycle: { type: 'object', additionalProperties: true },
  },
} as const;

export function executeSummary(certificate: Certificate, elapsedMs: number) {
  return {
    certificate_id: certificate.certificate_id,
    status: certificate.status,
    result: {
      output: certificate.result.output,
      exit_code: certificate.result.exit_code,
      error_code: certificate.result.error_code,
      json: certificate.result.json,
      truncated: certificate.result.truncated,
      /** The failing entry script's last stderr ({text, bytes, truncated}); null when none failed. */
      stderr_tail: certificate.result.stderr_tail ?? null,
    },
    execution_trace: certificate.execution_trace,
    proof: {
      tee_attestation: certificate.proof?.attestation ?? null,
      tee: certificate.proof?.tee ?? null,
      report_data: certificate.proof?.report_data ?? null,
      merkle_root: certificate.merkle?.root ?? null,
      tree_size: certificate.merkle?.tree_size ?? null,
      dataset_hash: certificate.dataset_hash,
      sandbox_hash: certificate.sandbox_hash,
      fingerprint: certificate.fingerprint,
    },
    certificate_url: `/certificate/${certificate.certificate_id}`,
    lifecycle: {
      execution_time_ms: elapsedMs,
      dataset_deleted: certificate.lifecycle.dataset_deleted !== null,
      sandbox_destroyed: certificate.lifecycle.sandbox_destroyed !== null,
      timestamps: certificate.lifecycle,
    },
  };
}

/**
 * With EPHEMERA_EXECUTE_TOKEN set, only a caller holding it may run (and spend the server's LLM key).
 * Checked on request, before the body is read; compared as SHA-256 digests, in constant time.
 */
function requireToken(token: string | null) {
  if (token === null) return [];
  const expected = createHash('sha256').update(token).digest();
  return [
    async (request: FastifyRequest) => {
      const given = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
      if (!timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
        throw new EphemeraError('AUTH_REQUIRED', 'POST /execute needs the header Authorization: Bearer <EPHEMERA_EXECUTE_TOKEN>');
      }
    },
  ];
}

export function executeRoute(deps: ExecuteDeps): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Body: ExecuteRequest }>(
      '/execute',
      {
        onRequest: requireToken(deps.config.executeToken),
        // The schema (also the OpenAPI description) checked with every problem listed, and the rules beyond it (request.ts).
        validatorCompiler: executeValidatorCompiler,
        schema: {
          body: executeRequestSchema,
          response: {
            200: executeResponseSchema,
            400: errorBodySchema,
            401: errorBodySchema,
            413: errorBodySchema,
            422: errorBodySchema,
            500: errorBodySchema,
            503: errorBodySchema,
          },
        },
      },
      async (request) => {
        const { certificate, elapsedMs } = await execute(request.body, deps);
        return executeSummary(certificate, elapsedMs);
      },
    );
  };
}
