/**
 * The certificate document (docs/design.md §7, docs/verification.md §6) and
 * its derivation: a fold over an execution's events with constant work per
 * event. The projection serves it; the verifier re-derives it from the events
 * and compares member by member, so every displayed member is backed by the
 * hash chain (THREATS E38). Names that come from events (models, hosts,
 * tools, paths) are keys of Maps only, never of plain objects. Isomorphic.
 */
import {
  EXECUTION_ID_PATTERN,
  ULID,
  canonicalText,
  type EventEnvelope,
  type SandboxSummary,
  type SealedResult,
  type StderrTail,
  type Submission,
  type RowsMember,
  type RowsAbsentReason,
} from '../events/index.js';
import type { CertificateTransparency } from '../tlog/index.js';

/** The format version written today (the `v` of every event of the stream). */
export const CERTIFICATE_VERSION = 2;
export const CERTIFICATE_ID_PREFIX = 'cert_';

export interface ToolUse {
  tool: string;
  caller: 'llm' | 'script';
  count: number;
  args_hashes: string[];
  duration_ms: number;
  cpu_ms: number;
  failures: number;
  /**
   * Only on a use of tool "sql" once one of its calls carries `tool.completed.sql` (docs/sql-tool.md §8): rows and
   * bytes summed over those answers, and how many a cap cut. Absent otherwise, so certificates before it are unchanged.
   */
  sql?: { rows: number; bytes: number; truncated: number };
}

export interface ModelUse {
  model: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
}

export interface ExecutionTrace {
  llm_calls: {
    count: number;
    input_tokens: number;
    output_tokens: number;
    /** Version 2: one row per model, in order of first use. Version 1: an object keyed by model name. */
    by_model: ModelUse[] | Record<string, Omit<ModelUse, 'model'>>;
    /** Provider hosts that received data from this run. */
    provider_hosts: string[];
  };
  tool_uses: ToolUse[];
  file_activity: { op: string; path: string; count: number }[];
  network_activity: { host: string; port: number; allowed: boolean; attempts: number; bytes_out: number; bytes_in: number }[];
  resources: {
    tool_calls: number;
    cpu_ms: number;
    max_rss_kb: number;
    stdout_bytes: number;
    stderr_bytes: number;
    killed_by: string | null;
  };
}

export interface Certificate {
  certificate_id: string;
  version: 1 | 2;
  execution_id: string;
  status: 'completed' | 'failed' | 'incomplete' | 'aborted';
  dataset_hash: string;
  sandbox_hash: string;
  fingerprint: string;
  /** `submission` only when the input arrived sealed (docs/sealed.md §4): absent means plain. */
  /** `rows` / `rows_absent`: the row commitment or why there is none (docs/row-proofs.md §3); both absent before it existed. */
  dataset: { bytes: number; format: string; source: string; submission?: Submission; rows?: RowsMember; rows_absent?: { reason: RowsAbsentReason } };
  sandbox: SandboxSummary | null;
  isolation: Record<string, unknown> | null;
  result: {
    output: string;
    exit_code: number | null;
    error_code: string | null;
    truncated: boolean;
    bytes: number;
    json: Record<string, unknown> | null;
    result_hash: string | null;
    /** Only when execution.failed has one (a failed entry script): certificates issued before it have none. */
    stderr_tail?: StderrTail;
    /** Only when the result was sealed to its owner (docs/sealed.md §5): the values above are then the empty result. */
    sealed?: SealedResult;
  };
  execution_trace: ExecutionTrace;
  lifecycle: {
    requested: string | null;
    dataset_loaded: string | null;
    execution_started: string | null;
    execution_completed: string | null;
    dataset_deleted: string | null;
    sandbox_destroyed: string | null;
    sealed: string | null;
    execution_time_ms: number | null;
  };
  merkle: { algorithm: 'rfc6962-sha256'; tree_size: number; root: string } | null;
  proof: { tee: string; report_data: string; attestation: Record<string, unknown> } | null;
  events: EventEnvelope[];
  /** Its leaf and inclusion proof once the log integrated it (docs/transparency.md §12); committed by the log, not the events. */
  transparency?: CertificateTransparency;
}

