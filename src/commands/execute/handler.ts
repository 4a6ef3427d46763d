/**
 * Executes one request, once. Every lifecycle step is appended (and
 * acknowledged) before it counts as done; the dataset lives only in memory and
 * in the sandbox's tmpfs; the sandbox is destroyed and the dataset zeroed on
 * every path; a certificate is sealed only for a complete stream that was read
 * back from the log and verified.
 */
import { randomBytes } from 'node:crypto';
import { ulid } from 'ulid';
import { EphemeraError } from '../../errors.js';
import { verifyStream, type EventEnvelope, type EventLog, type Hash, type Totals } from '../../events/index.js';
import { nodeSha256 } from '../../events/node-hash.js';
import type { Attestor } from '../../attest/index.js';
import type { DestructionReport, Sandbox, SandboxLimits, SandboxSpec } from '../../sandbox/types.js';
import type { Certificate, VerifyOptions } from '../../verify/index.js';
import type { Config } from '../../config.js';
import type { ExecuteRequest } from './request-schema.js';
import { datasetFetchPolicy, loadDataset, sealedDataset, type LoadedDataset } from './dataset.js';
import type { FetchDeps } from '../../net/safe-fetch.js';
import { fingerprint, resolveEntrypoint, sandboxHash, sandboxSummary } from './describe.js';
import { StreamRecorder } from './recorder.js';
import { runComputation } from './run.js';
import { llmApiKey } from './run-llm.js';
import { requestInvalid } from './request.js';
import { ruleProblems } from './request-rules.js';
import { buildResult } from './result.js';
import { sealVerified } from './seal.js';
import type { RunJournal } from './journal.js';
import { checkRecipient, outcomeResult, resultSealing } from './outcome.js';
import type { SealedInput } from './sealed-request.js';
import { hashAndCommitRows, type RowsMembers } from './rows.js';
import { SECRET_BYTES } from '../../rows/index.js';

const NO_TOTALS: Totals = { tool_calls: 0, cpu_ms: 0, max_rss_kb: 0, llm_calls: 0, input_tokens: 0, output_tokens: 0 };

export interface ExecuteDeps {
  config: Config;
  log: EventLog;
  attestor: Attestor;
  createSandbox: (spec: SandboxSpec) => Promise<Sandbox>;
  /** How the executor verifies its own certificate before issuing it: its own key or build trusted. */
  selfCheck: VerifyOptions;
  clock?: () => Date;
  /** How dataset URLs are resolved and connected to (tests: a local DNS server, a test CA); default: the system's. */
  datasetFetch?: FetchDeps;
  /**
   * Fires when the executor drains past its deadline (admission.ts): the sandbox is destroyed (its tool killed,
   * a pending model call cancelled) and the run ends as a certified EXECUTOR_DRAINING failure.
   */
  signal?: AbortSignal;
  /** This executor's record of its own unfinished runs (journal.ts): what it may close after a crash, and nothing else. */
  journal?: RunJournal;
  /** The run's execution id, when the caller chose it before the run (an async run answers it at once); default: a fresh ULID. */
  executionId?: string;
  /** Told each batch of events once the log acknowledged it (live progress: the async registry, the CLI). */
  onEvents?: (events: readonly EventEnvelope[]) => void;
  /**
   * A sealed request's opened input (sealed-request.ts): the dataset as bytes (the request has none), what the
   * certificate says of the submission, and the plaintext buffer `execute` zeroes on every path.
   */
  sealed?: SealedInput;
  /**
   * The run's row secret (docs/row-proofs.md §7), 32 bytes, drawn by whoever answers the submitter (the route, the
   * CLI); a sealed request's comes from its HPKE context. Zeroed with the dataset. Without one the run draws its
   * own, and nobody can ever prove a row.
   */
  rowSecret?: Uint8Array;
}

export interface ExecuteOutcome {
  certificate: Certificate;
}

/** Step 1 of `execute`: what can be checked before anything is loaded or recorded (the route runs it before a request may queue). */
export function precheck(request: ExecuteRequest, config: Pick<Config, 'anthropicApiKey'>): void {
  const problems = ruleProblems(request);
  if (problems.length > 0) throw requestInvalid(problems);
  if (request.sandbox.llm && !llmApiKey(request, config)) {
    throw new EphemeraError(
      'LLM_API_KEY_REQUIRED',
      'sandbox.llm needs an API key: give sandbox.llm.api_key, or set ANTHROPIC_API_KEY where Ephemera runs (the server, or ephemera run); nothing was loaded or recorded',
      { fields: { field: 'body.sandbox.llm.api_key' } },
    );
  }
}

