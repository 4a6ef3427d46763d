/**
 * How a read command finds an `ephemera serve` on the same data directory.
 * Embedded ClickHouse (chDB) takes a lock on its directory (…/clickhouse/status),
 * so while serve runs no other process can open the projections; the CLI
 * asks the server instead. serve writes <dataDir>/serve.json ({url, pid,
 * instance}, mode 0600) and removes it on exit; a reader believes it only
 * while that pid is alive and GET /health at the URL names the same random
 * instance (a serve killed hard leaves the file behind: whatever takes its
 * port or pid later cannot know the instance).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EphemeraError } from '../errors.js';
import { isErrorCode } from '../error-codes.js';

const FILE = 'serve.json';
const PROBE_TIMEOUT_MS = 3000;
const REQUEST_TIMEOUT_MS = 60_000;

export const discoveryPath = (dataDir: string) => join(dataDir, FILE);

/**
 * Written by serve once it listens, naming its random instance (GET /health answers it); returns the remover (idempotent,
 * synchronous: it runs in an 'exit' handler), which removes the file only while it is still this process's.
 */
export function writeDiscovery(dataDir: string, listening: string, instance: string): () => void {
  const path = discoveryPath(dataDir);
  writeFileSync(path, `${JSON.stringify({ url: reachableUrl(listening), pid: process.pid, instance })}\n`, { mode: 0o600 });
  return () => {
    try {
      if ((JSON.parse(readFileSync(path, 'utf8')) as { instance?: unknown }).instance === instance) rmSync(path, { force: true });
    } catch {
      // gone or unreadable: nothing of ours to remove
    }
  };
}

/** Before serve starts: refused while serve.json names a live process (another serve holds the embedded stores). */
export async function assertDataDirFree(dataDir: string): Promise<void> {
  const claim = liveClaim(dataDir);
  if (claim !== null && claim.pid !== process.pid) {
    throw new EphemeraError(
      'SERVE_DATA_DIR_HELD',
      `ephemera serve (pid ${claim.pid}) holds ${dataDir} (${discoveryPath(dataDir)}); stop it first, or remove that file if pid ${claim.pid} is no ephemera serve`,
    );
  }
}

/** serve.json while the process it names is alive; null when there is none, it is malformed, or its process is gone. */
function liveClaim(dataDir: string): { pid: number; url?: unknown; instance?: unknown } | null {
  let claim: { url?: unknown; pid?: unknown; instance?: unknown };
  try {
    claim = JSON.parse(readFileSync(discoveryPath(dataDir), 'utf8')) as typeof claim;
  } catch {
    return null;
  }
  const { pid } = claim;
  return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0 && isAlive(pid) ? { ...claim, pid } : null;
}

/** A wildcard listen address is reached on loopback. */
function reachableUrl(listening: string): string {
  const url = new URL(listening);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  return url.origin;
}

export interface ServerState {
  /** The server's origin when it is running and answers; null otherwise. */
  url: string | null;
  /** A live process claims the data directory (so its embedded store is locked), whether or not it answers. */
  held: boolean;
}

/** Reads the discovery file; anything malformed counts as no server. */
export async function findServer(dataDir: string): Promise<ServerState> {
  const claim = liveClaim(dataDir);
  if (claim === null) return { url: null, held: false };
  const url = typeof claim.url === 'string' && /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d{1,5})?$/.test(claim.url) ? claim.url : null;
  if (url === null || typeof claim.instance !== 'string' || !/^[0-9a-f]{32}$/.test(claim.instance)) return { url: null, held: true };
  return { url: (await answers(url, claim.instance)) ? url : null, held: true };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function answers(url: string, instance: string): Promise<boolean> {
  try {
    const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS), redirect: 'error' });
    const body = (await health.json().catch(() => null)) as { instance?: unknown } | null;
    return health.ok && body?.instance === instance;
  } catch {
    return false;
  }
}

/** GET a JSON document from the server; its error bodies become the same errors a local read would raise. */
export async function getJson<T>(url: string, path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
  const target = new URL(path, url);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) target.searchParams.set(name, String(value));
  let response: Response;
  try {
    response = await fetch(target, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), redirect: 'error' });
  } catch (cause) {
    throw new EphemeraError('PROJECTIONS_UNAVAILABLE', `ephemera serve at ${url} did not answer ${path}`, { cause });
  }
  const body = (await response.json().catch(() => null)) as { error?: { code?: unknown; message?: unknown } } | null;
  if (response.ok && body !== null) return body as T;
  const code = typeof body?.error?.code === 'string' && isErrorCode(body.error.code) ? body.error.code : 'INTERNAL';
  const message = typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${response.status}`;
  throw new EphemeraError(code, `${message} (from ephemera serve at ${url})`);
}
