/**
 * Where one execution stands, read off its stream as stored: the one rule
 * every node, route and projection applies. An executor writes only its own
 * chains, so a stream nobody finishes stays open; once its executor has been
 * silent past the lease it is `abandoned` (never certified), until that
 * executor comes back and closes it as aborted.
 * The lease runs from the later of the last event and the run's declared
 * deadline (requested + timeout_seconds): a live executor always ends a run by
 * then, and sealing takes seconds.
 */
import type { EventEnvelope } from './envelope.js';

export type StreamState = 'running' | 'certified' | 'aborted' | 'abandoned';

/** How long past a run's deadline (or its last event) its executor may be silent before the run counts as abandoned. */
export const DEFAULT_LEASE_MS = 60_000;

export function streamState(events: readonly EventEnvelope[], now: number, leaseMs = DEFAULT_LEASE_MS): StreamState {
  const last = events.at(-1);
  if (last?.type === 'certificate.sealed') return 'certified';
  if (last?.type === 'execution.aborted') return 'aborted';
  return now > silentAfter(events) + leaseMs ? 'abandoned' : 'running';
}

/** When the executor of an open stream had last to be heard from (ms since the epoch). */
export function silentAfter(events: readonly EventEnvelope[]): number {
  const lastAt = events.length > 0 ? Date.parse(events.at(-1)!.at) : 0;
  const first = events[0];
  if (first?.type !== 'execution.requested') return lastAt;
  const limits = (first.data as { sandbox?: { limits?: { timeout_seconds?: unknown } } }).sandbox?.limits;
  const timeout = typeof limits?.timeout_seconds === 'number' && Number.isSafeInteger(limits.timeout_seconds) ? limits.timeout_seconds : 0;
  return Math.max(lastAt, Date.parse(first.at) + timeout * 1000);
}
