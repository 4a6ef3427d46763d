/**
 * POST /execute: run once, certify. Answers with the certificate summary in
 * the seed's shape; the certificate's page is at `certificate_url`, the
 * document itself at `certificate_json_url`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { EphemeraError } from '../../errors.js';
import { RUN_ID_PATTERN } from '../../events/index.js';
import { EXECUTE_TOKEN_SCHEME, errorResponses, EXECUTION_TIME_MS, LIFECYCLE_TIMES } from '../../openapi.js';
import { errorBodySchema } from '../../http-errors.js';
import { CERTIFICATE_ID_PATTERN, type Certificate } from '../../verify/index.js';
import { KEY_DOCUMENT_PATH, SEALED_REQUEST_CONTENT_TYPE } from '../../seal/index.js';
import { costOf, type Ticket } from './admission.js';
import { runAdmitted, type AdmittedRunDeps } from './admitted-run.js';
import { precheck } from './handler.js';
import { checkRecipient } from './outcome.js';
import { executeRequestSchema, type ExecuteRequest } from './request-schema.js';
import { executeValidatorCompiler } from './request.js';
import { executionUrls, startAsync, type AsyncRunDeps } from './async-run.js';
import { prefersAsync } from './prefer.js';
import type { KeyRing } from '../keys/key-ring.js';
import { openSealedExecute, type SealedInput } from './sealed-request.js';
import { SECRET_BYTES } from '../../rows/index.js';

const nullableString = { type: ['string', 'null'] } as const;

/** Given once, to the submitter only (docs/row-proofs.md §7): never stored, logged or served again. */
const ROW_SECRET_SCHEMA = {
  type: 'string',
  pattern: '^([0-9a-f]{64}|sealed)$',
  description:
    'the run\'s row secret (64 hex), to prove records of the dataset with `ephemera prove` (docs/row-proofs.md); "sealed" for a sealed request, whose client derives it; absent when dataset.rows is "none", and in a 200 whose certificate commits no rows (dataset.rows_absent says why; a 202 cannot know yet)',
} as const;

/** The POST /execute answer. Nested objects keep members this schema does not list (fast-json-stringify drops unlisted members otherwise). */
export const executeResponseSchema = {
  description: 'The run happened and its certificate was issued (a failed computation is a certified run too: `status` says how it ended)',
  type: 'object',
  required: ['certificate_id', 'status', 'result', 'submission', 'execution_trace', 'proof', 'certificate_url', 'certificate_json_url', 'lifecycle'],
  properties: {
    certificate_id: { type: 'string', pattern: CERTIFICATE_ID_PATTERN.source },
    status: { type: 'string', enum: ['completed', 'failed'] },
    result: {
      type: 'object',
      additionalProperties: true,
      required: ['output', 'exit_code', 'error_code', 'json', 'truncated', 'stderr_tail'],
      properties: {
        output: { type: 'string', description: "the script's stdout, or the model's answer" },
        exit_code: { type: ['integer', 'null'] },
        error_code: { ...nullableString, description: 'why the run failed (docs/errors.md); null when it completed' },
        json: { type: ['object', 'null'], additionalProperties: true, description: 'the output parsed, when it is a JSON object' },
        truncated: { type: 'boolean' },
        stderr_tail: {
          type: ['object', 'null'],
          additionalProperties: false,
          required: ['text', 'bytes', 'truncated'],
          properties: { text: { type: 'string' }, bytes: { type: 'integer' }, truncated: { type: 'boolean' } },
          description: "a failed entry script's last 4 KiB of stderr; null when none failed",
        },
        sealed: {
          type: 'object',
          additionalProperties: false,
          required: ['suite', 'recipient', 'enc', 'ciphertext'],
          properties: { suite: { type: 'string' }, recipient: { type: 'string' }, enc: { type: 'string' }, ciphertext: { type: 'string' } },
          description:
            'only for a request with result_recipient: the result and stderr tail sealed to that key (docs/sealed.md §5); output is then "", stderr_tail null. `ephemera open` decrypts it',
        },
      },
    },
    submission: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['mode', 'suite', 'key_statement_hash', 'sealed'],
      properties: {
        mode: { type: 'string', enum: ['sealed'] },
        suite: { type: 'string' },
        key_statement_hash: { type: 'string', description: 'the key statement the input was sealed to: check it is the one you verified' },
        sealed: { type: 'array', items: { type: 'string', enum: ['dataset', 'api_key', 'sandbox'] } },
      },
      description: "how the input arrived: the certificate's dataset.submission for a sealed request; null for a plain one",
    },
    execution_trace: {
      type: 'object',
      additionalProperties: true,
      description: "the certificate's execution_trace (tool uses, LLM calls, file and network activity, resources)",
    },
    proof: {
      type: 'object',
      additionalProperties: true,
      required: ['tee_attestation', 'tee', 'report_data', 'merkle_root', 'tree_size', 'dataset_hash', 'sandbox_hash', 'fingerprint'],
      properties: {
        tee_attestation: { type: ['object', 'null'], additionalProperties: true },
        tee: nullableString,
        report_data: nullableString,
        merkle_root: nullableString,
        tree_size: { type: ['integer', 'null'] },
        dataset_hash: { type: 'string' },
        sandbox_hash: { type: 'string' },
        fingerprint: { type: 'string' },
      },
    },
    row_secret: ROW_SECRET_SCHEMA,
    certificate_url: { type: 'string', description: 'the human page of the certificate (relative to this server)' },
    certificate_json_url: { type: 'string', description: 'the certificate document itself, served byte for byte as issued (relative to this server)' },
    lifecycle: {
      type: 'object',
      additionalProperties: true,
      required: ['execution_time_ms', 'dataset_deleted', 'sandbox_destroyed', 'timestamps'],
      properties: {
        execution_time_ms: EXECUTION_TIME_MS,
        dataset_deleted: { type: 'boolean' },
        sandbox_destroyed: { type: 'boolean' },
        timestamps: LIFECYCLE_TIMES,
      },
    },
  },
} as const;

