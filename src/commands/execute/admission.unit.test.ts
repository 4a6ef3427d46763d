import { describe, expect, it } from 'vitest';
import { Admission, costOf, inlineDecodedBytes, SANDBOX_OVERHEAD_BYTES, type AdmissionLimits, type AdmissionOutcome, type RunCost } from './admission.js';
import { limitsFor } from './handler.js';
import type { ExecuteRequest } from './request-schema.js';

const MIB = 2 ** 20;
const cost = (mb: number): RunCost => ({ memoryBytes: mb * MIB });
const limits = (overrides: Partial<AdmissionLimits> = {}): AdmissionLimits => ({
  maxRuns: 2,
  memoryBudgetBytes: 1000 * MIB,
  queueMax: 2,
  queueTimeoutMs: 10_000,
  drainTimeoutMs: 10_000,
  ...overrides,
});
const settled = async (promise: Promise<unknown>) => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state;
};
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return error as { code: string; retryAfterSeconds?: number };
  }
  throw new Error('expected a refusal');
};

describe("a run's cost", () => {
  it('counts an inline dataset by its decoded size, without decoding: padding and MIME line breaks carry no bytes', () => {
    for (const bytes of [0, 1, 2, 3, 4, 57, 58, 1000]) {
      const base64 = Buffer.alloc(bytes, 7).toString('base64');
      const mime = base64.replace(/(.{76})/g, '$1\r\n');
      expect(inlineDecodedBytes(`base64:${base64}`)).toBe(bytes);
      expect(inlineDecodedBytes(`base64:${mime}\n`)).toBe(bytes);
    }
  });

  it('is the dataset, the declared memory, the working space and the overhead; a URL dataset counts at the largest the server fetches', () => {
    const environment = { timeout_seconds: 5, max_memory_mb: 128 };
    const { workBytes, outBytes } = limitsFor(environment);
    const inline = { dataset: { data: `base64:${Buffer.alloc(3000).toString('base64')}`, format: 'txt' }, sandbox: { environment } } as ExecuteRequest;
    const url = { dataset: { url: 'https://example.org/d.csv', format: 'csv' }, sandbox: { environment } } as ExecuteRequest;
    const fixed = 128 * MIB + workBytes + outBytes + SANDBOX_OVERHEAD_BYTES;
    expect(costOf(inline, { maxDatasetBytes: 10 * MIB })).toEqual({ memoryBytes: 3000 + fixed });
    expect(costOf(url, { maxDatasetBytes: 10 * MIB })).toEqual({ memoryBytes: 10 * MIB + fixed });
    // An inline dataset past the cap is refused on load (DATASET_TOO_LARGE): it counts at the cap, never more.
    expect(costOf(inline, { maxDatasetBytes: 1000 })).toEqual({ memoryBytes: 1000 + fixed });
  });
});

