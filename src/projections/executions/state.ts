/**
 * GET /executions/:id's answer, from either source: this node's registry of
 * its own async runs, or the stored stream (any node's run, or one of ours
 * after a restart) classified by `streamState`.
 */
import { errorInfo } from '../../error-codes.js';
import type { EventEnvelope } from '../../events/index.js';
import type { ExecutionState, LocalRun, RunError } from '../../events/local-runs.js';
import { streamState } from '../../events/index.js';

export interface ExecutionAnswer {
  execution_id: string;
  state: ExecutionState;
  node: string | null;
  events: number;
  last_event: { seq: number; type: string; at: string } | null;
  certificate_id: string | null;
  certificate_url: string | null;
  certificate_json_url: string | null;
  error: RunError | null;
}

/** Once here, a run's state changes no more (abandoned may yet turn aborted, when its executor comes back). */
export const isFinal = (state: ExecutionState) => state !== 'queued' && state !== 'running';

function answer(
  executionId: string,
  state: ExecutionState,
  node: string | null,
  events: number,
  last: EventEnvelope | null,
  error: RunError | null,
): ExecutionAnswer {
  const certificateId = state === 'certified' ? `cert_${executionId}` : null;
  return {
    execution_id: executionId,
    state,
    node,
    events,
    last_event: last ? { seq: last.seq, type: last.type, at: last.at } : null,
    certificate_id: certificateId,
    certificate_url: certificateId ? `/c/${certificateId}` : null,
    certificate_json_url: certificateId ? `/certificate/${certificateId}` : null,
    error,
  };
}

export const fromLocalRun = (run: LocalRun, node: string): ExecutionAnswer => answer(run.executionId, run.state, node, run.events, run.lastEvent, run.error);

/** A stored stream (never empty: no events is no execution). The node that ran it is not named by its events. */
export function fromStream(executionId: string, events: readonly EventEnvelope[], now: number, leaseMs?: number): ExecutionAnswer {
  const state = streamState(events, now, leaseMs);
  const last = events.at(-1)!;
  return answer(executionId, state, null, events.length, last, state === 'aborted' ? abortedError(last) : null);
}

const ABORT_REASONS: Record<string, string> = {
  executor_restarted: 'its executor restarted before the run ended',
  certificate_rejected: "the executor's own check of the certificate failed",
};

function abortedError(last: EventEnvelope): RunError {
  const data = last.data as { reason?: string; error_code?: string | null };
  const code = data.error_code ?? 'EXECUTION_ABORTED';
  return { code, message: `aborted: ${ABORT_REASONS[data.reason ?? ''] ?? 'the run ended without a certificate'} (${errorInfo(code).message})` };
}