/** The row secret of a run, drawn before it starts, and how the answer carries it (docs/row-proofs.md §7). */
function rowSecretFor(body: ExecuteRequest, sealed: SealedInput | undefined): { secret: Uint8Array | undefined; answer: { row_secret?: string } } {
  if (body.dataset.rows === 'none') return { secret: undefined, answer: {} };
  if (sealed) return { secret: undefined, answer: { row_secret: 'sealed' } };
  const secret = randomBytes(SECRET_BYTES);
  return { secret, answer: { row_secret: secret.toString('hex') } };
}

/** The 202 answer to `Prefer: respond-async`: where to follow the run. */
export const acceptedResponseSchema = {
  description:
    'Prefer: respond-async was honoured: the run waits for admission and runs in the background. `Location` and `status_url` give its state, `events_url` its events as they happen (Server-Sent Events).',
  type: 'object',
  additionalProperties: false,
  required: ['execution_id', 'state', 'status_url', 'events_url'],
  properties: {
    execution_id: { type: 'string', pattern: RUN_ID_PATTERN.source },
    state: { type: 'string', enum: ['queued'] },
    status_url: { type: 'string', description: "GET it for the run's state (relative to this server)" },
    events_url: { type: 'string', description: "GET it for the run's events as Server-Sent Events (relative to this server)" },
    row_secret: ROW_SECRET_SCHEMA,
  },
} as const;

/** Where a certificate is, for people (the page) and for programs (the JSON). */
export const certificateUrls = (certificateId: string) => ({
  certificate_url: `/c/${certificateId}`,
  certificate_json_url: `/certificate/${certificateId}`,
});

