/**
 * Appends one execution's events, one step (batch) at a time, and keeps what
 * sealing needs: the lifecycle state (the same `evolve` the verifier runs) and
 * the Merkle root kept incrementally (DESIGN §5: O(log n) to seal).
 * A step counts as done only once the log acknowledged it; after a failed
 * append the recorder refuses everything (fail closed: no certificate).
 */
import { EphemeraError } from '../../errors.js';
import { EventChain, evolve, hashToBytes, initialLifecycle, type EventData, type EventEnvelope, type EventLog, type EventType, type LifecycleState } from '../../events/index.js';
import { CompactRange, leafHash } from '../../attest/index.js';

export type Step = { [T in EventType]: [T, EventData[T]] }[EventType];

export class StreamRecorder {
  private readonly chain: EventChain;
  private readonly range = new CompactRange();
  private state: LifecycleState = initialLifecycle;
  private broken: unknown = null;
  readonly events: EventEnvelope[] = [];

  constructor(
    private readonly log: EventLog,
    readonly executionId: string,
    clock?: () => Date,
  ) {
    this.chain = new EventChain(executionId, clock);
  }

  get lifecycle(): LifecycleState {
    return this.state;
  }

  /** Appends the events of one step as one acknowledged batch. */
  async record(...steps: Step[]): Promise<EventEnvelope[]> {
    if (this.broken) throw new EphemeraError('LOG_APPEND_FAILED', 'an earlier append failed; this stream is closed', { cause: this.broken });
    let state = this.state;
    const batch = steps.map(([type, data]) => {
      const event = this.chain.next(type, data as never);
      state = evolve(state, event);
      return event;
    });
    try {
      await this.log.append(batch);
    } catch (cause) {
      this.broken = cause;
      throw cause;
    }
    this.state = state;
    for (const event of batch) {
      if (event.type !== 'certificate.sealed') this.range.appendLeaf(leafHash(hashToBytes(event.hash)));
      this.events.push(event);
    }
    return batch;
  }

  /** Size and root of the tree over every event recorded so far. */
  merkle(): { size: number; root: Uint8Array } {
    return { size: this.range.size, root: this.range.root() };
  }
}
