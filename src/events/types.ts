/**
 * Event types: one data schema per type and format version (docs/design.md §4,
 * docs/verification.md §4). What is logged: hashes, counts, sizes, timings,
 * names. Never dataset bytes, LLM responses, tool arguments or outputs in
 * clear, or credentials.
 *
 * Version 2 (written today) is closed all the way down: every block has its
 * members listed, none is optional (absent is written null) but those added
 * later, and the sealing event carries only what its attestation proves. The
 * ones added later are absent when they do not apply (never null: one
 * spelling per value), so the certificates issued before them still verify as
 * they are: `execution.failed.stderr_tail` (no entry script failed),
 * `execution.requested.submission` (plain input), the outcome events'
 * `sealed_result` (a result in the clear), `dataset.loaded`'s `rows` and
 * `rows_absent` (an executor that did not commit rows), `tool.invoked`'s
 * `parent_call_id` (a call made directly, not from inside another call) and
 * `tool.completed`'s `sql` (not an SQL call, or one killed before the engine
 * answered; docs/sql-tool.md §8). Version 1 is kept to read
 * certificates issued before; its open blocks (`s.json()`) are why a v1
 * verdict lists members that nothing commits (docs/verification.md §9).
 */
import { s, type Infer, type Schema } from './schema.js';

const hash = s.hash;
const count = () => s.int(0);
const killedBy = s.nullable(s.oneOf(['timeout', 'memory', 'pids', 'output_limit', 'disk', 'cpu', 'sandbox_lost'] as const));
const text = (max = 4096) => s.string(max);

/** dstack runtime events (RTMR3) are the only kind whose digest can be recomputed from their fields. */
export const DSTACK_RUNTIME_EVENT_TYPE = 0x08000001;

// ---------------------------------------------------------------- version 2

const sandboxSummaryV2 = s.object({
  tools: s.array(s.oneOf(['bash', 'python', 'grep', 'sql'] as const), 8),
  entrypoint: s.nullable(text(256)),
  scripts: s.array(s.object({ name: text(256), hash: hash(), bytes: count() }), 64),
  llm: s.nullable(s.object({ provider: text(64), model: text(256), prompt_hash: hash(), max_turns: count(), max_output_tokens: count() })),
  limits: s.object({ timeout_seconds: count(), max_memory_mb: count() }),
  network: s.object({ allow: s.array(text(260), 16) }),
});

export const runResultSchemaV2 = s.object({
  output: s.string(1 << 20),
  bytes: count(),
  truncated: s.bool(),
  /** The JSON object found in the output: the user's own data, free-form. */
  json: s.nullable(s.json()),
});

/** What the failing entry script wrote last to stderr (result.ts: the last 4 KiB captured, whole characters). */
export const stderrTailSchemaV2 = s.object({ text: s.string(4096), bytes: count(), truncated: s.bool() });

const totalsV2 = s.object({ tool_calls: count(), cpu_ms: count(), max_rss_kb: count(), llm_calls: count(), input_tokens: count(), output_tokens: count() });

const isolationV2 = s.object({
  tool: s.literal('bubblewrap'),
  namespaces: s.array(text(32), 16),
  new_session: s.bool(),
  die_with_parent: s.bool(),
  init: text(),
  capabilities: text(),
  no_new_privileges: s.bool(),
  nested_user_namespaces: s.bool(),
  uid: count(),
  host_uid: s.nullable(count()),
  host_paths: s.array(text(), 64),
  seccomp: s.either(s.literal(false), s.object({ mechanism: text(), errno_eperm: s.array(text(), 128), killed: text() })),
  file_tracing: text(),
});

const nullableText = () => s.nullable(text(256));
export const teeSchemaV2 = s.tagged('type', {
  simulated: s.object({ type: s.literal('simulated'), public_key: s.hex(64), hardware_backed: s.literal(false) }),
  dstack: s.object({
    type: s.literal('dstack'),
    hardware_backed: s.literal(true),
    app_id: nullableText(),
    instance_id: nullableText(),
    app_name: nullableText(),
    compose_hash: nullableText(),
    os_image_hash: nullableText(),
    measurements: s.object({ mrtd: nullableText(), rtmr0: nullableText(), rtmr1: nullableText(), rtmr2: nullableText(), rtmr3: nullableText() }),
  }),
});

