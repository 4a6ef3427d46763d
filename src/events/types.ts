/**
 * Event types, version 1: one data schema per type (DESIGN §4).
 * What is logged: hashes, counts, sizes, timings, names. Never dataset bytes,
 * LLM responses, tool arguments or outputs in clear, or credentials.
 */
import { s, type Infer, type Schema } from './schema.js';

const hash = s.hash;
const count = () => s.int(0);
const killedBy = s.nullable(s.oneOf(['timeout', 'memory', 'pids', 'output_limit', 'disk', 'cpu', 'sandbox_lost'] as const));

/** The public, credential-free summary of a sandbox description. */
export const sandboxSummarySchema = s.object({
  tools: s.array(s.string(64), 64),
  entrypoint: s.nullable(s.string(256)),
  scripts: s.array(s.object({ name: s.string(256), hash: hash(), bytes: count() }), 256),
  llm: s.nullable(
    s.object({
      provider: s.string(64),
      model: s.string(256),
      prompt_hash: hash(),
      max_turns: count(),
      max_output_tokens: count(),
    }),
  ),
  limits: s.json(),
  network: s.json(),
});

/** The result of a run as recorded (size-capped; `result_hash` = hash of JCS(result)). */
export const resultSchema = s.object({
  output: s.string(1 << 20),
  bytes: count(),
  truncated: s.bool(),
  json: s.optional(s.nullable(s.json())),
});

const totals = s.json;

export const eventDataSchemas = {
  'execution.requested': s.object({
    dataset_hash: hash(),
    dataset_bytes: count(),
    dataset_format: s.oneOf(['csv', 'json', 'txt'] as const),
    dataset_source: s.oneOf(['inline', 'url'] as const),
    sandbox_hash: hash(),
    fingerprint: hash(),
    sandbox: sandboxSummarySchema,
  }),
  'dataset.loaded': s.object({ dataset_hash: hash(), bytes: count(), medium: s.literal('tmpfs') }),
  'sandbox.created': s.object({ isolation: s.json(), limits: s.json(), network: s.json(), runtime: s.json() }),
  'llm.called': s.object({
    provider: s.string(64),
    host: s.string(256),
    model: s.string(256),
    turn: count(),
    prompt_hash: hash(),
    response_hash: s.nullable(hash()),
    input_tokens: count(),
    output_tokens: count(),
    stop_reason: s.nullable(s.string(64)),
    latency_ms: count(),
    error_code: s.optional(s.nullable(s.string(64))),
  }),
  'tool.invoked': s.object({ call_id: s.string(64), tool: s.string(256), args_hash: hash(), caller: s.oneOf(['llm', 'script'] as const) }),
  'tool.completed': s.object({
    call_id: s.string(64),
    exit_code: s.nullable(s.int(0, 255)),
    duration_ms: count(),
    cpu_ms: count(),
    max_rss_kb: count(),
    stdout_bytes: count(),
    stderr_bytes: count(),
    output_hash: hash(),
    killed_by: killedBy,
    truncated: s.bool(),
  }),
  'file.accessed': s.object({
    call_id: s.string(64),
    op: s.oneOf(['read', 'write', 'exec', 'delete'] as const),
    path: s.string(4096),
    count: s.int(1),
  }),
  'network.requested': s.object({
    call_id: s.string(64),
    host: s.string(256),
    port: s.int(0, 65535),
    allowed: s.bool(),
    bytes_out: count(),
    bytes_in: count(),
  }),
  'execution.completed': s.object({
    exit_code: s.int(0, 255),
    result_hash: hash(),
    result: resultSchema,
    duration_ms: count(),
    totals: totals(),
  }),
  'execution.failed': s.object({
    error_code: s.string(64),
    exit_code: s.nullable(s.int(0, 255)),
    killed_by: killedBy,
    result_hash: hash(),
    result: resultSchema,
    duration_ms: count(),
    totals: totals(),
  }),
  'dataset.deleted': s.object({ bytes_zeroed: count(), tmpfs_released: s.literal(true) }),
  'sandbox.destroyed': s.object({ processes_remaining: s.literal(0), workspace_released: s.literal(true), checks: s.optional(s.json()) }),
  /** Appended on restart for a stream its executor never finished (THREATS B24): the run is dead, no certificate. */
  'execution.aborted': s.object({ reason: s.oneOf(['executor_restarted'] as const), last_seq: s.int(0) }),
  'certificate.sealed': s.object({
    tree_size: s.int(1),
    merkle_root: hash(),
    report_data: s.hex(128),
    attestation: s.json(),
  }),
} as const satisfies Record<string, Schema<unknown>>;

export type EventType = keyof typeof eventDataSchemas;
export type EventData = { [T in EventType]: Infer<(typeof eventDataSchemas)[T]> };
export type SandboxSummary = Infer<typeof sandboxSummarySchema>;
export type RunResult = Infer<typeof resultSchema>;

export const EVENT_TYPES = Object.keys(eventDataSchemas) as EventType[];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.hasOwn(eventDataSchemas, value);
}
