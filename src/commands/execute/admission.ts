/**
 * Admission control: what one executor runs at once. A run holds a slot (at
 * most `maxRuns`) and a share of the memory budget: its cost (`costOf`) is the
 * sum of what its declared limits let it claim, so no run starts unless all
 * of them fit beside the runs already going. A request that does not fit
 * waits in a bounded FIFO queue for a bounded time; one that could never fit,
 * a full queue and a draining server are refused at once. Every refusal has
 * its own code; the overload ones carry Retry-After.
 *
 * The queue is strict FIFO: a large request at its head is not overtaken by
 * smaller ones behind it, so it cannot starve.
 *
 * On shutdown (`drain`), queued requests are refused, runs in flight may go on
 * until the deadline, and then each ticket's abort signal fires: the handler
 * ends that run as a certified EXECUTOR_DRAINING failure (handler.ts).
 */
import { MAX_SORTED_RECORDS, SORTED_BYTES_PER_RECORD } from '../../rows/index.js';
import { EphemeraError } from '../../errors.js';
import type { Config } from '../../config.js';
import { limitsFor } from './handler.js';
import type { ExecuteRequest } from './request-schema.js';

const MIB = 2 ** 20;

/**
 * Per sandbox, beyond its declared limits: bubblewrap, the file tracer (strace), the network proxy,
 * a call's captured output (stdout and stderr up to their hard caps, and their base64 copies) and the event batches.
 */
export const SANDBOX_OVERHEAD_BYTES = 32 * MIB;

/** What one run may claim of the executor's memory, bytes. */
export interface RunCost {
  readonly memoryBytes: number;
}

/**
 * A run's cost: its dataset (inline: the decoded size; sealed: the opened size; a URL: the largest the server fetches, since its size is
 * unknown before the fetch), its `max_memory_mb`, its working space (the tmpfs caps are memory) and the overhead.
 * A dataset larger than EPHEMERA_MAX_DATASET_BYTES is refused on load with its own code, so it counts at the cap.
 */
export function costOf(request: ExecuteRequest, config: Pick<Config, 'maxDatasetBytes'>, sealedDatasetBytes?: number): RunCost {
  const limits = limitsFor(request.sandbox.environment);
  const data = request.dataset.data;
  const known = sealedDatasetBytes ?? (data === undefined ? undefined : inlineDecodedBytes(data));
  const dataset = known === undefined ? config.maxDatasetBytes : Math.min(known, config.maxDatasetBytes);
  // A sorted row commitment holds every record while it sorts (docs/row-proofs.md §8): at most a record per byte.
  const rows = request.dataset.rows;
  const sorting = typeof rows === 'object' ? Math.min(dataset + 1, MAX_SORTED_RECORDS) * SORTED_BYTES_PER_RECORD : 0;
  return { memoryBytes: dataset + sorting + limits.memoryMb * MIB + limits.workBytes + limits.outBytes + SANDBOX_OVERHEAD_BYTES };
}

/** The bytes "base64:<standard base64>" decodes to, counted without decoding: 3 per 4 characters; line breaks and padding carry none. */
export function inlineDecodedBytes(data: string): number {
  const start = data.startsWith('base64:') ? 'base64:'.length : 0;
  let end = data.length;
  while (end > start && (data[end - 1] === '=' || data[end - 1] === '\n' || data[end - 1] === '\r')) end--;
  let breaks = 0;
  for (const ch of ['\n', '\r']) for (let i = data.indexOf(ch, start); i !== -1 && i < end; i = data.indexOf(ch, i + 1)) breaks++;
  return Math.floor(((end - start - breaks) * 3) / 4);
}

/** An admitted run's hold on capacity. */
export interface Ticket {
  readonly cost: RunCost;
  /** Fires when the drain deadline passes while this run is still going: the handler stops it (ExecuteDeps.signal). */
  readonly abortSignal: AbortSignal;
  /** Frees the slot and the memory; idempotent. */
  release(): void;
}

export interface AdmissionLimits {
  maxRuns: number;
  memoryBudgetBytes: number;
  queueMax: number;
  queueTimeoutMs: number;
  /** How long runs may go on once a drain begins; also the Retry-After of SERVER_DRAINING. */
  drainTimeoutMs: number;
}

export function admissionLimitsOf(config: Pick<Config, 'maxRuns' | 'memoryBudgetMb' | 'queueMax' | 'queueTimeoutMs' | 'drainTimeoutMs'>): AdmissionLimits {
  return {
    maxRuns: config.maxRuns,
    memoryBudgetBytes: config.memoryBudgetMb * MIB,
    queueMax: config.queueMax,
    queueTimeoutMs: config.queueTimeoutMs,
    drainTimeoutMs: config.drainTimeoutMs,
  };
}

