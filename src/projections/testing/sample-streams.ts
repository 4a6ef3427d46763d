/**
 * Varied sealed streams for projection tests: statuses, tools, models,
 * durations, days and results differ by index. Test support only.
 */
import { ulid } from 'ulid';
import { EventChain, hashUtf8, type EventEnvelope } from '../../events/index.js';
import { SAMPLE_DESTROY_CHECKS, sampleSandboxCreated, sampleSummary, sampleTotals } from '../../events/testing/sample-data.js';
import type { Attestor } from '../../attest/index.js';
import { sealSample } from '../../verify/testing/sample-certificate.js';
import type { Certificate } from '../../verify/index.js';

const DAY = 86_400_000;
const TOOLS = ['scan.py', 'bash', 'grep'];
const MODELS = ['claude-a', 'claude-b'];

export async function variedCertificate(i: number, attestor: Attestor, base = Date.parse('2026-03-01T10:00:00.000Z')): Promise<Certificate> {
  const start = base + (i % 4) * DAY + i * 1000;
  let tick = 0;
  const chain = new EventChain(ulid(start), () => new Date(start + 10 * tick++));
  const h = (s: string) => hashUtf8(s);
  const failed = i % 3 === 2;
  const tool = TOOLS[i % TOOLS.length]!;
  const model = i % 2 === 0 ? MODELS[i % 4 === 0 ? 0 : 1]! : null;
  const events: EventEnvelope[] = [
    chain.next('execution.requested', {
      dataset_hash: h(`dataset ${i % 5}`),
      dataset_bytes: 100 + i,
      dataset_format: 'csv',
      dataset_source: 'inline',
      sandbox_hash: h(`sandbox ${i % 2}`),
      fingerprint: h(`fp ${i % 5} ${i % 2}`),
      sandbox: sampleSummary({
        entrypoint: null,
        scripts: [],
        llm: model ? { provider: 'anthropic', model, prompt_hash: h('p'), max_turns: 4, max_output_tokens: 100 } : null,
      }),
    }),
    chain.next('dataset.loaded', { dataset_hash: h(`dataset ${i % 5}`), bytes: 100 + i, medium: 'tmpfs' }),
    chain.next('sandbox.created', sampleSandboxCreated()),
  ];
  if (model)
    events.push(
      chain.next('llm.called', {
        provider: 'anthropic',
        host: 'api.example',
        model,
        turn: 1,
        prompt_hash: h('req'),
        response_hash: h('res'),
        input_tokens: 100 * (i + 1),
        output_tokens: 10 * (i + 1),
        stop_reason: 'end_turn',
        latency_ms: 5,
        error_code: null,
      }),
    );
  events.push(
    chain.next('tool.invoked', { call_id: 'call_1', tool, args_hash: h(`args ${i}`), caller: model ? 'llm' : 'script' }),
    chain.next('tool.completed', {
      call_id: 'call_1',
      exit_code: failed ? 1 : 0,
      duration_ms: 10 * i,
      cpu_ms: i,
      max_rss_kb: 1000,
      stdout_bytes: 3,
      stderr_bytes: 0,
      output_hash: h('o'),
      killed_by: null,
      truncated: false,
    }),
  );
  const result = { output: failed ? `boom ${i}` : `{"count": ${i}, "note": "row ${i}"}`, bytes: 10, truncated: false, json: null };
  events.push(
    failed
      ? chain.next('execution.failed', {
          error_code: i % 2 ? 'EXECUTION_NONZERO_EXIT' : 'EXECUTION_TIMEOUT',
          exit_code: 1,
          killed_by: null,
          result_hash: h('r'),
          result,
          duration_ms: 100 * i + 7,
          totals: sampleTotals(),
        })
      : chain.next('execution.completed', { exit_code: 0, result_hash: h('r'), result, duration_ms: 100 * i + 7, totals: sampleTotals() }),
  );
  events.push(
    chain.next('dataset.deleted', { bytes_zeroed: 100 + i, tmpfs_released: true }),
    chain.next('sandbox.destroyed', { processes_remaining: 0, workspace_released: true, checks: SAMPLE_DESTROY_CHECKS }),
  );
  return sealSample(events, attestor);
}