/** The top-level members of a certificate, in the order they are written; all are required. */
export const CERTIFICATE_MEMBERS = [
  'certificate_id',
  'version',
  'execution_id',
  'status',
  'dataset_hash',
  'sandbox_hash',
  'fingerprint',
  'dataset',
  'sandbox',
  'isolation',
  'result',
  'execution_trace',
  'lifecycle',
  'merkle',
  'proof',
  'events',
] as const satisfies readonly (keyof Certificate)[];

/** Members a certificate may have besides those: not derived from the events, checked on their own (verify.ts). */
export const OPTIONAL_CERTIFICATE_MEMBERS = ['transparency'] as const satisfies readonly (keyof Certificate)[];

export function certificateIdOf(executionId: string): string {
  return `${CERTIFICATE_ID_PREFIX}${executionId}`;
}

/** Accepts `cert_<ULID>` or a bare ULID; returns the execution id or null. */
export function executionIdOf(certificateId: string): string | null {
  const id = certificateId.startsWith(CERTIFICATE_ID_PREFIX) ? certificateId.slice(CERTIFICATE_ID_PREFIX.length) : certificateId;
  return EXECUTION_ID_PATTERN.test(id) ? id : null;
}

/** Exactly `cert_<ULID>`, as a certificate writes it. */
export const CERTIFICATE_ID_PATTERN = new RegExp(`^${CERTIFICATE_ID_PREFIX}${ULID}$`);
/** What a route accepts as an id: `cert_<ULID>` or the bare ULID. */
export const CERTIFICATE_ID_PARAM = `^(${CERTIFICATE_ID_PREFIX})?${ULID}$`;

/**
 * Folds events into a certificate one at a time. `keepEvents: false` is for
 * the verifier, which has the document's own events and needs only the rest.
 */
export class CertificateFold {
  private readonly cert: Certificate;
  /** Per caller, per tool name (no joined key strings: a certificate may name a million tools). */
  private readonly toolOf = new Map<string, Map<string, ToolUse>>();
  private readonly started = new Map<string, ToolUse>();
  private readonly models = new Map<string, ModelUse>();
  private readonly hosts = new Set<string>();
  private readonly fileRows = new Map<string, ExecutionTrace['file_activity'][number]>();
  private readonly networkRows = new Map<string, ExecutionTrace['network_activity'][number]>();

  constructor(private readonly keepEvents = true) {
    this.cert = {
      certificate_id: '',
      version: CERTIFICATE_VERSION,
      execution_id: '',
      status: 'incomplete',
      dataset_hash: '',
      sandbox_hash: '',
      fingerprint: '',
      dataset: { bytes: 0, format: '', source: '' },
      sandbox: null,
      isolation: null,
      result: { output: '', exit_code: null, error_code: null, truncated: false, bytes: 0, json: null, result_hash: null },
      execution_trace: {
        llm_calls: { count: 0, input_tokens: 0, output_tokens: 0, by_model: [], provider_hosts: [] },
        tool_uses: [],
        file_activity: [],
        network_activity: [],
        resources: { tool_calls: 0, cpu_ms: 0, max_rss_kb: 0, stdout_bytes: 0, stderr_bytes: 0, killed_by: null },
      },
      lifecycle: {
        requested: null,
        dataset_loaded: null,
        execution_started: null,
        execution_completed: null,
        dataset_deleted: null,
        sandbox_destroyed: null,
        sealed: null,
        execution_time_ms: null,
      },
      merkle: null,
      proof: null,
      events: [],
    };
  }

