/**
 * POST /execute request, as JSON Schema (draft-07, Ajv 8). Strict: unknown
 * fields are rejected (sandbox-weakening fields such as `privileged`, `binds`
 * or `env` cannot be smuggled in, THREATS A16), no type coercion, sizes and
 * ranges bounded (THREATS G47). The same schema serves the route, the CLI and
 * the OpenAPI description.
 */
import type { RowsRequest } from '../../seal/index.js';
import type { ToolName } from '../../sandbox/index.js';

export const SCRIPT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\\.(py|sh)$';

export const limitsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['timeout_seconds', 'max_memory_mb'],
  properties: {
    timeout_seconds: { type: 'integer', minimum: 1, maximum: 3600, description: 'Wall-clock limit for the whole run.' },
    max_memory_mb: { type: 'integer', minimum: 16, maximum: 16384, description: 'Memory cap for the sandboxed processes.' },
    network: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allow: {
          type: 'array',
          maxItems: 16,
          uniqueItems: true,
          items: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9.-]{0,252}:[0-9]{1,5}$' },
          description: 'host:port pairs reachable through the logging proxy; absent or empty: no network at all.',
        },
      },
    },
  },
} as const;

export const executeRequestSchema = {
  $id: 'ExecuteRequest',
  type: 'object',
  additionalProperties: false,
  required: ['dataset', 'sandbox'],
  properties: {
    dataset: {
      type: 'object',
      additionalProperties: false,
      required: ['format'],
      oneOf: [{ required: ['data'] }, { required: ['url'] }],
      properties: {
        data: {
          type: 'string',
          pattern: '^base64:[A-Za-z0-9+/\\r\\n]*(?:={1,2}[\\r\\n]*)?$',
          description: 'The dataset inline, as "base64:<standard base64>"; line breaks (\\n or \\r\\n, MIME style) are allowed.',
        },
        url: {
          type: 'string',
          pattern: '^https?://',
          maxLength: 4096,
          description:
            'An https URL fetched straight into memory (size- and time-capped; plain http only where the server allows it). Loopback, private, link-local, metadata and other non-public addresses are refused, on every redirect, unless the operator allowlisted them.',
        },
        format: { type: 'string', enum: ['csv', 'json', 'txt'] },
        allow_empty: { type: 'boolean', description: 'Run on an empty (0-byte) dataset instead of refusing it with DATASET_EMPTY. Default false.' },
        rows: {
          description:
            'How the records are committed for row proofs (docs/row-proofs.md §6): "input" (default) in input order, {"sorted_by": key} sorted by a key (csv, json), or "none".',
          oneOf: [
            { type: 'string', enum: ['input', 'none'] },
            {
              type: 'object',
              additionalProperties: false,
              required: ['sorted_by'],
              properties: { sorted_by: { type: 'string', minLength: 1, maxLength: 256 } },
            },
          ],
        },
      },
    },
    sandbox: {
      type: 'object',
      additionalProperties: false,
      required: ['environment'],
      properties: {
        llm: {
          type: 'object',
          additionalProperties: false,
          required: ['prompt', 'model'],
          properties: {
            prompt: { type: 'string', minLength: 1, maxLength: 200_000 },
            model: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$' },
            api_key: {
              type: 'string',
              minLength: 1,
              maxLength: 512,
              description: 'Anthropic API key; else ANTHROPIC_API_KEY. Never stored, logged or hashed.',
            },
            max_turns: { type: 'integer', minimum: 1, maximum: 50 },
            max_output_tokens: { type: 'integer', minimum: 1, maximum: 64_000 },
            max_total_tokens: { type: 'integer', minimum: 1, maximum: 5_000_000 },
          },
        },
        tools: { type: 'array', maxItems: 8, uniqueItems: true, items: { type: 'string', enum: ['bash', 'python', 'grep', 'sql'] }, default: [] },
        scripts: {
          type: 'object',
          maxProperties: 64,
          propertyNames: { pattern: SCRIPT_NAME_PATTERN },
          additionalProperties: { type: 'string', maxLength: 1048576 },
          description: 'Script name (ending .py or .sh) → source.',
        },
        entrypoint: { type: 'string', pattern: SCRIPT_NAME_PATTERN },
        environment: limitsSchema,
      },
    },
    result_recipient: {
      type: 'string',
      pattern: '^[0-9a-f]{64}$',
      description:
        'An X25519 public key (64 hex; `ephemera keygen` makes one): the result is sealed to it, and the certificate carries only its ciphertext and a salted hash (docs/sealed.md §5).',
    },
  },
} as const;

export interface ExecuteRequest {
  dataset: { data?: string; url?: string; format: 'csv' | 'json' | 'txt'; allow_empty?: boolean; rows?: RowsRequest };
  sandbox: {
    llm?: { prompt: string; model: string; api_key?: string; max_turns?: number; max_output_tokens?: number; max_total_tokens?: number };
    /** The sandbox's ToolName, which gains "sql" with the tool's sandbox side; the schema above takes "sql" already. */
    tools?: ToolName[];
    scripts?: Record<string, string>;
    entrypoint?: string;
    environment: { timeout_seconds: number; max_memory_mb: number; network?: { allow?: string[] } };
  };
  /** Seal the result to this X25519 public key (hex). */
  result_recipient?: string;
}