export async function execute(request: ExecuteRequest, deps: ExecuteDeps): Promise<ExecuteOutcome> {
  const started = Date.now();
  const rowSecret = deps.sealed?.rowSecret ?? deps.rowSecret ?? randomBytes(SECRET_BYTES);
  try {
    return await executeLoaded(request, deps, await loaded(request, deps, rowSecret), started);
  } finally {
    // A sealed request's whole plaintext (its inner part and API key too), whatever happened before or during the run.
    deps.sealed?.plaintext.fill(0);
    // The executor forgets the row secret with the dataset (docs/row-proofs.md §6).
    rowSecret.fill(0);
  }
}

/** Steps 1 and 2: what can be checked before anything is loaded or recorded, then the dataset in memory. */
async function loaded(request: ExecuteRequest, deps: ExecuteDeps, rowSecret: Uint8Array): Promise<LoadedDataset & { hash: Hash; rows: RowsMembers }> {
  precheck(request, deps.config);
  await checkRecipient(request.result_recipient);
  // Any refusal here (URL policy, size, empty) happens before the first event: nothing is recorded, nothing certified.
  const dataset = deps.sealed
    ? sealedDataset(deps.sealed.dataset, request.dataset, deps.config.maxDatasetBytes)
    : await loadDataset(request.dataset, datasetFetchPolicy(deps.config), { ...deps.datasetFetch, stop: deps.signal }).catch((cause: unknown) => {
        // A drain stopped the fetch: nothing was recorded, so nothing ran; the caller may retry elsewhere.
        if (deps.signal?.aborted) throw drainingRefusal(deps.config, cause);
        throw cause;
      });
  return { ...dataset, ...(await hashAndCommitRows(request.dataset.format, dataset.bytes, request.dataset.rows, rowSecret)) };
}

/** Steps 3 to 6: record, run, destroy, read back, seal. */
async function executeLoaded(
  request: ExecuteRequest,
  deps: ExecuteDeps,
  dataset: LoadedDataset & { hash: Hash; rows: RowsMembers },
  started: number,
): Promise<ExecuteOutcome> {
  const entrypoint = resolveEntrypoint(request.sandbox);
  const sandboxHashValue = sandboxHash(request.sandbox);
  const recorder = new StreamRecorder(deps.log, deps.executionId ?? ulid(), deps.clock, deps.onEvents);
  const sealing = resultSealing(request.result_recipient);
  let sandbox: Sandbox | null = null;
  // A drain past its deadline destroys the sandbox (killing what runs in it); the run then ends as EXECUTOR_DRAINING.
  const stop = () => void sandbox?.destroy().catch(() => undefined);
  deps.signal?.addEventListener('abort', stop, { once: true });
  try {
    // Journaled before the first append: a crash after any acknowledged event leaves an entry naming this stream.
    await deps.journal?.begin(recorder.executionId);
    await recorder.record([
      'execution.requested',
      {
        dataset_hash: dataset.hash,
        dataset_bytes: dataset.bytes.length,
        dataset_format: request.dataset.format,
        dataset_source: dataset.source,
        sandbox_hash: sandboxHashValue,
        fingerprint: fingerprint(dataset.hash, sandboxHashValue),
        sandbox: sandboxSummary(request.sandbox, entrypoint),
        ...(deps.sealed ? { submission: deps.sealed.submission } : {}),
      },
    ]);

    // 3. Create the sandbox with the dataset on its tmpfs, then run.
    const limits = limitsFor(request.sandbox.environment);
    try {
      if (deps.signal?.aborted) throw new EphemeraError('EXECUTOR_DRAINING', 'the executor is shutting down: the sandbox is not started');
      sandbox = await deps.createSandbox({
        executionId: recorder.executionId,
        dataset: dataset.bytes,
        datasetFile: `dataset.${request.dataset.format}`,
        scripts: Object.entries(request.sandbox.scripts ?? {}).map(([name, content]) => ({ name, content })),
        limits,
        networkAllow: request.sandbox.environment.network?.allow ?? [],
        // A query may take the whole run; the call's own deadline stops it sooner.
        ...(request.sandbox.tools?.includes('sql') ? { sql: { format: request.dataset.format, maxSeconds: request.sandbox.environment.timeout_seconds } } : {}),
      });
    } catch (cause) {
      const code = cause instanceof EphemeraError ? cause.code : 'SANDBOX_START_FAILED';
      const { result, resultHash } = buildResult('');
      const outcome = await outcomeResult(sealing, recorder.executionId, result, resultHash);
      await recorder.record([
        'execution.failed',
        { error_code: code, exit_code: null, killed_by: null, ...outcome, duration_ms: Date.now() - started, totals: { ...NO_TOTALS } },
      ]);
    }
    if (sandbox) {
      await recorder.record(
        ['dataset.loaded', { dataset_hash: dataset.hash, bytes: dataset.bytes.length, medium: 'tmpfs', ...dataset.rows }],
        ['sandbox.created', { ...sandbox.description, runtime: { ...sandbox.description.runtime, tee: await deps.attestor.describe() } }],
      );
      await runComputation({ recorder, sandbox, entrypoint, limits, started, request, config: deps.config, sealing, signal: deps.signal });
    }

    // 4. Destroy: zero the dataset, kill everything, release every tmpfs; record what was checked.
    const destruction = await destroy(sandbox, dataset.bytes);
    await recorder.record(
      ['dataset.deleted', { bytes_zeroed: destruction.bytesZeroed, tmpfs_released: true }],
      ['sandbox.destroyed', { processes_remaining: 0, workspace_released: true, checks: destruction.checks }],
    );

    // 5. Read the stream back from the log and verify it before asking for an attestation.
    await readBack(deps.log, recorder);

    // 6. Seal: root, report data, attestation; verify the certificate as a reader would, then append the seal.
    const certificate = await sealVerified(recorder, deps.attestor, deps.selfCheck);
    // The seal is acknowledged: the stream is finished and no longer this node's to close.
    await deps.journal?.end(recorder.executionId);
    return { certificate };
  } finally {
    deps.signal?.removeEventListener('abort', stop);
    // Every path, including a failed append: nothing of the run survives.
    await destroy(sandbox, dataset.bytes).catch(() => undefined);
  }
}

