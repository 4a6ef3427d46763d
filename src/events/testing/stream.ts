/**
 * Builds small event streams for unit tests, event by event, in the closed
 * shapes of format version 2, with a fixed clock (one millisecond per event).
 * Test support only.
 */
import { EventChain } from '../envelope.js';
import { hashUtf8 } from '../hash.js';
import type { EventData, EventEnvelope, EventType } from '../index.js';
import { SAMPLE_DESTROY_CHECKS, sampleSandboxCreated, sampleSummary, sampleTotals } from './sample-data.js';

export const STREAM_EXECUTION_ID = '01JD7ZX3Q4M5N6P7R8S9T0VWXY';
export const STREAM_START = '2026-02-01T13:15:00.000Z';
const h = (s: string) => hashUtf8(s);

export const data = {
  requested: (over: Partial<EventData['execution.requested']> = {}): EventData['execution.requested'] => ({
    dataset_hash: h('dataset'),
    dataset_bytes: 1234,
    dataset_format: 'csv',
    dataset_source: 'inline',
    sandbox_hash: h('sandbox'),
    fingerprint: h('fp'),
    sandbox: sampleSummary(),
    ...over,
  }),
  loaded: (): EventData['dataset.loaded'] => ({ dataset_hash: h('dataset'), bytes: 1234, medium: 'tmpfs' }),
  created: (): EventData['sandbox.created'] => sampleSandboxCreated(),
  invoked: (call_id: string, tool = 'bash', caller: 'llm' | 'script' = 'script'): EventData['tool.invoked'] => ({
    call_id,
    tool,
    args_hash: h(`args ${call_id}`),
    caller,
  }),
  completed: (call_id: string, over: Partial<EventData['tool.completed']> = {}): EventData['tool.completed'] => ({
    call_id,
    exit_code: 0,
    duration_ms: 10,
    cpu_ms: 5,
    max_rss_kb: 1000,
    stdout_bytes: 3,
    stderr_bytes: 0,
    output_hash: h(`out ${call_id}`),
    killed_by: null,
    truncated: false,
    ...over,
  }),
  file: (call_id: string, op: 'read' | 'write' | 'exec' | 'delete', path: string, count = 1): EventData['file.accessed'] => ({ call_id, op, path, count }),
  network: (call_id: string, host: string, port: number, allowed: boolean, bytes_out = 0, bytes_in = 0): EventData['network.requested'] => ({
    call_id,
    host,
    port,
    allowed,
    bytes_out,
    bytes_in,
  }),
  llm: (model: string, host: string, input_tokens: number, output_tokens: number): EventData['llm.called'] => ({
    provider: 'anthropic',
    host,
    model,
    turn: 1,
    prompt_hash: h('prompt'),
    response_hash: h('response'),
    input_tokens,
    output_tokens,
    stop_reason: 'end_turn',
    latency_ms: 100,
    error_code: null,
  }),
  done: (output = 'ok', exit_code = 0): EventData['execution.completed'] => ({
    exit_code,
    result_hash: h(output),
    result: { output, bytes: output.length, truncated: false, json: null },
    duration_ms: 50,
    totals: sampleTotals(),
  }),
  failed: (killed_by: EventData['execution.failed']['killed_by'] = null, error_code = 'EXECUTION_NONZERO_EXIT'): EventData['execution.failed'] => ({
    error_code,
    exit_code: 1,
    killed_by,
    result_hash: h('failed'),
    result: { output: 'boom', bytes: 4, truncated: true, json: null },
    duration_ms: 60,
    totals: sampleTotals(),
  }),
  deleted: (): EventData['dataset.deleted'] => ({ bytes_zeroed: 1234, tmpfs_released: true }),
  destroyed: (): EventData['sandbox.destroyed'] => ({ processes_remaining: 0, workspace_released: true, checks: SAMPLE_DESTROY_CHECKS }),
  aborted: (): EventData['execution.aborted'] => ({ reason: 'executor_restarted', last_seq: 0, error_code: null }),
  sealed: (
    attestation: Record<string, unknown> = { type: 'simulated', public_key: '00'.repeat(32), signature: '00'.repeat(64) },
  ): EventData['certificate.sealed'] => ({
    tree_size: 1,
    merkle_root: h('root'),
    report_data: '00'.repeat(64),
    attestation: attestation as EventData['certificate.sealed']['attestation'],
  }),
};

/** A chain with a fixed clock: event n is at STREAM_START + n ms. */
export function streamChain(executionId = STREAM_EXECUTION_ID): {
  next: <T extends EventType>(type: T, d: EventData[T]) => EventEnvelope<T>;
  chain: EventChain;
} {
  let tick = 0;
  const base = Date.parse(STREAM_START);
  const chain = new EventChain(executionId, () => new Date(base + tick++));
  return { chain, next: (type, d) => chain.next(type, d) };
}

/** requested, loaded, created, then `activity`, then completed, deleted, destroyed (no seal). */
export function runEvents(
  activity: (next: ReturnType<typeof streamChain>['next']) => void = () => undefined,
  end: 'completed' | 'failed' = 'completed',
): EventEnvelope[] {
  const events: EventEnvelope[] = [];
  const { next } = streamChain();
  const push = <T extends EventType>(type: T, d: EventData[T]) => {
    const e = next(type, d);
    events.push(e as EventEnvelope);
    return e;
  };
  push('execution.requested', data.requested());
  push('dataset.loaded', data.loaded());
  push('sandbox.created', data.created());
  activity(push);
  if (end === 'completed') push('execution.completed', data.done());
  else push('execution.failed', data.failed());
  push('dataset.deleted', data.deleted());
  push('sandbox.destroyed', data.destroyed());
  return events;
}