  apply(event: EventEnvelope): void {
    const cert = this.cert;
    const trace = cert.execution_trace;
    if (this.keepEvents) cert.events.push(event);
    switch (event.type) {
      case 'execution.requested': {
        const d = event.data;
        cert.version = event.v;
        cert.execution_id = event.execution_id;
        cert.certificate_id = certificateIdOf(event.execution_id);
        cert.dataset_hash = d.dataset_hash;
        cert.sandbox_hash = d.sandbox_hash;
        cert.fingerprint = d.fingerprint;
        cert.sandbox = d.sandbox;
        cert.dataset = { bytes: d.dataset_bytes, format: d.dataset_format, source: d.dataset_source };
        if (d.submission) cert.dataset.submission = d.submission;
        cert.lifecycle.requested = event.at;
        return;
      }
      case 'dataset.loaded': {
        const d = event.data;
        cert.lifecycle.dataset_loaded = event.at;
        if (d.rows) cert.dataset.rows = d.rows;
        if (d.rows_absent) cert.dataset.rows_absent = d.rows_absent;
        return;
      }
      case 'sandbox.created':
        cert.isolation = event.data.isolation;
        cert.lifecycle.execution_started = event.at;
        return;
      case 'llm.called': {
        const d = event.data;
        trace.llm_calls.count += 1;
        trace.llm_calls.input_tokens += d.input_tokens;
        trace.llm_calls.output_tokens += d.output_tokens;
        let model = this.models.get(d.model);
        if (!model) {
          model = { model: d.model, calls: 0, input_tokens: 0, output_tokens: 0 };
          this.models.set(d.model, model);
        }
        model.calls += 1;
        model.input_tokens += d.input_tokens;
        model.output_tokens += d.output_tokens;
        if (!this.hosts.has(d.host)) {
          this.hosts.add(d.host);
          trace.llm_calls.provider_hosts.push(d.host);
        }
        return;
      }
      case 'tool.invoked': {
        let uses = this.toolOf.get(event.data.caller);
        if (!uses) this.toolOf.set(event.data.caller, (uses = new Map()));
        let use = uses.get(event.data.tool);
        if (!use) {
          use = { tool: event.data.tool, caller: event.data.caller, count: 0, args_hashes: [], duration_ms: 0, cpu_ms: 0, failures: 0 };
          uses.set(event.data.tool, use);
          trace.tool_uses.push(use);
        }
        use.count += 1;
        use.args_hashes.push(event.data.args_hash);
        this.started.set(event.data.call_id, use);
        return;
      }
      case 'tool.completed': {
        const d = event.data;
        const use = this.started.get(d.call_id);
        if (use) {
          this.started.delete(d.call_id);
          use.duration_ms += d.duration_ms;
          use.cpu_ms += d.cpu_ms;
          if (d.exit_code !== 0) use.failures += 1;
          if (d.sql && use.tool === 'sql') {
            use.sql ??= { rows: 0, bytes: 0, truncated: 0 };
            use.sql.rows += d.sql.rows;
            use.sql.bytes += d.sql.bytes;
            if (d.sql.truncated) use.sql.truncated += 1;
          }
        }
        const r = trace.resources;
        r.tool_calls += 1;
        r.cpu_ms += d.cpu_ms;
        r.max_rss_kb = Math.max(r.max_rss_kb, d.max_rss_kb);
        r.stdout_bytes += d.stdout_bytes;
        r.stderr_bytes += d.stderr_bytes;
        if (d.killed_by && !r.killed_by) r.killed_by = d.killed_by;
        return;
      }
      case 'file.accessed': {
        const d = event.data;
        const key = `${d.op}\u0000${d.path}`;
        const row = this.fileRows.get(key);
        if (row) row.count += d.count;
        else {
          const added = { op: d.op, path: d.path, count: d.count };
          this.fileRows.set(key, added);
          trace.file_activity.push(added);
        }
        return;
      }
      case 'network.requested': {
        const d = event.data;
        const key = `${d.host}\u0000${d.port}\u0000${d.allowed}`;
        const row = this.networkRows.get(key);
        if (row) {
          row.attempts += 1;
          row.bytes_out += d.bytes_out;
          row.bytes_in += d.bytes_in;
        } else {
          const added = { host: d.host, port: d.port, allowed: d.allowed, attempts: 1, bytes_out: d.bytes_out, bytes_in: d.bytes_in };
          this.networkRows.set(key, added);
          trace.network_activity.push(added);
        }
        return;
      }
      case 'execution.completed':
      case 'execution.failed': {
        const d = event.data;
        cert.status = event.type === 'execution.completed' ? 'completed' : 'failed';
        cert.result = {
          output: d.result.output,
          exit_code: d.exit_code,
          error_code: event.type === 'execution.failed' ? event.data.error_code : null,
          truncated: d.result.truncated,
          bytes: d.result.bytes,
          json: d.result.json ?? null,
          result_hash: d.result_hash,
        };
        if (event.type === 'execution.failed' && event.data.stderr_tail) cert.result.stderr_tail = event.data.stderr_tail;
        if (d.sealed_result) cert.result.sealed = d.sealed_result;
        if (event.type === 'execution.failed' && event.data.killed_by) trace.resources.killed_by = event.data.killed_by;
        cert.lifecycle.execution_completed = event.at;
        cert.lifecycle.execution_time_ms = d.duration_ms;
        return;
      }
      case 'dataset.deleted':
        cert.lifecycle.dataset_deleted = event.at;
        return;
      case 'sandbox.destroyed':
        cert.lifecycle.sandbox_destroyed = event.at;
        return;
      case 'execution.aborted':
        cert.status = 'aborted';
        return;
      case 'certificate.sealed': {
        const d = event.data;
        const attestation = d.attestation as Record<string, unknown>;
        cert.lifecycle.sealed = event.at;
        cert.merkle = { algorithm: 'rfc6962-sha256', tree_size: d.tree_size, root: d.merkle_root };
        cert.proof = { tee: typeof attestation.type === 'string' ? attestation.type : 'unknown', report_data: d.report_data, attestation };
        return;
      }
    }
  }

