/**
 * Log → ClickHouse. `project` writes a batch of events and, for every
 * execution the batch finishes (sealed or aborted), the certificate row and
 * its rollups, derived from the whole stream as stored; for every execution
 * it leaves open, a row from its first and last events (`openRow`), which the
 * finished row replaces. Idempotent: rows are deterministic and keyed, so
 * processing an event twice changes nothing, and how the log was cut into
 * batches does not change what is stored.
 * SQLite is tailed from a checkpoint kept in ClickHouse; Kafka feeds batches
 * through the consumer group (projections/feed).
 */
import { canonicalText, parseStrictJson, silentAfter, type EventEnvelope, type TailableEventLog } from '../events/index.js';
import { modelUses, type Certificate } from '../verify/index.js';
import { projectCertificate } from './certificates/index.js';
import { executorOf } from './executor.js';
import { rows, type Store } from './store/clickhouse.js';

export const RESULT_PREVIEW_CHARS = 512;

/** ISO 8601 → ClickHouse DateTime64(3) text. */
export const chTime = (iso: string) => iso.replace('T', ' ').replace('Z', '');
/** ClickHouse DateTime64(3, 'UTC') text → RFC 3339 UTC, what the API answers (the inverse of `chTime`). */
export const rfc3339 = (ch: string) => `${ch.replace(' ', 'T')}Z`;

export async function project(store: Store, events: readonly EventEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  await store.insert({
    table: 'events',
    values: events.map((e) => ({ execution_id: e.execution_id, seq: e.seq, type: e.type, at: chTime(e.at), hash: e.hash, envelope: canonicalText(e) })),
    format: 'JSONEachRow',
  });
  const byExecution = new Map<string, EventEnvelope[]>();
  for (const e of events) (byExecution.get(e.execution_id) ?? byExecution.set(e.execution_id, []).get(e.execution_id)!).push(e);
  const certificates: Certificate[] = [];
  const open = new Map<string, EventEnvelope[]>();
  for (const [executionId, own] of byExecution) {
    const last = own[own.length - 1]!;
    // The whole stream in this batch (the common case): no read-back needed.
    const whole = own[0]!.seq === 0 && own.every((e, i) => e.seq === i);
    if (last.type !== 'certificate.sealed' && last.type !== 'execution.aborted') {
      open.set(executionId, whole ? own : [last]);
      continue;
    }
    const stream = whole
      ? own
      : (await rows<{ envelope: string }>(store, 'SELECT envelope FROM events FINAL WHERE execution_id = {id:String} ORDER BY seq', { id: executionId })).map(
          (r) => parseStrictJson(r.envelope) as EventEnvelope,
        );
    certificates.push(projectCertificate(stream));
  }
  await projectCertificates(store, certificates);
  await projectOpen(store, open);
}

/** The events an open row is made of: requested and sandbox.created, read back (by key, two rows each) when the batch did not hold them. */
const OPENING_TYPES = "('execution.requested', 'sandbox.created')";

async function projectOpen(store: Store, open: Map<string, EventEnvelope[]>): Promise<void> {
  const partial = [...open].filter(([, events]) => events[0]!.seq > 0).map(([id]) => id);
  if (partial.length > 0) {
    const stored = await rows<{ envelope: string }>(
      store,
      `SELECT envelope FROM events FINAL WHERE execution_id IN {ids:Array(String)} AND type IN ${OPENING_TYPES} ORDER BY execution_id, seq`,
      { ids: partial },
    );
    for (const { envelope } of stored) {
      const event = parseStrictJson(envelope) as EventEnvelope;
      const events = open.get(event.execution_id)!;
      if (event.seq < events.at(-1)!.seq) events.splice(events.length - 1, 0, event);
    }
  }
  const values = [...open.values()].flatMap((events) => {
    const row = openRow(events);
    return row ? [row] : [];
  });
  if (values.length > 0) await store.insert({ table: 'certificates', values, format: 'JSONEachRow' });
}

/**
 * The row of an execution still open after `events` (its stream so far, or
 * just the events this needs: execution.requested, sandbox.created if any,
 * the last one). A function of those three alone, so rebuilds compare.
 * Null when the stream does not start with execution.requested (nothing to
 * say what ran; the verifier rejects such a stream anyway).
 */
