/**
 * STAND-IN, to be replaced at the merge by helper `admission`'s
 * src/commands/execute/admission.ts (issue 18 item 1), which has this shape:
 * `enqueue(cost, signal?)` throws at once for an immediate refusal, else
 * returns the ticket's promise (it settles when the run may start, or rejects
 * when its wait ends); `Ticket.release()` frees the slot (idempotent).
 * This one admits everything at once.
 */
import type { Config } from '../../config.js';
import type { ExecuteRequest } from './request-schema.js';

export interface Ticket {
  release(): void;
}

/** What a run claims while it runs (the real module defines its own). */
export interface RunCost {
  datasetBytes: number;
  memoryMb: number;
}

export interface AdmissionQueue {
  enqueue(cost: RunCost, signal?: AbortSignal): { ticket: Promise<Ticket> };
}

export function costOf(request: ExecuteRequest, config: Config): RunCost {
  return { datasetBytes: config.maxDatasetBytes, memoryMb: request.sandbox.environment.max_memory_mb };
}

export const admitEverything: AdmissionQueue = {
  enqueue: () => ({ ticket: Promise.resolve({ release: () => undefined }) }),
};