  /** The certificate so far. Version 1 keys `by_model` by model name (a null-prototype object, so `__proto__` is a name like any other). */
  result(): Certificate {
    const models = [...this.models.values()];
    if (this.cert.version === 1) {
      const byName: Record<string, Omit<ModelUse, 'model'>> = Object.create(null);
      for (const { model, ...use } of models) byName[model] = use;
      this.cert.execution_trace.llm_calls.by_model = byName;
    } else this.cert.execution_trace.llm_calls.by_model = models;
    return this.cert;
  }
}

/** The per-model rows of either version's `by_model` (v2: an array; v1: an object keyed by model name). */
export function modelUses(trace: Pick<ExecutionTrace, 'llm_calls'>): ModelUse[] {
  const byModel = trace.llm_calls.by_model;
  return Array.isArray(byModel) ? byModel : Object.keys(byModel).map((model) => ({ model, ...byModel[model]! }));
}

/** Derives the certificate from events alone (the events must already be chain-verified by the caller when it matters). */
export function deriveCertificate(events: readonly EventEnvelope[]): Certificate {
  const fold = new CertificateFold();
  for (const event of events) fold.apply(event);
  return fold.result();
}

/**
 * The certificate as JSON text: its summary members as JSON.stringify writes
 * them (indented by `indent`), and each event in its canonical form (RFC 8785,
 * one per line when indented), which a verifier can hash as it reads instead
 * of serializing the event again (docs/verification.md §5). Any other
 * spelling verifies the same, only slower.
 */
export function certificateJson(certificate: Certificate, indent = 0): string {
  const { events, transparency, ...members } = certificate;
  const head = JSON.stringify(members, null, indent);
  const nl = indent > 0 ? '\n' : '';
  const pad = ' '.repeat(indent);
  const list = events.map((event) => `${pad}${pad}${canonicalText(event)}`).join(`,${nl}`);
  // The log's member goes last, after `events` (docs/transparency.md §12).
  const logged =
    transparency === undefined
      ? ''
      : `,${nl}${pad}"transparency":${indent > 0 ? ' ' : ''}${JSON.stringify(transparency, null, indent).replaceAll('\n', `\n${pad}`)}`;
  return `${head.slice(0, -1).trimEnd()},${nl}${pad}"events":${indent > 0 ? ' ' : ''}[${nl}${list}${nl}${events.length > 0 ? pad : ''}]${logged}${nl}}${nl}`;
}