const runtimeV2 = s.object({
  kernel: text(256),
  tools: s.record(s.object({ path: text(), version: text(), sha256: hash() }), 32),
  tee: teeSchemaV2,
});

/** Intel DCAP collateral, exactly the members the TDX verifier checks (docs/verification.md §7.2). */
const collateralV2 = s.object({
  pck_crl_issuer_chain: text(1 << 16),
  root_ca_crl: s.hex(undefined, 1 << 20),
  pck_crl: s.hex(undefined, 1 << 22),
  tcb_info_issuer_chain: text(1 << 16),
  tcb_info: text(1 << 20),
  tcb_info_signature: s.hex(128),
  qe_identity_issuer_chain: text(1 << 16),
  qe_identity: text(1 << 20),
  qe_identity_signature: s.hex(128),
});

export const attestationSchemaV2 = s.tagged('type', {
  simulated: s.object({ type: s.literal('simulated'), public_key: s.hex(64), signature: s.hex(128) }),
  tdx: s.object({
    type: s.literal('tdx'),
    quote: s.hex(undefined, 1 << 16),
    event_log: s.array(
      s.object({
        imr: s.literal(3),
        event_type: s.literal(DSTACK_RUNTIME_EVENT_TYPE),
        digest: s.hex(96),
        event: text(256),
        event_payload: s.hex(undefined, 1 << 16),
      }),
      256,
    ),
    collateral: collateralV2,
  }),
});

/** The sealed-submission suites (docs/sealed.md §1); sealed results use the first only. */
export const SEAL_SUITES = ['x25519-aes256gcm', 'xwing-aes256gcm'] as const;

/** Present only when the input arrived sealed (docs/sealed.md §4); absent means plain. */
const submissionV2 = s.object({
  mode: s.literal('sealed'),
  suite: s.oneOf(SEAL_SUITES),
  key_statement_hash: hash(),
  sealed: s.array(s.oneOf(['dataset', 'api_key', 'sandbox'] as const), 3),
});

/** Present only when the result was sealed to its owner (docs/sealed.md §5); `result` is then the empty result. */
const sealedResultV2 = s.object({
  suite: s.literal('x25519-aes256gcm'),
  recipient: s.hex(64),
  enc: s.hex(64),
  /**
   * The plaintext is the result (64 KiB of output, its JSON, each escaped up to 6× in JCS) and a stderr tail:
   * under 1 MiB, so at most 2 MiB of ciphertext, 4 Mi hex digits.
   */
  ciphertext: s.hex(undefined, 1 << 22),
});

/** The row commitment (docs/row-proofs.md §3): present when the records were committed. */
const rowsV2 = s.object({
  format: s.oneOf(['csv', 'json', 'txt'] as const),
  count: s.int(1),
  root: s.hex(64),
  sorted_by: s.nullable(text(256)),
});

/**
 * What the SQL engine answered, on a completed call of tool `sql` (docs/sql-tool.md §8): rows returned, the UTF-8
 * length of their JSON, whether a cap cut them, and the engine's SQL_* code (null: it answered the query).
 */
const sqlAnswerV2 = s.object({ rows: count(), bytes: count(), truncated: s.bool(), error_code: s.nullable(text(64)) });

/** Why a dataset's records were not committed (docs/row-proofs.md §1, §6, §8). */
export const ROWS_ABSENT_REASONS = ['csv_quoting', 'json_invalid', 'not_utf8', 'empty', 'too_many_records', 'sort_key_invalid', 'not_requested'] as const;

const destroyChecksV2 = s.either(
  s.object({ sandbox_started: s.literal(false) }),
  s.object({
    cgroup_processes_remaining: count(),
    namespace_holders: count(),
    namespaces_checked: s.bool(),
    processes_remaining: count(),
    dataset_bytes_zeroed: count(),
  }),
);

