/**
 * GET /certificate/:id          the certificate (public by design, THREATS G49)
 * GET /certificate/:id/verify   the verifier's verdict, check by check; `trust_key` (repeatable) pins
 *                               keys for this request, besides this server's own key and EPHEMERA_TRUSTED_KEYS
 * GET /.well-known/ephemera-key.json   what a reader pins to trust this server's certificates
 */
import type { FastifyPluginAsync } from 'fastify';
import { EphemeraError } from '../../errors.js';
import { errorResponses, LIFECYCLE_TIMES } from '../../openapi.js';
import {
  CERTIFICATE_ID_PARAM,
  CERTIFICATE_ID_PATTERN,
  CERTIFICATE_MEMBERS,
  certificateJson,
  verifyCertificate,
  type Certificate,
  type VerifyOptions,
} from '../../verify/index.js';
import { DEFAULT_LEASE_MS, streamState, type EventEnvelope } from '../../events/index.js';
import type { CertificateReader } from './reader.js';
import type { CertificateTransparency } from '../../tlog/index.js';
import { transparencySchema } from '../tlog/routes.js';
import { replayWithProofs } from './replay.js';

export const certificateIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: CERTIFICATE_ID_PARAM } },
} as const;

const object = { type: 'object', additionalProperties: true } as const;

/**
 * The certificate document (docs/verification.md). Documentation only: the
 * route sends the stored text itself, so this schema never re-serializes it
 * (a verifier hashes the bytes; certificates.int.test.ts compares them).
 */
export const certificateSchema = {
  description: 'The certificate, byte for byte as issued (its events in canonical form)',
  type: 'object',
  additionalProperties: true,
  required: [...CERTIFICATE_MEMBERS],
  properties: {
    certificate_id: { type: 'string', pattern: CERTIFICATE_ID_PATTERN.source },
    version: { type: 'integer', enum: [1, 2] },
    execution_id: { type: 'string' },
    status: { type: 'string', enum: ['completed', 'failed', 'incomplete', 'aborted'] },
    dataset_hash: { type: 'string' },
    sandbox_hash: { type: 'string' },
    fingerprint: { type: 'string' },
    dataset: object,
    sandbox: { type: ['object', 'null'], additionalProperties: true },
    isolation: { type: ['object', 'null'], additionalProperties: true },
    result: {
      type: 'object',
      additionalProperties: true,
      properties: { output: { type: 'string' }, exit_code: { type: ['integer', 'null'] }, error_code: { type: ['string', 'null'] } },
    },
    execution_trace: object,
    lifecycle: LIFECYCLE_TIMES,
    merkle: { type: ['object', 'null'], additionalProperties: true },
    proof: { type: ['object', 'null'], additionalProperties: true },
    events: { type: 'array', items: object },
    transparency: {
      ...transparencySchema,
      description: 'Once the log has integrated it: its leaf, inclusion proof, signed checkpoint and log key (docs/transparency.md §12)',
    },
  },
} as const;

export const verdictSchema = {
  description: "The verifier's verdict, check by check",
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
    input: {
      type: ['object', 'null'],
      description: 'how the input arrived (docs/sealed.md §4): plain, or sealed to a key statement; null when not valid',
      properties: {
        mode: { type: 'string', enum: ['plain', 'sealed'] },
        suite: { type: 'string' },
        key_statement_hash: { type: 'string' },
        sealed: { type: 'array', items: { type: 'string' } },
      },
    },
    sealed_result: {
      type: ['object', 'null'],
      description: 'the X25519 key the result is sealed to, and its fingerprint; null for a result in the clear',
      properties: { recipient: { type: 'string' }, fingerprint: { type: 'string' } },
    },
    rows: {
      type: ['object', 'null'],
      description: "the dataset's row commitment (docs/row-proofs.md §3), or why there is none; null when the certificate says neither or is not valid",
      properties: {
        committed: { type: 'boolean' },
        format: { type: 'string' },
        count: { type: 'integer' },
        root: { type: 'string' },
        sorted_by: { type: ['string', 'null'] },
        reason: { type: 'string' },
      },
    },
    transparency: {
      type: ['object', 'null'],
      description: "the certificate's leaf in the transparency log, as checked (docs/transparency.md §12); null when it carries none",
      properties: {
        leaf_index: { type: 'integer' },
        tree_size: { type: 'integer' },
        origin: { type: 'string' },
        root_hash: { type: 'string' },
        checkpoint: { type: 'string' },
        log_key: { type: 'string' },
        trusted: { type: 'boolean' },
        trust: { type: 'string' },
        cosigned_by: { type: 'array', items: { type: 'string' } },
        unverified_signers: { type: 'array', items: { type: 'string' } },
        prev: { type: ['integer', 'null'] },
      },
    },
    build: {
      type: ['object', 'null'],
      description: 'the build the certificate was checked against (docs/reproducible-builds.md §5): null here, where no reader gave build-info documents',
      properties: {
        commit: { type: ['string', 'null'] },
        version: { type: 'string' },
        reproducible: { type: 'boolean' },
        bundle_sha256: { type: ['string', 'null'] },
        measured: { type: 'boolean' },
        compose_hash: { type: ['string', 'null'] },
        runtime_matches: { type: 'boolean' },
        differences: { type: 'array', items: { type: 'string' } },
      },
    },
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
  description: "What a reader pins to trust this server's certificates",
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
  /** EPHEMERA_EXECUTION_LEASE_MS: how long an open run's executor may be silent before the run reads as abandoned. */
  leaseMs?: number;
  /** The certificate's place in the transparency log once integrated (docs/transparency.md §12), or null. */
  transparencyOf?: (certificateId: string) => Promise<CertificateTransparency | null>;
}

