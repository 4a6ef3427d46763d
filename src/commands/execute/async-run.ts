/**
 * POST /execute with `Prefer: respond-async`: what can be refused without the
 * dataset is refused now (rules, the LLM key, admission's immediate
 * refusals); then the caller gets the execution id while the run waits for
 * its admission and runs in the background, holding its ticket to the end.
 * The registry (live-runs.ts) follows it for GET /executions.
 */
import { ulid } from 'ulid';
import type { ExecuteRequest } from './request-schema.js';
import { costOf, type Ticket } from './admission.js';
import { runAdmitted, type AdmittedRunDeps } from './admitted-run.js';
import type { LiveRuns } from './live-runs.js';

export interface AsyncRunDeps {
  runs: LiveRuns;
}

/** Where the answers about a run are, relative to this server. */
export const executionUrls = (executionId: string) => ({
  status_url: `/executions/${executionId}`,
  events_url: `/executions/${executionId}/events`,
});

/** Starts a run in the background; returns its execution id, or throws the refusals that come before any wait (the route has run `precheck`). */
export function startAsync(request: ExecuteRequest, deps: AdmittedRunDeps, async: AsyncRunDeps): string {
  const executionId = ulid();
  async.runs.add(executionId);
  let ticket: Promise<Ticket>;
  try {
    ticket = deps.admission.enqueue(costOf(request, deps.config, deps.sealed?.dataset.length)).ticket;
  } catch (refusal) {
    async.runs.remove(executionId);
    throw refusal;
  }
  void runInBackground(request, { ...deps, executionId, onEvents: (batch) => async.runs.recorded(executionId, batch) }, async.runs, ticket);
  return executionId;
}

async function runInBackground(
  request: ExecuteRequest,
  deps: AdmittedRunDeps & { executionId: string },
  runs: LiveRuns,
  ticket: Promise<Ticket>,
): Promise<void> {
  try {
    const held = await ticket;
    runs.started(deps.executionId);
    const certificate = await runAdmitted(request, deps, held);
    runs.certified(deps.executionId, certificate.certificate_id);
  } catch (error) {
    runs.failed(deps.executionId, error);
  } finally {
    // Refused while queued (timeout, drain), the run never reached `execute`, which zeroes it otherwise.
    deps.sealed?.plaintext.fill(0);
    deps.sealed?.rowSecret.fill(0);
    deps.rowSecret?.fill(0);
  }
}