/** tool.completed as version 1 wrote it, and version 2 before `sql`. */
const toolCompletedV1 = {
  call_id: text(64),
  exit_code: s.nullable(s.int(0, 255)),
  duration_ms: count(),
  cpu_ms: count(),
  max_rss_kb: count(),
  stdout_bytes: count(),
  stderr_bytes: count(),
  output_hash: hash(),
  killed_by: killedBy,
  truncated: s.bool(),
};

export const eventDataSchemas = {
  'execution.requested': s.object({
    dataset_hash: hash(),
    dataset_bytes: count(),
    dataset_format: s.oneOf(['csv', 'json', 'txt'] as const),
    dataset_source: s.oneOf(['inline', 'url'] as const),
    sandbox_hash: hash(),
    fingerprint: hash(),
    sandbox: sandboxSummaryV2,
    submission: s.optional(submissionV2),
  }),
  'dataset.loaded': s.object({
    dataset_hash: hash(),
    bytes: count(),
    medium: s.literal('tmpfs'),
    rows: s.optional(rowsV2),
    rows_absent: s.optional(s.object({ reason: s.oneOf(ROWS_ABSENT_REASONS) })),
  }),
  'sandbox.created': s.object({
    isolation: isolationV2,
    limits: s.record(s.object({ value: count(), mechanism: text() }), 32),
    network: s.object({ mode: s.oneOf(['none', 'allowlist'] as const), mechanism: text(), allow: s.array(text(260), 16) }),
    runtime: runtimeV2,
  }),
  'llm.called': s.object({
    provider: text(64),
    host: text(256),
    model: text(256),
    turn: count(),
    prompt_hash: hash(),
    response_hash: s.nullable(hash()),
    input_tokens: count(),
    output_tokens: count(),
    stop_reason: s.nullable(text(64)),
    latency_ms: count(),
    error_code: s.nullable(text(64)),
  }),
  'tool.invoked': s.object({
    call_id: text(64),
    tool: text(256),
    args_hash: hash(),
    caller: s.oneOf(['llm', 'script'] as const),
    /** Only on a call made by another call's processes (a script running `sql`): the open call it was made within. */
    parent_call_id: s.optional(text(64)),
  }),
  'tool.completed': s.object({ ...toolCompletedV1, sql: s.optional(sqlAnswerV2) }),
  'file.accessed': s.object({ call_id: text(64), op: s.oneOf(['read', 'write', 'exec', 'delete'] as const), path: text(4096), count: s.int(1) }),
  'network.requested': s.object({ call_id: text(64), host: text(256), port: s.int(0, 65535), allowed: s.bool(), bytes_out: count(), bytes_in: count() }),
  'execution.completed': s.object({
    exit_code: s.int(0, 255),
    result_hash: hash(),
    result: runResultSchemaV2,
    duration_ms: count(),
    totals: totalsV2,
    sealed_result: s.optional(sealedResultV2),
  }),
  'execution.failed': s.object({
    error_code: text(64),
    exit_code: s.nullable(s.int(0, 255)),
    killed_by: killedBy,
    result_hash: hash(),
    result: runResultSchemaV2,
    duration_ms: count(),
    totals: totalsV2,
    stderr_tail: s.optional(stderrTailSchemaV2),
    sealed_result: s.optional(sealedResultV2),
  }),
  'dataset.deleted': s.object({ bytes_zeroed: count(), tmpfs_released: s.literal(true) }),
  'sandbox.destroyed': s.object({ processes_remaining: s.literal(0), workspace_released: s.literal(true), checks: destroyChecksV2 }),
  /**
   * Ends a stream that will never be sealed: its executor died (appended on restart, THREATS B24), or the
   * certificate it built did not pass its own verification (`error_code` says why; docs/verification.md §10).
   */
  'execution.aborted': s.object({
    reason: s.oneOf(['executor_restarted', 'certificate_rejected'] as const),
    last_seq: count(),
    error_code: s.nullable(text(64)),
  }),
  'certificate.sealed': s.object({ tree_size: s.int(1), merkle_root: hash(), report_data: s.hex(128), attestation: attestationSchemaV2 }),
} as const satisfies Record<string, Schema<unknown>>;