describe('admission', () => {
  it('admits while slots and memory last, queues the rest FIFO, and admits the head when a release makes room', async () => {
    const admission = new Admission(limits());
    const first = await admission.admit(cost(300));
    const second = await admission.admit(cost(300));
    // No slot left: both wait, in order, even though the small one would fit in memory.
    const big = admission.admit(cost(600));
    const small = admission.admit(cost(10));
    expect(admission.snapshot()).toMatchObject({ running: 2, queued: 2, memoryReservedBytes: 600 * MIB });
    first.release();
    // One slot frees, and 300 + 600 MiB fit the budget: the head goes; the small one waits for the next slot.
    expect(await settled(big)).toBe('resolved');
    expect(await settled(small)).toBe('pending');
    second.release();
    expect(await settled(small)).toBe('resolved');
    expect(admission.snapshot()).toMatchObject({ running: 2, queued: 0, memoryReservedBytes: 610 * MIB });
  });

  it('holds a run back until its memory fits, and does not let a smaller one overtake it', async () => {
    const admission = new Admission(limits({ maxRuns: 10 }));
    const held = await admission.admit(cost(700));
    const big = admission.admit(cost(400));
    const small = admission.admit(cost(100));
    expect(await settled(big)).toBe('pending');
    expect(await settled(small)).toBe('pending');
    held.release();
    expect(await settled(big)).toBe('resolved');
    expect(await settled(small)).toBe('resolved');
  });

  it('refuses at once a run that could never fit, with its own code and no Retry-After', () => {
    const admission = new Admission(limits());
    const error = refusal(() => admission.enqueue(cost(1001)));
    expect(error).toMatchObject({ code: 'CAPACITY_REQUEST_TOO_LARGE', retryAfterSeconds: undefined });
    expect(admission.snapshot()).toMatchObject({ running: 0, queued: 0 });
  });

  it('refuses at once when the queue is full, with Retry-After in whole seconds within [1, 60]', async () => {
    const admission = new Admission(limits({ maxRuns: 1, queueMax: 1 }));
    await admission.admit(cost(1));
    void admission.admit(cost(1)).catch(() => undefined);
    const error = refusal(() => admission.enqueue(cost(1)));
    expect(error.code).toBe('CAPACITY_EXHAUSTED');
    expect(Number.isInteger(error.retryAfterSeconds)).toBe(true);
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('derives Retry-After from how long recent runs held their slot', async () => {
    let now = 0;
    const admission = new Admission(limits({ maxRuns: 1, queueMax: 1 }), () => now);
    const run = await admission.admit(cost(1));
    now = 7_400;
    run.release();
    await admission.admit(cost(1));
    void admission.admit(cost(1)).catch(() => undefined);
    // Ahead of this caller: the run in flight and the one waiting, two rounds of 7.4 s on one slot (rounded up).
    expect(refusal(() => admission.enqueue(cost(1))).retryAfterSeconds).toBe(15);
  });

  it('with no queue (EPHEMERA_QUEUE_MAX=0), refuses at once what does not fit now', async () => {
    const admission = new Admission(limits({ maxRuns: 1, queueMax: 0 }));
    await admission.admit(cost(1));
    expect(refusal(() => admission.enqueue(cost(1))).code).toBe('CAPACITY_EXHAUSTED');
  });

  it('rejects a waiting request with CAPACITY_QUEUE_TIMEOUT after the queue time, and frees its place', async () => {
    const admission = new Admission(limits({ maxRuns: 1, queueMax: 1, queueTimeoutMs: 20 }));
    await admission.admit(cost(1));
    await expect(admission.admit(cost(1))).rejects.toMatchObject({ code: 'CAPACITY_QUEUE_TIMEOUT', retryAfterSeconds: expect.any(Number) });
    expect(admission.snapshot().queued).toBe(0);
  });

  it('lets a caller who left leave the queue: its ticket rejects with the abort, its place is free, nothing is admitted for it', async () => {
    const admission = new Admission(limits({ maxRuns: 1, queueMax: 1 }));
    const outcomes: AdmissionOutcome[] = [];
    admission.subscribe((o) => outcomes.push(o));
    const run = await admission.admit(cost(1));
    const left = new AbortController();
    const waiting = admission.admit(cost(1), left.signal);
    left.abort(new Error('caller left'));
    await expect(waiting).rejects.toThrow('caller left');
    expect(admission.snapshot()).toMatchObject({ queued: 0, running: 1 });
    // Its place is free for someone else.
    const next = admission.admit(cost(1));
    run.release();
    await next;
    expect(outcomes).toEqual([{ admitted: true }, { admitted: true }]);
  });

  it('counts a caller who left the queue as no refusal, even once its queue time has passed', async () => {
    const admission = new Admission(limits({ maxRuns: 1, queueMax: 1, queueTimeoutMs: 20 }));
    const outcomes: AdmissionOutcome[] = [];
    admission.subscribe((o) => outcomes.push(o));
    await admission.admit(cost(1));
    const left = new AbortController();
    const waiting = admission.admit(cost(1), left.signal);
    left.abort(new Error('caller left'));
    await expect(waiting).rejects.toThrow('caller left');
    await new Promise((resolve) => setTimeout(resolve, 60));
    // Its queue timer went with it: no CAPACITY_QUEUE_TIMEOUT is reported for a request nobody waits on.
    expect(outcomes).toEqual([{ admitted: true }]);
  });

  it('releases once however often release is called', async () => {
    const admission = new Admission(limits());
    const a = await admission.admit(cost(100));
    await admission.admit(cost(100));
    a.release();
    a.release();
    expect(admission.snapshot()).toMatchObject({ running: 1, memoryReservedBytes: 100 * MIB });
  });

  it('reports each admission and each refusal with its code', async () => {
    const admission = new Admission(limits({ maxRuns: 1, queueMax: 0 }));
    const outcomes: AdmissionOutcome[] = [];
    admission.subscribe((o) => outcomes.push(o));
    await admission.admit(cost(1));
    await expect(admission.admit(cost(1))).rejects.toMatchObject({ code: 'CAPACITY_EXHAUSTED' });
    await expect(admission.admit(cost(5000))).rejects.toMatchObject({ code: 'CAPACITY_REQUEST_TOO_LARGE' });
    expect(outcomes).toEqual([{ admitted: true }, { admitted: false, code: 'CAPACITY_EXHAUSTED' }, { admitted: false, code: 'CAPACITY_REQUEST_TOO_LARGE' }]);
  });

  describe('when it drains', () => {
    it('refuses the queued and new requests with SERVER_DRAINING (Retry-After), and waits for the runs in flight, firing nothing', async () => {
      const admission = new Admission(limits({ maxRuns: 1, drainTimeoutMs: 5000 }));
      const run = await admission.admit(cost(1));
      const queued = admission.admit(cost(1));
      const drained = admission.drain();
      await expect(queued).rejects.toMatchObject({ code: 'SERVER_DRAINING', retryAfterSeconds: 5 });
      expect(refusal(() => admission.enqueue(cost(1)))).toMatchObject({ code: 'SERVER_DRAINING', retryAfterSeconds: 5 });
      expect(admission.snapshot()).toMatchObject({ draining: true, queued: 0, running: 1 });
      expect(await settled(drained)).toBe('pending');
      run.release();
      expect(await drained).toEqual({ stopped: 0 });
      expect(run.abortSignal.aborted).toBe(false);
    });

    it('fires the abort signal of each run still going at the deadline, then waits for them to end', async () => {
      const admission = new Admission(limits({ drainTimeoutMs: 20 }));
      const stubborn = await admission.admit(cost(1));
      const quick = await admission.admit(cost(1));
      quick.release();
      stubborn.abortSignal.addEventListener('abort', () => setTimeout(() => stubborn.release(), 10));
      expect(await admission.drain()).toEqual({ stopped: 1 });
      expect(stubborn.abortSignal.reason).toMatchObject({ code: 'EXECUTOR_DRAINING' });
      expect(quick.abortSignal.aborted).toBe(false);
      expect(admission.snapshot().running).toBe(0);
    });
  });
});
