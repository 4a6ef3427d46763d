/**
 * One admitted run, the same for POST /execute and its async form: executed
 * with its ticket's drain signal, then, whatever happened, its slot released
 * and how it ended reported (the metrics).
 */
import type { Certificate } from '../../verify/index.js';
import type { Admission, Ticket } from './admission.js';
import { execute, type ExecuteDeps } from './handler.js';
import type { ExecuteRequest } from './request-schema.js';

export interface AdmittedRunDeps extends ExecuteDeps {
  /** This executor's capacity: every run holds a ticket while it runs. */
  admission: Admission;
  /** Hears how each admitted run ended (certified completed or failed, or an error with no certificate) and how long it took. */
  onRunEnd?: (status: Certificate['status'] | 'error', seconds: number) => void;
}

export async function runAdmitted(request: ExecuteRequest, deps: AdmittedRunDeps, ticket: Ticket): Promise<Certificate> {
  const started = performance.now();
  let status: Certificate['status'] | 'error' = 'error';
  try {
    // The drain stops the run through its ticket (admission.ts, handler.ts).
    const { certificate } = await execute(request, { ...deps, signal: ticket.abortSignal });
    status = certificate.status;
    return certificate;
  } finally {
    ticket.release();
    deps.onRunEnd?.(status, (performance.now() - started) / 1000);
  }
}