export function executeSummary(certificate: Certificate) {
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
      ...(certificate.result.sealed ? { sealed: certificate.result.sealed } : {}),
    },
    submission: certificate.dataset.submission ?? null,
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
    ...certificateUrls(certificate.certificate_id),
    lifecycle: {
      // The committed figure, so the answer, the certificate, search and analytics agree (docs/design.md §API).
      execution_time_ms: certificate.lifecycle.execution_time_ms,
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

/**
 * With EPHEMERA_REQUIRE_SEALED, a plain request is refused before its body is read: every plain request carries a
 * dataset, and a dataset URL (often a pre-signed one) is as much a capability to the data as the data itself.
 */
function requireSealed(required: boolean) {
  if (!required) return [];
  return [
    async (request: FastifyRequest) => {
      if (mediaType(request) !== SEALED_REQUEST_CONTENT_TYPE) {
        throw new EphemeraError(
          'SEALED_REQUIRED',
          `this server accepts only sealed submissions (Content-Type: ${SEALED_REQUEST_CONTENT_TYPE}; docs/sealed.md)`,
        );
      }
    },
  ];
}

const mediaType = (request: FastifyRequest) => (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

/** The binary body, in the OpenAPI description (its framing: docs/sealed.md §3). */
const sealedBodySchema = {
  type: 'string',
  format: 'binary',
  description:
    'A sealed request (docs/sealed.md §3): "EPHSEAL1", the header length, the JCS header (key statement hash, suite, encapsulated key, chunk sizes, ' +
    'dataset format, the sandbox when not sealed, result_recipient), then the HPKE ciphertext chunks of the inner part (API key, sandbox) and the dataset. ' +
    `Fetch and verify ${KEY_DOCUMENT_PATH} first; \`ephemera submit\` does both.`,
} as const;

/** The error answers of POST /execute, the capacity ones described. */
const executeErrors = {
  ...errorResponses(400, 401, 413, 415, 500),
  400: {
    ...errorBodySchema,
    description:
      'The request is invalid: `error.code` says why, `error.field` where. A sealed request: SEALED_REQUEST_MALFORMED (framing, header), ' +
      'SEALED_SUITE_MISMATCH, SEALED_DECRYPT_FAILED (any part fails to open), SEALED_PAYLOAD_INVALID (the opened inner part), then the codes of a plain request',
  },
  403: { ...errorBodySchema, description: 'This server requires sealed submissions (SEALED_REQUIRED, EPHEMERA_REQUIRE_SEALED): the plain body was not read' },
  409: { ...errorBodySchema, description: 'This sealed request was already submitted (SEALED_REPLAY): nothing ran' },
  410: {
    ...errorBodySchema,
    description: 'The key statement the request was sealed to is past its not_after (SEALED_KEY_EXPIRED): fetch the key document again',
  },
  421: {
    ...errorBodySchema,
    description:
      'This node holds no key statement with the hash the request names (SEALED_KEY_UNKNOWN: another node, a restart, a retired key): fetch its key document again',
  },
  422: {
    ...errorBodySchema,
    description: "The dataset could not be loaded, or the run's declared limits exceed the server's whole memory budget (CAPACITY_REQUEST_TOO_LARGE)",
  },
  503: {
    ...errorBodySchema,
    description:
      'Overloaded (CAPACITY_EXHAUSTED: slots and queue full; CAPACITY_QUEUE_TIMEOUT: no slot within the queue time) or shutting down (SERVER_DRAINING), ' +
      'each with Retry-After; or a component the run needs (log, attestor, sandbox) is unavailable',
    headers: {
      'Retry-After': { description: 'seconds to wait before retrying (the overload and shutdown refusals)', schema: { type: 'integer', minimum: 1 } },
    },
  },
};

/** Waits for a slot; a caller who hangs up while waiting leaves the queue (null: nobody to answer). */
async function admitted(deps: AdmittedRunDeps, body: ExecuteRequest, reply: FastifyReply): Promise<Ticket | null> {
  const left = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableEnded) left.abort(new Error('the caller closed the connection while queued'));
  };
  reply.raw.once('close', onClose);
  try {
    return await deps.admission.admit(costOf(body, deps.config, deps.sealed?.dataset.length), left.signal);
  } catch (error) {
    if (left.signal.aborted) return null;
    throw error;
  } finally {
    reply.raw.off('close', onClose);
  }
}

/** 202 at once: the run waits for its slot and runs in the background (async-run.ts); the refusals that need no wait come first. */
function answerAsync(body: ExecuteRequest, deps: AdmittedRunDeps, async: AsyncRunDeps, reply: FastifyReply, rows: { row_secret?: string }) {
  const executionId = startAsync(body, deps, async);
  const urls = executionUrls(executionId);
  return reply
    .status(202)
    .header('location', urls.status_url)
    .header('preference-applied', 'respond-async')
    .send({ execution_id: executionId, state: 'queued', ...urls, ...rows });
}