/**
 * A run with SQL calls (docs/sql-tool.md §8): scan.py runs the sql command twice from its processes (calls within
 * call_1, caller script), then the model calls sql once. Its execution id is `ulid(at)`.
 */
export async function sqlCertificate(attestor: Attestor, at = Date.parse('2026-03-02T12:00:00.000Z')): Promise<Certificate> {
  let tick = 0;
  const chain = new EventChain(ulid(at), () => new Date(at + 10 * tick++));
  const h = (s: string) => hashUtf8(s);
  const sql = (call_id: string, caller: 'llm' | 'script', parent?: string) =>
    chain.next('tool.invoked', { call_id, tool: 'sql', args_hash: h(`query ${call_id}`), caller, ...(parent ? { parent_call_id: parent } : {}) });
  const done = (call_id: string, answer?: { rows: number; bytes: number; truncated: boolean }) =>
    chain.next('tool.completed', {
      call_id,
      exit_code: 0,
      duration_ms: 20,
      cpu_ms: 10,
      max_rss_kb: 9000,
      stdout_bytes: 100,
      stderr_bytes: 0,
      output_hash: h(`out ${call_id}`),
      killed_by: null,
      truncated: false,
      ...(answer ? { sql: { ...answer, error_code: null } } : {}),
    });
  const llm = (turn: number) =>
    chain.next('llm.called', {
      provider: 'anthropic',
      host: 'api.example',
      model: 'claude-a',
      turn,
      prompt_hash: h(`req ${turn}`),
      response_hash: h(`res ${turn}`),
      input_tokens: 100,
      output_tokens: 10,
      stop_reason: turn === 1 ? 'tool_use' : 'end_turn',
      latency_ms: 5,
      error_code: null,
    });
  const events: EventEnvelope[] = [
    chain.next('execution.requested', {
      dataset_hash: h('sql dataset'),
      dataset_bytes: 5000,
      dataset_format: 'csv',
      dataset_source: 'inline',
      sandbox_hash: h('sql sandbox'),
      fingerprint: h('sql fp'),
      sandbox: sampleSummary({
        tools: ['python', 'sql'],
        llm: { provider: 'anthropic', model: 'claude-a', prompt_hash: h('p'), max_turns: 4, max_output_tokens: 100 },
      }),
    }),
    chain.next('dataset.loaded', { dataset_hash: h('sql dataset'), bytes: 5000, medium: 'tmpfs' }),
    chain.next('sandbox.created', sampleSandboxCreated()),
    chain.next('tool.invoked', { call_id: 'call_1', tool: 'scan.py', args_hash: h('scan'), caller: 'script' }),
    sql('call_2', 'script', 'call_1'),
    done('call_2', { rows: 12, bytes: 300, truncated: false }),
    sql('call_3', 'script', 'call_1'),
    done('call_3', { rows: 1000, bytes: 65_000, truncated: true }),
    done('call_1'),
    llm(1),
    sql('call_4', 'llm'),
    done('call_4', { rows: 3, bytes: 40, truncated: false }),
    llm(2),
  ];
  const result = { output: '{"flagged": 12}', bytes: 15, truncated: false, json: null };
  events.push(
    chain.next('execution.completed', { exit_code: 0, result_hash: h('sql r'), result, duration_ms: 400, totals: sampleTotals() }),
    chain.next('dataset.deleted', { bytes_zeroed: 5000, tmpfs_released: true }),
    chain.next('sandbox.destroyed', { processes_remaining: 0, workspace_released: true, checks: SAMPLE_DESTROY_CHECKS }),
  );
  return sealSample(events, attestor);
}
