/**
 * The log's routes (docs/transparency.md §11): C2SP tlog-tiles under /tlog
 * (checkpoint, tiles, entry bundles: served from the tile store as written),
 * a certificate's leaf and proof, a fingerprint's history, and the attested
 * log key document. Tiles never change once written: immutable caching; the
 * checkpoint is the one thing that moves.
 */
import type { FastifyPluginAsync } from 'fastify';
import { EphemeraError } from '../../errors.js';
import { errorResponses } from '../../openapi.js';
import { LOG_KEY_DOCUMENT_PATH, assertTileInTree, formatEntryBundlePath, formatTilePath, parseTilePath, type LogKeyDocument } from '../../tlog/index.js';
import { HISTORY_PAGE, type TlogProjection } from './log-projection.js';
import type { TileStore } from './tile-store.js';

export interface TlogRoutesOptions {
  /** null: the log is off on this node (every route answers 503 TLOG_UNAVAILABLE). */
  log: { projection: TlogProjection; store: TileStore; logKey: () => Promise<LogKeyDocument> } | null;
}

const hash = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } as const;
const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;

export const logLeafSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'A leaf of the log (docs/transparency.md §8); its entry is the UTF-8 of its JCS',
  required: [
    'type',
    'v',
    'certificate_id',
    'status',
    'fingerprint',
    'dataset_hash',
    'sandbox_hash',
    'result_hash',
    'result_sealed',
    'certificate_hash',
    'sealed_at',
    'prev',
  ],
  properties: {
    type: { type: 'string', enum: ['ephemera.log-leaf'] },
    v: { type: 'integer', enum: [1] },
    certificate_id: { type: 'string', pattern: '^cert_[0-9A-HJKMNP-TV-Z]{26}$' },
    status: { type: 'string', enum: ['completed', 'failed'] },
    fingerprint: hash,
    dataset_hash: hash,
    sandbox_hash: hash,
    result_hash: { type: ['string', 'null'], pattern: '^sha256:[0-9a-f]{64}$' },
    result_sealed: { type: 'boolean' },
    certificate_hash: hash,
    sealed_at: { type: 'string', format: 'date-time' },
    prev: { type: ['integer', 'null'], minimum: 0, description: 'index of the previous leaf with the same fingerprint' },
  },
} as const;

export const logKeyDocumentSchema = {
  type: 'object',
  additionalProperties: false,
  description: "The log key's statement, bound to the executor by the attestation over its report data (docs/transparency.md §9)",
  required: ['statement', 'statement_hash', 'report_data', 'attestation'],
  properties: {
    statement: {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'v', 'origin', 'vkey', 'tee', 'issued_at'],
      properties: {
        type: { type: 'string', enum: ['ephemera.log-key-statement'] },
        v: { type: 'integer', enum: [1] },
        origin: { type: 'string', description: "the checkpoints' first line and the key's name" },
        vkey: { type: 'string', description: 'the note verifier key: origin+keyid+base64(0x01 ‖ Ed25519 key)' },
        tee: { type: 'object', additionalProperties: true, description: 'what sandbox.created.runtime.tee records for this executor' },
        issued_at: { type: 'string', format: 'date-time' },
      },
    },
    statement_hash: hash,
    report_data: { type: 'string', pattern: '^[0-9a-f]{128}$' },
    attestation: { type: 'object', additionalProperties: true, description: 'over report_data, as a certificate attestation' },
  },
} as const;

const proof = { type: 'array', items: hex64, description: 'RFC 6962 PATH(leaf_index, D[0:size]), the sibling first' } as const;

/** A certificate's `transparency` member (docs/transparency.md §12). */
export const transparencySchema = {
  type: 'object',
  additionalProperties: false,
  description: "The certificate's leaf, proved into a signed checkpoint of the log",
  required: ['leaf_index', 'leaf', 'checkpoint', 'inclusion_proof', 'log_key'],
  properties: {
    leaf_index: { type: 'integer', minimum: 0 },
    leaf: logLeafSchema,
    checkpoint: { type: 'string', description: 'the signed checkpoint note (C2SP tlog-checkpoint), cosignatures included' },
    inclusion_proof: proof,
    log_key: logKeyDocumentSchema,
  },
} as const;

const historySchema = {
  type: 'object',
  additionalProperties: false,
  description: "A fingerprint's runs in the log, newest first, each proved into the checkpoint (docs/transparency.md §14)",
  required: ['fingerprint', 'checkpoint', 'log_key', 'leaves'],
  properties: {
    fingerprint: hash,
    checkpoint: { type: 'string' },
    log_key: logKeyDocumentSchema,
    leaves: {
      type: 'array',
      maxItems: HISTORY_PAGE,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['leaf_index', 'leaf', 'inclusion_proof'],
        properties: { leaf_index: { type: 'integer', minimum: 0 }, leaf: logLeafSchema, inclusion_proof: proof },
      },
    },
  },
} as const;