export function executeRoute(deps: AdmittedRunDeps, async: AsyncRunDeps, keyRing: KeyRing): FastifyPluginAsync {
  return async (app) => {
    // A sealed body as bytes, under the same body limit as JSON (this plugin's scope only).
    app.addContentTypeParser(SEALED_REQUEST_CONTENT_TYPE, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    app.post<{ Body: ExecuteRequest | Buffer }>(
      '/execute',
      {
        onRequest: [...requireToken(deps.config.executeToken), ...requireSealed(deps.config.requireSealed)],
        // The schema (also the OpenAPI description) checked with every problem listed, and the rules beyond it (request.ts).
        validatorCompiler: executeValidatorCompiler,
        schema: {
          summary: 'Run once and certify',
          description:
            "Loads the dataset into memory, runs the sandbox once, destroys both, and answers with the issued certificate's summary. " +
            'With EPHEMERA_EXECUTE_TOKEN set, the bearer token is required. ' +
            `A sealed request (Content-Type ${SEALED_REQUEST_CONTENT_TYPE}, docs/sealed.md) carries the dataset, the API key and optionally the sandbox encrypted to this executor's attested key (${KEY_DOCUMENT_PATH}); ` +
            'it is opened in memory, refused when replayed, then runs exactly like a plain one; with EPHEMERA_REQUIRE_SEALED only sealed requests are accepted. ' +
            'With `result_recipient` the result is sealed to that key. ' +
            'With `Prefer: respond-async` (RFC 7240) the answer comes before the run: 202 with the execution id, ' +
            '`Location: /executions/{id}` and `Preference-Applied: respond-async`; what can be refused without the dataset is refused first, with the same errors.',
          tags: ['execute'],
          security: [{ [EXECUTE_TOKEN_SCHEME]: [] }],
          headers: {
            type: 'object',
            properties: { prefer: { type: 'string', description: 'RFC 7240 preferences; `respond-async` answers 202 before the run (others are ignored)' } },
          },
          body: { content: { 'application/json': { schema: executeRequestSchema }, [SEALED_REQUEST_CONTENT_TYPE]: { schema: sealedBodySchema } } },
          response: { 200: executeResponseSchema, 202: acceptedResponseSchema, ...executeErrors },
        },
      },
      async (request, reply) => {
        const { request: body, sealed } = Buffer.isBuffer(request.body)
          ? await openSealedExecute(request.body, keyRing)
          : { request: request.body, sealed: undefined as SealedInput | undefined };
        // The ciphertext is spent once opened: not held for the length of the run.
        if (sealed) (request as { body: unknown }).body = null;
        const rows = rowSecretFor(body, sealed);
        const runDeps: AdmittedRunDeps = { ...deps, ...(sealed ? { sealed } : {}), ...(rows.secret ? { rowSecret: rows.secret } : {}) };
        // Until a run owns it (then `execute` or the background run zeroes it), the opened plaintext is this handler's to zero.
        let handedOver = false;
        try {
          // A request that breaks the rules is refused before it can wait for a slot.
          precheck(body, deps.config);
          await checkRecipient(body.result_recipient);
          if (prefersAsync(request.headers.prefer)) {
            const answer = answerAsync(body, runDeps, async, reply, rows.answer);
            handedOver = true;
            return answer;
          }
          const ticket = await admitted(runDeps, body, reply);
          if (ticket === null) {
            // The caller is gone: nothing ran, nothing to send.
            reply.hijack();
            reply.raw.destroy();
            return;
          }
          handedOver = true;
          const certificate = await runAdmitted(body, runDeps, ticket);
          // A secret of nothing committed (an unsplittable dataset) is not handed out: the certificate says why.
          return { ...executeSummary(certificate), ...(certificate.dataset.rows ? rows.answer : {}) };
        } finally {
          if (!handedOver) {
            sealed?.plaintext.fill(0);
            sealed?.rowSecret.fill(0);
            rows.secret?.fill(0);
          }
        }
      },
    );
  };
}
