/**
 * What the write side tells the read side about this node's own runs: the
 * shapes both agree on, so GET /executions can read a live run without
 * importing the write side (the registry is commands/execute/live-runs.ts;
 * app.ts hands it to the routes).
 */
import type { EventEnvelope } from './envelope.js';

/** Where a run stands: a stored stream's states (stream-state.ts), plus `queued` (waiting for admission) and `refused` (ended before its first event). */
export type ExecutionState = 'queued' | 'running' | 'certified' | 'aborted' | 'abandoned' | 'refused';

/** Why a run ended without a certificate: a registered code and words safe to show (never a 5xx's own message). */
export interface RunError {
  code: string;
  message: string;
}

/** One run of this node, as its executor knows it. */
export interface LocalRun {
  executionId: string;
  state: Exclude<ExecutionState, 'abandoned'>;
  /** Events the log acknowledged so far. */
  events: number;
  lastEvent: EventEnvelope | null;
  certificateId: string | null;
  error: RunError | null;
}

export interface RunFollower {
  events(batch: readonly EventEnvelope[]): void;
  end(run: LocalRun): void;
}

export interface LocalRuns {
  get(executionId: string): LocalRun | null;
  /** A run not finished yet: what it recorded so far, then each acknowledged batch and its end; null when it is finished or unknown here. */
  follow(executionId: string, follower: RunFollower): { recorded: readonly EventEnvelope[]; stop(): void } | null;
}