const binary = (description: string) => ({ description, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } });
const unavailable = { ...errorResponses(503)[503], description: 'The log is off on this node, or has no checkpoint yet (TLOG_UNAVAILABLE)' };
const IMMUTABLE = 'public, max-age=31536000, immutable';

export function tlogRoutes(options: TlogRoutesOptions): FastifyPluginAsync {
  const need = () => options.log ?? off();
  return async (app) => {
    app.get(
      '/tlog/checkpoint',
      {
        schema: {
          summary: "The log's latest checkpoint (C2SP tlog-checkpoint), with the cosignatures collected for it",
          tags: ['transparency'],
          response: {
            200: { description: 'The signed note, text/plain; charset=utf-8', content: { 'text/plain': { schema: { type: 'string' } } } },
            ...errorResponses(500),
            503: unavailable,
          },
        },
      },
      async (_request, reply) => {
        const latest = need().projection.latest ?? off();
        return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache').send(latest.checkpoint);
      },
    );

    app.get<{ Params: { '*': string } }>(
      '/tlog/tile/*',
      {
        schema: {
          summary: 'A Merkle tree tile (tile/<L>/<N>[.p/<W>]) or an entry bundle (tile/entries/<N>[.p/<W>]), C2SP tlog-tiles',
          description: 'Immutable once in the tree. A partial tile is served only at the widths of checkpointed sizes.',
          tags: ['transparency'],
          params: { type: 'object', properties: { '*': { type: 'string', maxLength: 80 } } },
          response: {
            200: binary('The tile (32 bytes per hash) or the entry bundle (u16be-length-prefixed entries)'),
            400: { ...errorResponses(400)[400], description: 'Not a tile path (TLOG_TILE_PATH_INVALID)' },
            404: { ...errorResponses(404)[404], description: 'No such tile in the tree (TLOG_TILE_NOT_FOUND)' },
            ...errorResponses(500),
            503: unavailable,
          },
        },
      },
      async (request, reply) => {
        const log = need();
        const path = parseTilePath(`tile/${request.params['*']}`);
        const tile = path.kind === 'tile' ? path : { level: 0, index: path.index, width: path.width };
        try {
          assertTileInTree(log.projection.size, tile);
        } catch {
          return notFound();
        }
        const name = path.kind === 'tile' ? formatTilePath(path) : formatEntryBundlePath(path);
        const bytes = (await log.store.read(name)) ?? notFound();
        return reply.type('application/octet-stream').header('cache-control', IMMUTABLE).send(Buffer.from(bytes));
      },
    );

    app.get<{ Params: { certificate_id: string } }>(
      '/tlog/leaves/:certificate_id',
      {
        schema: {
          summary: "A certificate's leaf and its inclusion proof into the latest (cosigned) checkpoint",
          tags: ['transparency'],
          params: { type: 'object', required: ['certificate_id'], properties: { certificate_id: { type: 'string', maxLength: 64 } } },
          response: {
            200: transparencySchema,
            404: { ...errorResponses(404)[404], description: 'The certificate is not (yet) in the log (TLOG_NOT_LOGGED)' },
            ...errorResponses(500),
            503: unavailable,
          },
        },
      },
      async (request) => {
        const log = need();
        const answer = await log.projection.transparencyOf(request.params.certificate_id, await log.logKey());
        if (answer === null) throw new EphemeraError('TLOG_NOT_LOGGED', 'the certificate is not (yet) in the transparency log');
        return answer;
      },
    );

    app.get<{ Params: { fingerprint: string }; Querystring: { before?: string } }>(
      '/tlog/history/:fingerprint',
      {
        schema: {
          summary: "A fingerprint's runs in the log, newest first, with proofs",
          description: `At most ${HISTORY_PAGE} leaves; while the last leaf's prev is not null, the next page is \`?before=\` the last leaf's index (docs/transparency.md §14).`,
          tags: ['transparency'],
          params: { type: 'object', required: ['fingerprint'], properties: { fingerprint: hash } },
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { before: { type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$', description: 'only leaves with a smaller index' } },
          },
          response: { 200: historySchema, ...errorResponses(400, 500), 503: unavailable },
        },
      },
      async (request) => {
        const log = need();
        const before = request.query.before === undefined ? undefined : Number(request.query.before);
        return log.projection.history(request.params.fingerprint, await log.logKey(), before);
      },
    );

    app.get(
      LOG_KEY_DOCUMENT_PATH,
      {
        schema: {
          summary: "The log key, attested: verify the attestation, then trust the vkey for the checkpoints' origin",
          tags: ['transparency'],
          response: {
            200: logKeyDocumentSchema,
            ...errorResponses(500),
            503: { ...unavailable, description: 'The log is off, or the attestor did not answer' },
          },
        },
      },
      async (_request, reply) => reply.header('cache-control', 'no-cache').send(await need().logKey()),
    );
  };
}

function off(): never {
  throw new EphemeraError('TLOG_UNAVAILABLE', 'the transparency log is off on this server, or has no checkpoint yet');
}

function notFound(): never {
  throw new EphemeraError('TLOG_TILE_NOT_FOUND', 'no such tile or entry bundle in the log');
}