// ---------------------------------------------------------------- version 1 (read only)

const sandboxSummaryV1 = s.object({
  tools: s.array(text(64), 64),
  entrypoint: s.nullable(text(256)),
  scripts: s.array(s.object({ name: text(256), hash: hash(), bytes: count() }), 256),
  llm: s.nullable(s.object({ provider: text(64), model: text(256), prompt_hash: hash(), max_turns: count(), max_output_tokens: count() })),
  limits: s.json(),
  network: s.json(),
});
const resultV1 = s.object({ output: s.string(1 << 20), bytes: count(), truncated: s.bool(), json: s.optional(s.nullable(s.json())) });

export const eventDataSchemasV1: { [T in EventType]: Schema<unknown> } = {
  ...eventDataSchemas,
  'execution.requested': s.object({
    dataset_hash: hash(),
    dataset_bytes: count(),
    dataset_format: s.oneOf(['csv', 'json', 'txt'] as const),
    dataset_source: s.oneOf(['inline', 'url'] as const),
    sandbox_hash: hash(),
    fingerprint: hash(),
    sandbox: sandboxSummaryV1,
  }),
  'sandbox.created': s.object({ isolation: s.json(), limits: s.json(), network: s.json(), runtime: s.json() }),
  'llm.called': s.object({
    provider: text(64),
    host: text(256),
    model: text(256),
    turn: count(),
    prompt_hash: hash(),
    response_hash: s.nullable(hash()),
    input_tokens: count(),
    output_tokens: count(),
    stop_reason: s.nullable(text(64)),
    latency_ms: count(),
    error_code: s.optional(s.nullable(text(64))),
  }),
  'tool.invoked': s.object({ call_id: text(64), tool: text(256), args_hash: hash(), caller: s.oneOf(['llm', 'script'] as const) }),
  'tool.completed': s.object(toolCompletedV1),
  'execution.completed': s.object({ exit_code: s.int(0, 255), result_hash: hash(), result: resultV1, duration_ms: count(), totals: s.json() }),
  'execution.failed': s.object({
    error_code: text(64),
    exit_code: s.nullable(s.int(0, 255)),
    killed_by: killedBy,
    result_hash: hash(),
    result: resultV1,
    duration_ms: count(),
    totals: s.json(),
  }),
  'sandbox.destroyed': s.object({ processes_remaining: s.literal(0), workspace_released: s.literal(true), checks: s.optional(s.json()) }),
  'execution.aborted': s.object({ reason: s.oneOf(['executor_restarted'] as const), last_seq: count() }),
  'certificate.sealed': s.object({ tree_size: s.int(1), merkle_root: hash(), report_data: s.hex(128), attestation: s.json() }),
};

export type EventType = keyof typeof eventDataSchemas;
export type EventData = { [T in EventType]: Infer<(typeof eventDataSchemas)[T]> };
export type SandboxSummary = Infer<typeof sandboxSummaryV2>;
export type RunResult = Infer<typeof runResultSchemaV2>;
export type StderrTail = Infer<typeof stderrTailSchemaV2>;
export type Totals = Infer<typeof totalsV2>;
export type Submission = Infer<typeof submissionV2>;
export type RowsMember = Infer<typeof rowsV2>;
export type RowsAbsentReason = (typeof ROWS_ABSENT_REASONS)[number];
export type SealedResult = Infer<typeof sealedResultV2>;
export type SealSuite = (typeof SEAL_SUITES)[number];
export type Attestation = Infer<typeof attestationSchemaV2>;
export type SandboxCreated = EventData['sandbox.created'];

export const EVENT_TYPES = Object.keys(eventDataSchemas) as EventType[];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.hasOwn(eventDataSchemas, value);
}
