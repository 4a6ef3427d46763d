/**
 * Appends one execution's events, one step (batch) at a time, and keeps what
 * sealing needs: the lifecycle (the same machine the verifier runs) and the
 * Merkle root kept incrementally (docs/design.md §5: O(log n) to seal).
 * A step counts as done only once the log acknowledged it; after a failed
 * append, or an event the lifecycle refuses, the recorder refuses everything
 * (fail closed: no certificate).
 */
import { EphemeraError } from '../../errors.js';
import { EventChain, Lifecycle, hashToBytes, type EventData, type EventEnvelope, type EventLog, type EventType } from '../../events/index.js';
import { nodeSha256 } from '../../events/node-hash.js';
import { CompactRange, leafHash } from '../../attest/index.js';

export type Step = { [T in EventType]: [T, EventData[T]] }[EventType];

export class StreamRecorder {
  private readonly chain: EventChain;
  // node:crypto for every hash of the stream (event, leaf, node): several times @noble/hashes' speed on inputs this small.
  private readonly range = new CompactRange(nodeSha256);
  readonly lifecycle = new Lifecycle();
  private broken: unknown = null;
  readonly events: EventEnvelope[] = [];

  constructor(
    private readonly log: EventLog,
    readonly executionId: string,
    clock?: () => Date,
    /** Told each acknowledged batch (never one the log refused); what it throws is ignored: the run goes on. */
    private readonly onAppended?: (events: readonly EventEnvelope[]) => void,
  ) {
    this.chain = new EventChain(executionId, clock, nodeSha256);
  }

  /** The time the next event will carry (never before the last one). */
  now(): string {
    return this.chain.now();
  }

  /** Appends the events of one step as one acknowledged batch. */
  async record(...steps: Step[]): Promise<EventEnvelope[]> {
    return this.append(steps.map(([type, data]) => this.chain.next(type, data as never)));
  }

  /**
   * The next event as it would be appended at time `at`, without appending
   * it: the seal is built, verified, and only then appended (`appendDraft`).
   */
  draft<T extends EventType>(type: T, data: EventData[T], at: string): EventEnvelope<T> {
    return EventChain.resume(this.events[this.events.length - 1]!, undefined, nodeSha256).next(type, data, at);
  }

  async appendDraft(event: EventEnvelope): Promise<void> {
    const next = this.chain.next(event.type, event.data as never, event.at);
    if (next.hash !== event.hash) throw new EphemeraError('LOG_APPEND_FAILED', 'the draft no longer continues this stream');
    await this.append([next]);
  }

  private async append(batch: EventEnvelope[]): Promise<EventEnvelope[]> {
    if (this.broken) throw new EphemeraError('LOG_APPEND_FAILED', 'an earlier append failed; this stream is closed', { cause: this.broken });
    try {
      for (const event of batch) this.lifecycle.apply(event);
      await this.log.append(batch);
    } catch (cause) {
      this.broken = cause;
      throw cause;
    }
    for (const event of batch) {
      if (event.type !== 'certificate.sealed') this.range.appendLeaf(leafHash(hashToBytes(event.hash), nodeSha256));
      this.events.push(event);
    }
    try {
      this.onAppended?.(batch);
    } catch {
      // A watcher's failure is not the run's.
    }
    return batch;
  }

  /** Size and root of the tree over every event recorded so far. */
  merkle(): { size: number; root: Uint8Array } {
    return { size: this.range.size, root: this.range.root() };
  }
}
