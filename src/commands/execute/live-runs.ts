/**
 * This node's async runs (POST /execute with Prefer: respond-async), from the
 * 202 to a while after their end: state, acknowledged events, and who follows
 * them live. Bounded: at most `max` entries; a finished run is kept for
 * `retentionMs` (then GET /executions reads its stored stream) and drops its
 * events at once (the log holds them). No timers: expired entries go when the
 * registry is next touched.
 */
import { EphemeraError, isEphemeraError } from '../../errors.js';
import type { EventEnvelope } from '../../events/index.js';
import type { LocalRun, LocalRuns, RunError, RunFollower } from '../../events/local-runs.js';
import { errorInfo } from '../../error-codes.js';

interface Entry {
  run: LocalRun;
  /** Every acknowledged event while the run goes on; emptied when it ends. */
  recorded: EventEnvelope[];
  followers: Set<RunFollower>;
  finishedAt: number | null;
}

export interface LiveRunsOptions {
  max: number;
  retentionMs: number;
  now?: () => number;
}

export class LiveRuns implements LocalRuns {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: LiveRunsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Registers a run as queued; refused when every slot holds a run not yet finished. */
  add(executionId: string): void {
    this.prune();
    if (this.entries.size >= this.options.max) this.evictOldestFinished();
    if (this.entries.size >= this.options.max)
      throw new EphemeraError('EXECUTION_REGISTRY_FULL', `this node already follows ${this.options.max} async runs; try again shortly`, {
        retryAfterSeconds: 5,
      });
    this.entries.set(executionId, {
      run: { executionId, state: 'queued', events: 0, lastEvent: null, certificateId: null, error: null },
      recorded: [],
      followers: new Set(),
      finishedAt: null,
    });
  }

  /** Forgets a run that never started (its admission was refused at once). */
  remove(executionId: string): void {
    this.entries.delete(executionId);
  }

  started(executionId: string): void {
    const entry = this.entries.get(executionId);
    if (entry && entry.finishedAt === null) entry.run = { ...entry.run, state: 'running' };
  }

  /** One batch the log acknowledged: counted, kept for late followers, passed to the current ones. */
  recorded(executionId: string, batch: readonly EventEnvelope[]): void {
    const entry = this.entries.get(executionId);
    if (!entry || entry.finishedAt !== null || batch.length === 0) return;
    entry.recorded.push(...batch);
    entry.run = { ...entry.run, state: 'running', events: entry.recorded.length, lastEvent: batch.at(-1)! };
    for (const follower of entry.followers) follower.events(batch);
  }

  certified(executionId: string, certificateId: string): void {
    this.finish(executionId, { state: 'certified', certificateId, error: null });
  }

  /**
   * The run ended without a certificate: `refused` when it recorded nothing
   * (its dataset was refused, its admission timed out), else `aborted` (a
   * stream left open is closed as aborted when this executor restarts).
   */
  failed(executionId: string, cause: unknown): void {
    const entry = this.entries.get(executionId);
    if (!entry) return;
    this.finish(executionId, { state: entry.run.events === 0 ? 'refused' : 'aborted', certificateId: null, error: publicError(cause) });
  }

  get(executionId: string): LocalRun | null {
    this.prune();
    return this.entries.get(executionId)?.run ?? null;
  }

  follow(executionId: string, follower: RunFollower): { recorded: readonly EventEnvelope[]; stop(): void } | null {
    const entry = this.entries.get(executionId);
    if (!entry || entry.finishedAt !== null) return null;
    entry.followers.add(follower);
    return { recorded: [...entry.recorded], stop: () => entry.followers.delete(follower) };
  }

  /** Followers of every run (a disconnected stream must leave none behind). */
  followerCount(): number {
    let count = 0;
    for (const entry of this.entries.values()) count += entry.followers.size;
    return count;
  }

  private finish(executionId: string, outcome: Pick<LocalRun, 'state' | 'certificateId' | 'error'>): void {
    const entry = this.entries.get(executionId);
    if (!entry || entry.finishedAt !== null) return;
    entry.run = { ...entry.run, ...outcome };
    entry.finishedAt = this.now();
    entry.recorded = [];
    const followers = [...entry.followers];
    entry.followers.clear();
    for (const follower of followers) follower.end(entry.run);
  }

  private prune(): void {
    const oldest = this.now() - this.options.retentionMs;
    for (const [id, entry] of this.entries) if (entry.finishedAt !== null && entry.finishedAt <= oldest) this.entries.delete(id);
  }

  private evictOldestFinished(): void {
    let oldest: [string, number] | null = null;
    for (const [id, entry] of this.entries) if (entry.finishedAt !== null && (oldest === null || entry.finishedAt < oldest[1])) oldest = [id, entry.finishedAt];
    if (oldest) this.entries.delete(oldest[0]);
  }
}

/** What a caller may learn of why a run ended: the code, and the message only where the API would show it (never a 5xx's). */
function publicError(cause: unknown): RunError {
  if (!isEphemeraError(cause)) return { code: 'INTERNAL', message: errorInfo('INTERNAL').message };
  const info = errorInfo(cause.code);
  const ownWords = info.http !== null && info.http < 500;
  return { code: cause.code, message: ownWords ? cause.message : info.message };
}