/**
 * Where the execution stands (events/stream-state.ts), beside the document: its `status` is re-derived by every
 * verifier from the events alone (docs/verification.md §6), so the clock-dependent `abandoned` cannot live in it.
 */
export const EXECUTION_STATE_HEADER = 'ephemera-execution-state';
const stateHeader = {
  [EXECUTION_STATE_HEADER]: {
    type: 'string',
    enum: ['running', 'certified', 'aborted', 'abandoned'],
    description:
      'certified or aborted once the stream is closed; abandoned: an open stream whose executor was silent past its lease (never certified). A running stream has no document yet: 404 with Retry-After',
  },
} as const;

export function certificateRoutes(deps: CertificateRouteDeps): FastifyPluginAsync {
  return async (app) => {
    const load = async (id: string): Promise<Certificate> => {
      const certificate = await deps.certificates.get(id);
      if (!certificate) throw new EphemeraError('CERTIFICATE_NOT_FOUND', `no certificate ${id}`, { fields: { field: 'params.id' } });
      if (!deps.transparencyOf || certificate.events.at(-1)?.type !== 'certificate.sealed') return certificate;
      // The proof is the log's, added when read (never stored: a rebuild or replay compares what the executor issued).
      // A log that cannot answer (off, a follower without the key) leaves it out: the certificate is whole without it.
      const transparency = await deps.transparencyOf(certificate.certificate_id).catch(() => null);
      return transparency ? { ...certificate, transparency } : certificate;
    };
    const stateOf = (events: readonly EventEnvelope[]) => streamState(events, Date.now(), deps.leaseMs ?? DEFAULT_LEASE_MS);

    app.get<{ Params: { id: string } }>(
      '/certificate/:id',
      {
        schema: {
          summary: 'The certificate document',
          description:
            'Public by design. The page for people is /c/{id}. A run still going has no certificate yet: 404 CERTIFICATE_NOT_FOUND with Retry-After (its live state is GET /executions/{execution id}); an aborted or abandoned run is served as its unsealed document, which says so in Ephemera-Execution-State.',
          tags: ['certificates'],
          params: certificateIdParams,
          response: { 200: { ...certificateSchema, headers: stateHeader }, ...errorResponses(400, 404, 500, 503) },
        },
      },
      async (request, reply) => {
        const certificate = await load(request.params.id);
        const state = stateOf(certificate.events);
        // A run still going (or whose seal this node has not projected yet: another node issued it a moment ago) has
        // no certificate yet: no half a document a reader would take for one; it may ask again (Retry-After).
        if (state === 'running')
          throw new EphemeraError(
            'CERTIFICATE_NOT_FOUND',
            `no certificate ${request.params.id} yet: the run is still going, or this node has not yet projected its seal; its live state is /executions/${certificate.execution_id}`,
            { fields: { field: 'params.id' }, retryAfterSeconds: 1 },
          );
        // Written with canonical events (certificateJson): what a verifier reading the bytes hashes as they are.
        return reply.type('application/json; charset=utf-8').header(EXECUTION_STATE_HEADER, state).send(certificateJson(certificate));
      },
    );

    app.get<{ Params: { id: string } }>(
      '/certificate/:id/events',
      {
        schema: {
          summary: 'The certificate events with their Merkle inclusion proofs',
          tags: ['certificates'],
          params: certificateIdParams,
          response: {
            200: {
              description: 'Every event, its leaf index and its inclusion proof against the sealed root',
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
            ...errorResponses(400, 404, 500, 503),
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
        schema: {
          summary: 'Verify the certificate on this server',
          tags: ['certificates'],
          params: certificateIdParams,
          querystring: trustKeyQuery,
          response: { 200: verdictSchema, ...errorResponses(400, 404, 500, 503) },
        },
      },
      async (request) => {
        const options = deps.verifyOptions();
        const pins = ([] as string[]).concat(request.query.trust_key ?? []);
        return verifyCertificate(await load(request.params.id), { ...options, trustedKeys: [...(options.trustedKeys ?? []), ...pins] });
      },
    );

    app.get(
      '/.well-known/ephemera-key.json',
      { schema: { summary: "This server's key or build, to pin", tags: ['certificates'], response: { 200: keyDocumentSchema, ...errorResponses(500, 503) } } },
      async () => deps.keyDocument(),
    );
  };
}