export function openRow(events: readonly EventEnvelope[]): Record<string, unknown> | null {
  const requested = events[0];
  if (requested?.type !== 'execution.requested') return null;
  const data = requested.data as {
    dataset_hash: string;
    sandbox_hash: string;
    fingerprint: string;
    dataset_bytes: number;
    dataset_format: string;
    submission?: object;
  };
  const last = events.at(-1)!;
  return {
    certificate_id: `cert_${requested.execution_id}`,
    execution_id: requested.execution_id,
    status: 'incomplete',
    requested_at: chTime(requested.at),
    sealed_at: null,
    dataset_hash: data.dataset_hash,
    sandbox_hash: data.sandbox_hash,
    fingerprint: data.fingerprint,
    dataset_bytes: data.dataset_bytes,
    dataset_format: data.dataset_format,
    models: [],
    tools: [],
    llm_calls: 0,
    input_tokens: 0,
    output_tokens: 0,
    tool_calls: 0,
    execution_time_ms: null,
    exit_code: null,
    error_code: '',
    tee: '',
    result_preview: '',
    // The version ReplacingMergeTree keeps: the latest open row, until the finished one (more events) replaces it.
    event_count: last.seq + 1,
    executor: executorOf(events),
    silent_after: chTime(new Date(silentAfter([requested, last])).toISOString()),
    input: data.submission ? 'sealed' : 'plain',
    result_sealed: false,
  };
}

async function projectCertificates(store: Store, certificates: Certificate[]): Promise<void> {
  if (certificates.length === 0) return;
  const insert = (table: string, values: Record<string, unknown>[]) =>
    values.length ? store.insert({ table, values, format: 'JSONEachRow' }) : Promise.resolve();
  await insert('certificates', certificates.map(certificateRow));
  await insert(
    'tool_uses',
    certificates.flatMap((c) =>
      c.execution_trace.tool_uses.map((u) => ({
        certificate_id: c.certificate_id,
        requested_at: requestedAt(c),
        tool: u.tool,
        caller: u.caller,
        calls: u.count,
        failures: u.failures,
        duration_ms: u.duration_ms,
      })),
    ),
  );
  await insert(
    'model_uses',
    certificates.flatMap((c) =>
      modelUses(c.execution_trace).map((m) => ({
        certificate_id: c.certificate_id,
        requested_at: requestedAt(c),
        model: m.model,
        calls: m.calls,
        input_tokens: m.input_tokens,
        output_tokens: m.output_tokens,
      })),
    ),
  );
}

/** The `certificates` row of a certificate: deterministic, so re-projection and `ephemera replay` diffs compare like with like. */
export function certificateRow(c: Certificate): Record<string, unknown> {
  if (c.status === 'incomplete') return openRow(c.events) ?? { certificate_id: c.certificate_id, status: 'incomplete' };
  const t = c.execution_trace;
  return {
    certificate_id: c.certificate_id,
    execution_id: c.execution_id,
    status: c.status,
    requested_at: requestedAt(c),
    sealed_at: c.lifecycle.sealed ? chTime(c.lifecycle.sealed) : null,
    dataset_hash: c.dataset_hash,
    sandbox_hash: c.sandbox_hash,
    fingerprint: c.fingerprint,
    dataset_bytes: c.dataset.bytes,
    dataset_format: c.dataset.format,
    models: modelUses(t)
      .map((m) => m.model)
      .sort(),
    tools: [...new Set(t.tool_uses.map((u) => u.tool))].sort(),
    llm_calls: t.llm_calls.count,
    input_tokens: t.llm_calls.input_tokens,
    output_tokens: t.llm_calls.output_tokens,
    tool_calls: t.resources.tool_calls,
    execution_time_ms: c.lifecycle.execution_time_ms,
    exit_code: c.result.exit_code,
    error_code: c.result.error_code ?? '',
    tee: c.proof?.tee ?? '',
    result_preview: c.result.output.slice(0, RESULT_PREVIEW_CHARS),
    event_count: c.events.length,
    executor: executorOf(c.events),
    silent_after: null,
    input: c.dataset.submission ? 'sealed' : 'plain',
    result_sealed: c.result.sealed !== undefined,
  };
}

const requestedAt = (c: Certificate) => chTime(c.lifecycle.requested ?? new Date(0).toISOString());

export async function checkpoint(store: Store, name: string): Promise<number> {
  const [row] = await rows<{ position: string }>(store, 'SELECT position FROM projector_checkpoints FINAL WHERE name = {name:String}', { name });
  return row ? Number(row.position) : 0;
}

/**
 * Tails the SQLite log from the checkpoint until it is caught up. A failure
 * (ClickHouse down) leaves the checkpoint where it was: the next call resumes.
 */
export async function catchUp(store: Store, log: TailableEventLog, name = 'sqlite', batch = 2000): Promise<number> {
  let position = await checkpoint(store, name);
  let projected = 0;
  for (;;) {
    const page = await log.readFrom(position, batch);
    if (page.length === 0) return projected;
    await project(
      store,
      page.map((p) => p.event),
    );
    position = page[page.length - 1]!.position;
    await store.insert({ table: 'projector_checkpoints', format: 'JSONEachRow', values: [{ name, position, updated_at: chTime(new Date().toISOString()) }] });
    projected += page.length;
  }
}

/** Empties every projection table (the log stays the source of truth). */
export async function truncateProjections(store: Store): Promise<void> {
  for (const table of ['events', 'certificates', 'tool_uses', 'model_uses', 'projector_checkpoints', 'tlog_leaves'])
    await store.command({ query: `TRUNCATE TABLE IF EXISTS ${table}` });
}