/** Capacity and current use, for /ready and the metrics. */
export interface AdmissionSnapshot {
  draining: boolean;
  running: number;
  queued: number;
  maxRuns: number;
  queueMax: number;
  memoryReservedBytes: number;
  memoryBudgetBytes: number;
}

type RefusalCode = 'CAPACITY_REQUEST_TOO_LARGE' | 'CAPACITY_EXHAUSTED' | 'CAPACITY_QUEUE_TIMEOUT' | 'SERVER_DRAINING';

/** What happened to a request at the door: admitted, or refused with a code (a caller who left is neither). */
export type AdmissionOutcome = { admitted: true } | { admitted: false; code: RefusalCode };

interface Waiter {
  cost: RunCost;
  resolve(ticket: Ticket): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout;
  /** Detaches the caller's abort listener. */
  detach(): void;
}

/** Until a run has finished, a run is taken to last this long (Retry-After). */
const ASSUMED_RUN_MS = 2000;
/** Retry-After is kept within [1, this] seconds: beyond a minute an estimate says little, and clients give up. */
const MAX_RETRY_AFTER_S = 60;
/** How many recent run durations the Retry-After estimate averages. */
const RECENT_RUNS = 32;
/** Once aborted, how long a drain waits for the runs to write their failed certificates before it gives up on them. */
const ABORT_GRACE_MS = 60_000;

export class Admission {
  private running = 0;
  private reserved = 0;
  private draining = false;
  private readonly queue: Waiter[] = [];
  private readonly inFlight = new Set<AbortController>();
  private readonly recent: number[] = [];
  private readonly idleWaiters = new Set<() => void>();
  private readonly listeners = new Set<(outcome: AdmissionOutcome) => void>();

