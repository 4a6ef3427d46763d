/**
 * The certificate document (DESIGN §7) and its derivation: a pure fold over an
 * execution's events. The projection serves it; the verifier re-derives it
 * from the events and compares field by field, so every displayed field is
 * backed by the hash chain (THREATS E38). Isomorphic.
 */
import type { EventEnvelope, SandboxSummary } from '../events/index.js';

export const CERTIFICATE_VERSION = 1;
export const CERTIFICATE_ID_PREFIX = 'cert_';

export interface ToolUse {
  tool: string;
  caller: 'llm' | 'script';
  count: number;
  args_hashes: string[];
  duration_ms: number;
  cpu_ms: number;
  failures: number;
}

export interface ExecutionTrace {
  llm_calls: {
    count: number;
    input_tokens: number;
    output_tokens: number;
    by_model: Record<string, { calls: number; input_tokens: number; output_tokens: number }>;
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
  version: number;
  execution_id: string;
  status: 'completed' | 'failed' | 'incomplete' | 'aborted';
  dataset_hash: string;
  sandbox_hash: string;
  fingerprint: string;
  dataset: { bytes: number; format: string; source: string };
  sandbox: SandboxSummary | null;
  isolation: Record<string, unknown> | null;
  result: { output: string; exit_code: number | null; error_code: string | null; truncated: boolean; bytes: number; json: Record<string, unknown> | null; result_hash: string | null };
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
}

export function certificateIdOf(executionId: string): string {
  return `${CERTIFICATE_ID_PREFIX}${executionId}`;
}

/** Accepts `cert_<ULID>` or a bare ULID; returns the execution id or null. */
export function executionIdOf(certificateId: string): string | null {
  const id = certificateId.startsWith(CERTIFICATE_ID_PREFIX) ? certificateId.slice(CERTIFICATE_ID_PREFIX.length) : certificateId;
  return /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id) ? id : null;
}

