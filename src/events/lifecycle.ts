/**
 * The lifecycle state machine. The executor enforces it while it appends and
 * the verifier replays it over a certificate's events: one `evolve` for both.
 *
 *   execution.requested → [dataset.loaded → [sandbox.created → activity*]]
 *     → execution.completed (needs sandbox.created) | execution.failed → dataset.deleted
 *     → sandbox.destroyed → certificate.sealed
 *   … any unsealed phase → execution.aborted (the executor died; terminal, never sealed)
 *
 * activity = llm.called | tool.invoked | tool.completed | file.accessed | network.requested
 * Pure: no I/O, no clock.
 */
import { EphemeraError } from '../errors.js';
import type { EventEnvelope } from './envelope.js';

export type Phase = 'empty' | 'requested' | 'loaded' | 'running' | 'finished' | 'dataset_deleted' | 'destroyed' | 'sealed' | 'aborted';

export interface LifecycleState {
  readonly phase: Phase;
  readonly outcome: 'completed' | 'failed' | null;
  /** Tool calls invoked and not yet completed. */
  readonly openCalls: ReadonlySet<string>;
  /** Every call id seen so far. */
  readonly knownCalls: ReadonlySet<string>;
}

export const initialLifecycle: LifecycleState = Object.freeze({
  phase: 'empty',
  outcome: null,
  openCalls: new Set<string>(),
  knownCalls: new Set<string>(),
});

export function evolve(state: LifecycleState, event: EventEnvelope): LifecycleState {
  const violation = (why: string): never => {
    throw new EphemeraError('EVENTS_LIFECYCLE_VIOLATION', `seq ${event.seq} (${event.type}): ${why}`, {
      fields: { seq: event.seq, field: `events[${event.seq}].type` },
    });
  };
  const expectPhase = (...phases: Phase[]) => {
    if (!phases.includes(state.phase)) violation(`not allowed after phase ${state.phase}`);
  };

  switch (event.type) {
    case 'execution.requested':
      expectPhase('empty');
      return { ...state, phase: 'requested' };
    case 'dataset.loaded':
      expectPhase('requested');
      return { ...state, phase: 'loaded' };
    case 'sandbox.created':
      expectPhase('loaded');
      return { ...state, phase: 'running' };
    case 'llm.called':
      expectPhase('running');
      return state;
    case 'tool.invoked': {
      expectPhase('running');
      if (state.knownCalls.has(event.data.call_id)) violation(`call_id ${event.data.call_id} reused`);
      return { ...state, openCalls: withItem(state.openCalls, event.data.call_id), knownCalls: withItem(state.knownCalls, event.data.call_id) };
    }
    case 'tool.completed': {
      expectPhase('running');
      if (!state.openCalls.has(event.data.call_id)) violation(`call_id ${event.data.call_id} is not open`);
      const openCalls = new Set(state.openCalls);
      openCalls.delete(event.data.call_id);
      return { ...state, openCalls };
    }
    case 'file.accessed':
    case 'network.requested':
      expectPhase('running');
      if (!state.knownCalls.has(event.data.call_id)) violation(`unknown call_id ${event.data.call_id}`);
      return state;
    case 'execution.completed':
    case 'execution.failed':
      // A run can fail before the sandbox exists (it could not start); it can only complete inside one.
      if (event.type === 'execution.failed') expectPhase('requested', 'loaded', 'running');
      else expectPhase('running');
      if (state.openCalls.size > 0) violation('tool calls still open');
      return { ...state, phase: 'finished', outcome: event.type === 'execution.completed' ? 'completed' : 'failed' };
    case 'dataset.deleted':
      expectPhase('finished');
      return { ...state, phase: 'dataset_deleted' };
    case 'sandbox.destroyed':
      expectPhase('dataset_deleted');
      return { ...state, phase: 'destroyed' };
    case 'certificate.sealed':
      expectPhase('destroyed');
      return { ...state, phase: 'sealed' };
    case 'execution.aborted':
      // Ends a stream whose executor died; it can never be sealed afterwards.
      expectPhase('requested', 'loaded', 'running', 'finished', 'dataset_deleted', 'destroyed');
      return { ...state, phase: 'aborted', openCalls: new Set<string>() };
  }
}

function withItem(set: ReadonlySet<string>, item: string): ReadonlySet<string> {
  const next = new Set(set);
  next.add(item);
  return next;
}