  constructor(
    readonly limits: AdmissionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Asks for a slot. Throws at once when the request can never fit, the queue is full, or the server drains;
   * else `ticket` resolves when the run fits (FIFO), or rejects with CAPACITY_QUEUE_TIMEOUT, SERVER_DRAINING
   * (the drain began while it waited) or the signal's reason (the caller left: it leaves the queue, nothing else).
   */
  enqueue(cost: RunCost, signal?: AbortSignal): { ticket: Promise<Ticket> } {
    if (this.draining) throw this.refuse(this.drainingError());
    if (cost.memoryBytes > this.limits.memoryBudgetBytes) {
      throw this.refuse(
        new EphemeraError(
          'CAPACITY_REQUEST_TOO_LARGE',
          `the run's declared limits need ${mib(cost.memoryBytes)} MiB (dataset, sandbox.environment.max_memory_mb, ${mib(SANDBOX_OVERHEAD_BYTES)} MiB overhead and the working space); this server's whole memory budget is ${mib(this.limits.memoryBudgetBytes)} MiB`,
          { fields: { field: 'body.sandbox.environment.max_memory_mb' } },
        ),
      );
    }
    if (signal?.aborted) return { ticket: Promise.reject(signal.reason) };
    if (this.queue.length === 0 && this.fits(cost)) return { ticket: Promise.resolve(this.grant(cost)) };
    if (this.queue.length >= this.limits.queueMax) {
      throw this.refuse(
        new EphemeraError('CAPACITY_EXHAUSTED', 'every run slot is taken and the queue is full', {
          retryAfterSeconds: this.retryAfterSeconds(this.queue.length),
        }),
      );
    }
    return { ticket: new Promise<Ticket>((resolve, reject) => this.wait(cost, resolve, reject, signal)) };
  }

  /** `enqueue(...).ticket`: a refusal at the door rejects it like a later one. */
  async admit(cost: RunCost, signal?: AbortSignal): Promise<Ticket> {
    return this.enqueue(cost, signal).ticket;
  }

  snapshot(): AdmissionSnapshot {
    return {
      draining: this.draining,
      running: this.running,
      queued: this.queue.length,
      maxRuns: this.limits.maxRuns,
      queueMax: this.limits.queueMax,
      memoryReservedBytes: this.reserved,
      memoryBudgetBytes: this.limits.memoryBudgetBytes,
    };
  }

  /** Hears every admission and refusal (metrics); returns the way to stop. */
  subscribe(listener: (outcome: AdmissionOutcome) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Shutdown: admits nothing more (queued requests get SERVER_DRAINING), lets the runs in flight go on for
   * `limits.drainTimeoutMs`, then fires each one's abort signal and waits (bounded) for them to end.
   * Resolves with how many runs had to be stopped.
   */
  async drain(): Promise<{ stopped: number }> {
    this.draining = true;
    for (const waiter of this.queue.splice(0)) this.drop(waiter, this.refuse(this.drainingError()));
    if (await this.idle(this.limits.drainTimeoutMs)) return { stopped: 0 };
    const stopped = this.inFlight.size;
    for (const controller of this.inFlight) controller.abort(new EphemeraError('EXECUTOR_DRAINING', 'the executor is shutting down: the run is stopped'));
    await this.idle(ABORT_GRACE_MS);
    return { stopped };
  }

  /** Resolves true once no run is in flight, false when `timeoutMs` passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.running === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.idleWaiters.delete(done);
        resolve(false);
      }, timeoutMs);
      this.idleWaiters.add(done);
    });
  }

  private fits(cost: RunCost): boolean {
    return this.running < this.limits.maxRuns && this.reserved + cost.memoryBytes <= this.limits.memoryBudgetBytes;
  }

  private wait(cost: RunCost, resolve: (ticket: Ticket) => void, reject: (error: unknown) => void, signal?: AbortSignal): void {
    const onAbort = () => {
      this.remove(waiter);
      // Its queue timer goes too: else it fires later and counts a CAPACITY_QUEUE_TIMEOUT refusal for nobody.
      clearTimeout(waiter.timer);
      waiter.reject(signal!.reason);
      // Its place is free: whoever was behind it may fit now.
      this.pump();
    };
    const timer = setTimeout(() => {
      this.remove(waiter);
      this.drop(
        waiter,
        this.refuse(
          new EphemeraError('CAPACITY_QUEUE_TIMEOUT', `no run slot came free within ${this.limits.queueTimeoutMs} ms`, {
            retryAfterSeconds: this.retryAfterSeconds(this.queue.length),
          }),
        ),
      );
      this.pump();
    }, this.limits.queueTimeoutMs);
    const waiter: Waiter = { cost, resolve, reject, timer, detach: () => signal?.removeEventListener('abort', onAbort) };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.queue.push(waiter);
  }

  private remove(waiter: Waiter): void {
    const index = this.queue.indexOf(waiter);
    if (index !== -1) this.queue.splice(index, 1);
  }

  private drop(waiter: Waiter, error: EphemeraError): void {
    clearTimeout(waiter.timer);
    waiter.detach();
    waiter.reject(error);
  }

  /** Admits from the head of the queue while the head fits. */
  private pump(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0]!.cost)) {
      const waiter = this.queue.shift()!;
      clearTimeout(waiter.timer);
      waiter.detach();
      waiter.resolve(this.grant(waiter.cost));
    }
  }

  private grant(cost: RunCost): Ticket {
    this.running += 1;
    this.reserved += cost.memoryBytes;
    const controller = new AbortController();
    this.inFlight.add(controller);
    const admittedAt = this.now();
    let released = false;
    this.emit({ admitted: true });
    return {
      cost,
      abortSignal: controller.signal,
      release: () => {
        if (released) return;
        released = true;
        this.running -= 1;
        this.reserved -= cost.memoryBytes;
        this.inFlight.delete(controller);
        this.recent.push(this.now() - admittedAt);
        if (this.recent.length > RECENT_RUNS) this.recent.shift();
        this.pump();
        if (this.running === 0) for (const done of [...this.idleWaiters]) done();
      },
    };
  }

  /**
   * When a slot is likely free for a caller behind `ahead` others: the mean recent run time, times the rounds
   * of `maxRuns` the queue ahead of it needs; whole seconds in [1, 60].
   */
  private retryAfterSeconds(ahead: number): number {
    const meanMs = this.recent.length === 0 ? ASSUMED_RUN_MS : this.recent.reduce((a, b) => a + b, 0) / this.recent.length;
    const rounds = Math.floor(ahead / this.limits.maxRuns) + 1;
    return clampSeconds((meanMs * rounds) / 1000);
  }

  /** By the drain deadline this node is gone, and a restarted one (or another behind the proxy) takes the request. */
  private drainingError(): EphemeraError<'SERVER_DRAINING'> {
    return new EphemeraError('SERVER_DRAINING', 'this server is shutting down and admits no new runs', {
      retryAfterSeconds: clampSeconds(this.limits.drainTimeoutMs / 1000),
    });
  }

  private refuse(error: EphemeraError<RefusalCode>): EphemeraError<RefusalCode> {
    this.emit({ admitted: false, code: error.code });
    return error;
  }

  private emit(outcome: AdmissionOutcome): void {
    for (const listener of this.listeners) listener(outcome);
  }
}

const clampSeconds = (seconds: number) => Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(seconds)));
const mib = (bytes: number) => Math.ceil(bytes / MIB);
