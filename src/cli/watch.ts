/**
 * ephemera watch <execution-id> [--server URL] [--quiet] [--json]
 * Follows a run on a server (found as the read commands find it: the
 * serve.json of the data directory, or --server) through its event stream
 * (GET /executions/:id/events): each step on stderr as the log acknowledges
 * it, then the certificate id on stdout. A cut stream is resumed with
 * Last-Event-ID. Exit as `run`: 0 certified and the computation exited 0,
 * 3 certified but it failed; a refused or aborted run exits with its code's
 * exit (docs/errors.md); an abandoned one 1.
 */
import type { Command } from 'commander';
import { errorInfo, EXIT, isErrorCode } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { configOf, note, printJson, progressReporter, serverUrl, terminalSafe } from './common.js';
import { findServer } from './discovery.js';
import { sseMessages } from './sse.js';
import { reportSteps } from './steps.js';
import { RUN_ID_PATTERN, type EventEnvelope } from '../events/index.js';

export interface WatchOptions {
  server?: string;
  quiet?: boolean;
  json?: boolean;
}

/** Connections tried in a row without a single new message before giving up. */
const MAX_ATTEMPTS = 5;
const CONNECT_TIMEOUT_MS = 10_000;
/** The longest pause a server's Retry-After may ask for between two questions about a run it does not know yet. */
const MAX_NOT_YET_S = 10;

interface End {
  state: string;
  certificate_id: string | null;
  error: { code: string; message: string } | null;
}

export async function watch(executionId: string, options: WatchOptions, command: Command): Promise<number> {
  if (!RUN_ID_PATTERN.test(executionId)) throw new EphemeraError('CLI_USAGE', `${executionId} is not an execution id (a ULID, as POST /execute answered it)`);
  const server = await serverOf(options, command);
  const progress = progressReporter(options.quiet);
  let lastId: string | null = null;
  let outcome: { status: 'completed' | 'failed'; errorCode: string | null } | null = null;
  let end: End | null = null;
  let waiting = false;
  for (let attempt = 1; end === null; attempt++) {
    if (attempt > MAX_ATTEMPTS)
      throw new EphemeraError('CLI_WATCH_INTERRUPTED', `the event stream of ${executionId} at ${server} was cut ${MAX_ATTEMPTS} times without news`);
    const response = await connect(server, executionId, lastId);
    if (response === null) {
      await pause(1000 * attempt);
      continue;
    }
    if ('notYetMs' in response) {
      // Not recorded yet where we asked (accepted by another node behind a proxy, still queued): as long as the server says so.
      if (!waiting) progress(`not recorded yet at ${server}; waiting for its first event`);
      waiting = true;
      attempt = 0;
      await pause(response.notYetMs);
      continue;
    }
    for await (const message of sseMessages(response.body!)) {
      attempt = 0;
      if (message.event === 'end') {
        end = parseEnd(message.data);
        break;
      }
      if (message.id !== undefined) lastId = message.id;
      const event = JSON.parse(message.data) as EventEnvelope;
      if (event.type === 'execution.completed') outcome = { status: 'completed', errorCode: null };
      if (event.type === 'execution.failed') outcome = { status: 'failed', errorCode: (event.data as { error_code: string | null }).error_code };
      reportSteps([event], progress);
    }
  }
  return finish(executionId, end, outcome, options);
}

async function serverOf(options: WatchOptions, command: Command): Promise<string> {
  if (options.server !== undefined) {
    return serverUrl(options.server).origin;
  }
  const { url } = await findServer(configOf(command).dataDir);
  if (url === null)
    throw new EphemeraError('CLI_SERVER_NOT_FOUND', `no ephemera serve answers for ${configOf(command).dataDir}: start one, or give --server URL`);
  return url;
}

/**
 * The open stream; null when it is worth trying again (unreachable, busy); `notYetMs` when the server does not know
 * the run yet but says to ask again (a 404 with Retry-After); any other error the server named is thrown as its own.
 */
async function connect(server: string, executionId: string, lastId: string | null): Promise<Response | { notYetMs: number } | null> {
  let response: Response;
  try {
    response = await fetch(`${server}/executions/${executionId}/events`, {
      headers: { accept: 'text/event-stream', ...(lastId === null ? {} : { 'last-event-id': lastId }) },
      redirect: 'error',
      signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS),
    });
  } catch {
    return null;
  }
  if (response.ok && response.body) return response;
  const body = (await response.json().catch(() => null)) as { error?: { code?: unknown; message?: unknown } } | null;
  if (response.status === 503) return null;
  const retryAfter = Number(response.headers.get('retry-after'));
  if (response.status === 404 && Number.isSafeInteger(retryAfter) && retryAfter > 0) return { notYetMs: Math.min(retryAfter, MAX_NOT_YET_S) * 1000 };
  const code = typeof body?.error?.code === 'string' && isErrorCode(body.error.code) ? body.error.code : 'INTERNAL';
  const message = typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${response.status}`;
  throw new EphemeraError(code, `${message} (from ${server})`);
}

function parseEnd(data: string): End {
  const end = JSON.parse(data) as Partial<End>;
  if (typeof end?.state !== 'string') throw new EphemeraError('CLI_WATCH_INTERRUPTED', 'the server ended the stream without saying how the run ended');
  return { state: end.state, certificate_id: typeof end.certificate_id === 'string' ? end.certificate_id : null, error: end.error ?? null };
}

function finish(executionId: string, end: End, outcome: { status: 'completed' | 'failed'; errorCode: string | null } | null, options: WatchOptions): number {
  const status = end.state === 'certified' ? (outcome?.status ?? null) : null;
  if (options.json) printJson({ execution_id: executionId, state: end.state, certificate_id: end.certificate_id, status, error: end.error });
  else if (end.certificate_id) {
    // Both come from the server: printed terminal-safe.
    process.stdout.write(terminalSafe(`certificate ${end.certificate_id}\n`));
    process.stdout.write(terminalSafe(`status      ${status ?? 'unknown'}${outcome?.errorCode ? ` (${outcome.errorCode})` : ''}\n`));
  } else note(terminalSafe(`${end.state}: ${end.error ? `error ${end.error.code}: ${end.error.message}` : 'no certificate'}`));
  if (end.state === 'certified') return status === 'failed' ? EXIT.computationFailed : EXIT.ok;
  if (end.error && (end.state === 'refused' || end.state === 'aborted')) return errorInfo(end.error.code).exit;
  return EXIT.internal;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