/** A drain cut the dataset fetch: the run recorded nothing, so it is refused (retry elsewhere), not failed. */
function drainingRefusal(config: Config, cause: unknown): EphemeraError {
  return new EphemeraError('SERVER_DRAINING', 'this server began shutting down while it fetched the dataset: nothing was recorded; retry (elsewhere)', {
    cause,
    retryAfterSeconds: Math.max(1, Math.ceil(config.drainTimeoutMs / 1000)),
  });
}

type DestroyChecks = { sandbox_started: false } | (DestructionReport['checks'] & { processes_remaining: number; dataset_bytes_zeroed: number });

async function destroy(sandbox: Sandbox | null, dataset: Uint8Array): Promise<{ bytesZeroed: number; checks: DestroyChecks }> {
  dataset.fill(0);
  const bytesZeroed = dataset.length;
  if (!sandbox) return { bytesZeroed, checks: { sandbox_started: false as const } };
  const report = await sandbox.destroy();
  if (report.processesRemaining !== 0 || !report.workspaceReleased || !report.tmpfsReleased) {
    throw new EphemeraError('SANDBOX_DESTROY_FAILED', 'the sandbox could not be fully destroyed', {
      fields: { processes_remaining: report.processesRemaining },
    });
  }
  return { bytesZeroed, checks: { ...report.checks, processes_remaining: report.processesRemaining, dataset_bytes_zeroed: report.datasetBytesZeroed } };
}

async function readBack(log: EventLog, recorder: StreamRecorder): Promise<void> {
  const stored = await log.readStream(recorder.executionId);
  const verified = verifyStream(stored, recorder.executionId, nodeSha256);
  const mine = recorder.events;
  if (verified.events.length !== mine.length || verified.head !== mine[mine.length - 1]!.hash) {
    throw new EphemeraError('LOG_READBACK_MISMATCH', 'the log does not hold exactly the stream that was appended', {
      fields: { execution_id: recorder.executionId },
    });
  }
}

export function limitsFor(environment: ExecuteRequest['sandbox']['environment']): SandboxLimits {
  return {
    timeoutMs: environment.timeout_seconds * 1000,
    memoryMb: environment.max_memory_mb,
    maxProcesses: 256,
    cpuSeconds: environment.timeout_seconds * 2,
    workBytes: 256 * 1024 * 1024,
    outBytes: 16 * 1024 * 1024,
    outputBytes: 1024 * 1024,
    maxOpenFiles: 256,
  };
}