/** Derives the certificate from events alone (the events must already be chain-verified by the caller when it matters). */
export function deriveCertificate(events: readonly EventEnvelope[]): Certificate {
  const first = events[0];
  const executionId = first?.execution_id ?? '';
  const cert: Certificate = {
    certificate_id: certificateIdOf(executionId),
    version: CERTIFICATE_VERSION,
    execution_id: executionId,
    status: 'incomplete',
    dataset_hash: '',
    sandbox_hash: '',
    fingerprint: '',
    dataset: { bytes: 0, format: '', source: '' },
    sandbox: null,
    isolation: null,
    result: { output: '', exit_code: null, error_code: null, truncated: false, bytes: 0, json: null, result_hash: null },
    execution_trace: emptyTrace(),
    lifecycle: { requested: null, dataset_loaded: null, execution_started: null, execution_completed: null, dataset_deleted: null, sandbox_destroyed: null, sealed: null, execution_time_ms: null },
    merkle: null,
    proof: null,
    events: [...events],
  };
  const trace = cert.execution_trace;
  const toolOf = new Map<string, ToolUse>();
  const started = new Map<string, ToolUse>();
  const models = trace.llm_calls.by_model;
  const fileRows = new Map<string, ExecutionTrace['file_activity'][number]>();
  const networkRows = new Map<string, ExecutionTrace['network_activity'][number]>();

  for (const event of events) {
    switch (event.type) {
      case 'execution.requested': {
        const d = event.data;
        Object.assign(cert, { dataset_hash: d.dataset_hash, sandbox_hash: d.sandbox_hash, fingerprint: d.fingerprint, sandbox: d.sandbox });
        cert.dataset = { bytes: d.dataset_bytes, format: d.dataset_format, source: d.dataset_source };
        cert.lifecycle.requested = event.at;
        break;
      }
      case 'dataset.loaded':
        cert.lifecycle.dataset_loaded = event.at;
        break;
      case 'sandbox.created':
        cert.isolation = event.data.isolation;
        cert.lifecycle.execution_started = event.at;
        break;
      case 'llm.called': {
        const d = event.data;
        trace.llm_calls.count += 1;
        trace.llm_calls.input_tokens += d.input_tokens;
        trace.llm_calls.output_tokens += d.output_tokens;
        const m = (models[d.model] ??= { calls: 0, input_tokens: 0, output_tokens: 0 });
        m.calls += 1;
        m.input_tokens += d.input_tokens;
        m.output_tokens += d.output_tokens;
        if (!trace.llm_calls.provider_hosts.includes(d.host)) trace.llm_calls.provider_hosts.push(d.host);
        break;
      }
      case 'tool.invoked': {
        const key = `${event.data.caller}\u0000${event.data.tool}`;
        let use = toolOf.get(key);
        if (!use) {
          use = { tool: event.data.tool, caller: event.data.caller, count: 0, args_hashes: [], duration_ms: 0, cpu_ms: 0, failures: 0 };
          toolOf.set(key, use);
          trace.tool_uses.push(use);
        }
        use.count += 1;
        use.args_hashes.push(event.data.args_hash);
        started.set(event.data.call_id, use);
        break;
      }
      case 'tool.completed': {
        const d = event.data;
        const use = started.get(d.call_id);
        if (use) {
          use.duration_ms += d.duration_ms;
          use.cpu_ms += d.cpu_ms;
          if (d.exit_code !== 0) use.failures += 1;
        }
        const r = trace.resources;
        r.tool_calls += 1;
        r.cpu_ms += d.cpu_ms;
        r.max_rss_kb = Math.max(r.max_rss_kb, d.max_rss_kb);
        r.stdout_bytes += d.stdout_bytes;
        r.stderr_bytes += d.stderr_bytes;
        if (d.killed_by && !r.killed_by) r.killed_by = d.killed_by;
        break;
      }
      case 'file.accessed': {
        const d = event.data;
        const key = `${d.op}\u0000${d.path}`;
        const row = fileRows.get(key);
        if (row) row.count += d.count;
        else {
          const added = { op: d.op, path: d.path, count: d.count };
          fileRows.set(key, added);
          trace.file_activity.push(added);
        }
        break;
      }
      case 'network.requested': {
        const d = event.data;
        const key = `${d.host}\u0000${d.port}\u0000${d.allowed}`;
        const row = networkRows.get(key);
        if (row) {
          row.attempts += 1;
          row.bytes_out += d.bytes_out;
          row.bytes_in += d.bytes_in;
        } else {
          const added = { host: d.host, port: d.port, allowed: d.allowed, attempts: 1, bytes_out: d.bytes_out, bytes_in: d.bytes_in };
          networkRows.set(key, added);
          trace.network_activity.push(added);
        }
        break;
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
        if (event.type === 'execution.failed' && event.data.killed_by) trace.resources.killed_by = event.data.killed_by;
        cert.lifecycle.execution_completed = event.at;
        cert.lifecycle.execution_time_ms = d.duration_ms;
        break;
      }
      case 'dataset.deleted':
        cert.lifecycle.dataset_deleted = event.at;
        break;
      case 'sandbox.destroyed':
        cert.lifecycle.sandbox_destroyed = event.at;
        break;
      case 'execution.aborted':
        cert.status = 'aborted';
        break;
      case 'certificate.sealed': {
        const d = event.data;
        cert.lifecycle.sealed = event.at;
        cert.merkle = { algorithm: 'rfc6962-sha256', tree_size: d.tree_size, root: d.merkle_root };
        cert.proof = { tee: String(d.attestation.type ?? 'unknown'), report_data: d.report_data, attestation: d.attestation };
        break;
      }
    }
  }
  return cert;
}

function emptyTrace(): ExecutionTrace {
  return {
    llm_calls: { count: 0, input_tokens: 0, output_tokens: 0, by_model: {}, provider_hosts: [] },
    tool_uses: [],
    file_activity: [],
    network_activity: [],
    resources: { tool_calls: 0, cpu_ms: 0, max_rss_kb: 0, stdout_bytes: 0, stderr_bytes: 0, killed_by: null },
  };
}
