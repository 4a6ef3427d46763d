/**
 * ephemera history <fingerprint | CERT.json> [--server URL] [--audit] [--json]
 *                  [--trust-key K]… [--trust-compose-hash H]… [--log-key VKEY]… [--witness VKEY]… [--witnesses-required K]
 * Reads a fingerprint's history from the log (GET /tlog/history/:fingerprint,
 * following ?before= pages), checks it (src/verify/history.ts: a trusted
 * checkpoint, every run proved into it, each run naming the one before), and
 * prints the runs and whether their results agree. Given a certificate file,
 * its own run must be in the history. --audit also reads every entry bundle
 * of the log (docs/transparency.md §14). Exit: 0 valid and trusted, 4 valid
 * but the log key is not trusted, 1 broken, 2 unusable input.
 */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT } from '../error-codes.js';
import { EphemeraError, isEphemeraError } from '../errors.js';
import { HASH_PATTERN, hexToBytes, parseStrictJson } from '../events/index.js';
import { nodeSha256 } from '../events/node-hash.js';
import { auditLog, TiledTree, type AuditResult } from '../tlog/index.js';
import { DEFAULT_VERIFY_LIMITS, HISTORY_MAX_LEAVES, verifyHistory, type HeldRun, type HistoryVerdict, type LogPolicy } from '../verify/index.js';
import { configOf, printJson, printTable, progressReporter, serverUrl, terminalSafe } from './common.js';
import { findServer } from './discovery.js';
import { readInput } from './files.js';
import { readerVerifyOptions, type TrustFlags } from './policy.js';

export interface HistoryFlags extends TrustFlags {
  server?: string;
  audit?: boolean;
  json?: boolean;
  logKey?: string[];
  witness?: string[];
  witnessesRequired?: number;
}

const REQUEST_TIMEOUT_MS = 30_000;
/** A history page (HISTORY_MAX_BYTES is the parser's bound; this is the transfer's), a tile or entry bundle. */
const MAX_PAGE_BYTES = 8 * 1024 * 1024;
const MAX_BUNDLE_BYTES = 256 * 65_537;

export async function history(target: string, options: HistoryFlags, command: Command): Promise<number> {
  const { fingerprint, held } = targetOf(target);
  const { server, own } = await serverOf(options, command);
  // readerVerifyOptions may read --log-key/--witness (and the trust file's lines) itself; if not, the flags here.
  const base: LogPolicy = readerVerifyOptions(command, configOf(command), options, { fromOwnLog: own });
  const policy: LogPolicy = {
    ...base,
    logKeys: base.logKeys ?? options.logKey ?? [],
    witnesses: base.witnesses ?? options.witness ?? [],
    ...(options.witnessesRequired === undefined ? {} : { witnessesRequired: options.witnessesRequired }),
  };
  const readPage = (before: number | null) => get(server, `/tlog/history/${fingerprint}${before === null ? '' : `?before=${before}`}`, MAX_PAGE_BYTES);
  const verdict = await verifyHistory(fingerprint, readPage, policy, { held });
  const audit = options.audit && verdict.status !== 'invalid' ? await audited(verdict, server, options) : null;
  if (options.json) printJson({ ...verdict, audit });
  else print(verdict, audit, held);
  return verdict.status === 'trusted' ? EXIT.ok : verdict.status === 'untrusted' ? EXIT.untrusted : EXIT.invalid;
}

/** A fingerprint, or a certificate file: its fingerprint, and its own run (which the history must show) when it was logged. */
function targetOf(target: string): { fingerprint: string; held: HeldRun[] } {
  if (HASH_PATTERN.test(target)) return { fingerprint: target, held: [] };
  if (!/[/\\]|\.json$/.test(target))
    throw new EphemeraError('CLI_USAGE', `${target} is neither a fingerprint (sha256:<64 hex>) nor a certificate file (…json)`);
  let size = 0;
  try {
    size = statSync(target).size;
  } catch {
    // readInput names the problem
  }
  if (size > DEFAULT_VERIFY_LIMITS.maxBytes) throw new EphemeraError('VERIFY_TOO_LARGE', `${target} is larger than ${DEFAULT_VERIFY_LIMITS.maxBytes} bytes`);
  let certificate: { fingerprint?: unknown; certificate_id?: unknown; transparency?: { leaf_index?: unknown } };
  try {
    certificate = parseStrictJson(readInput(target, 'certificate').toString('utf8')) as typeof certificate;
  } catch (cause) {
    if (isEphemeraError(cause) && cause.code.startsWith('CLI_')) throw cause;
    throw new EphemeraError('CLI_USAGE', `${target} is not a certificate (not strict JSON)`, { cause });
  }
  const { fingerprint, certificate_id, transparency } = certificate ?? {};
  if (typeof fingerprint !== 'string' || !HASH_PATTERN.test(fingerprint) || typeof certificate_id !== 'string')
    throw new EphemeraError('CLI_USAGE', `${target} is not a certificate (no fingerprint or certificate_id)`);
  const index = transparency?.leaf_index;
  // Only a hint that makes the check stricter: a forged leaf_index can make a history fail, never pass.
  const held = Number.isSafeInteger(index) && (index as number) >= 0 ? [{ leaf_index: index as number, certificate_id }] : [];
  if (held.length === 0) process.stderr.write(`note: ${certificate_id} has no transparency member (not logged yet): its own run is not looked for\n`);
  return { fingerprint, held };
}

async function serverOf(options: HistoryFlags, command: Command): Promise<{ server: string; own: boolean }> {
  if (options.server !== undefined) {
    return { server: serverUrl(options.server).origin, own: false };
  }
  const { dataDir } = configOf(command);
  const { url } = await findServer(dataDir);
  if (url === null) throw new EphemeraError('CLI_SERVER_NOT_FOUND', `no ephemera serve answers for ${dataDir}: start one, or give --server URL`);
  return { server: url, own: true };
}

/** GET, bounded in time and size; the server's coded errors keep their code. */
async function get(server: string, path: string, max: number): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(`${server}${path}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), redirect: 'error' });
  } catch (cause) {
    throw new EphemeraError('CLI_HISTORY_UNAVAILABLE', `${server}${path} did not answer`, { cause });
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of (response.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > max) throw new EphemeraError('CLI_HISTORY_UNAVAILABLE', `${server}${path} answered more than ${max} bytes`);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  if (response.ok) return body;
  let code: unknown;
  try {
    code = (JSON.parse(body.toString('utf8')) as { error?: { code?: unknown } }).error?.code;
  } catch {
    // not a coded error
  }
  throw new EphemeraError(
    'CLI_HISTORY_UNAVAILABLE',
    `${server}${path} answered HTTP ${response.status}${typeof code === 'string' ? ` ${terminalSafe(code)}` : ''}`,
  );
}

/** --audit: every entry bundle up to the (first page's) checkpoint; the fingerprint's leaves must be exactly the chain. */
async function audited(verdict: HistoryVerdict, server: string, options: HistoryFlags): Promise<AuditResult | null> {
  if (verdict.checkpoint === null) return null;
  const progress = progressReporter(options.json);
  const read = (path: string) => get(server, `/tlog/${path}`, 8192);
  const tree = new TiledTree({ size: verdict.checkpoint.size, root: hexToBytes(verdict.checkpoint.root_hash) }, read, nodeSha256);
  try {
    const result = await auditLog(tree, (path) => get(server, `/tlog/${path}`, MAX_BUNDLE_BYTES), {
      fingerprint: verdict.fingerprint,
      hash: nodeSha256,
      onProgress: (done, size) => {
        if (done % (64 * 256) === 0 || done === size) progress(`audit: ${done} of ${size} leaves read`);
      },
    });
    const chain = verdict.runs.map((r) => r.leaf_index).reverse();
    const missing = result.indexes.find((index) => !chain.includes(index));
    if (missing !== undefined || result.indexes.length !== chain.length)
      throw new EphemeraError('TLOG_HISTORY_BROKEN', `the log has run ${missing ?? '?'} of this fingerprint, which its history does not show`, {
        fields: { break: 'chain', leaf_index: missing ?? null },
      });
    return result;
  } catch (error) {
    if (!isEphemeraError(error) || error.code === 'CLI_HISTORY_UNAVAILABLE') throw error;
    verdict.status = 'invalid';
    verdict.error = { code: error.code, message: error.message, fields: { ...error.fields } };
    return null;
  }
}

function print(verdict: HistoryVerdict, audit: AuditResult | null, held: readonly HeldRun[]): void {
  const out = (line: string) => process.stdout.write(`${terminalSafe(line)}\n`);
  const headline = { trusted: 'VALID, TRUSTED', untrusted: 'VALID, NOT TRUSTED', invalid: 'BROKEN' }[verdict.status];
  out(`history of ${verdict.fingerprint}: ${headline}`);
  const cp = verdict.checkpoint;
  if (cp) out(`  checkpoint  ${cp.origin}, ${cp.size} leaves, root ${cp.root_hash}`);
  if (verdict.log_key_trust)
    out(`  log key     ${verdict.log_key_trust}${verdict.cosigned_by.length > 0 ? `; cosigned by ${verdict.cosigned_by.join(', ')}` : ''}`);
  if (verdict.runs.length > 0)
    printTable(
      ['leaf', 'certificate', 'status', 'sealed at', 'result', 'proof'],
      verdict.runs.map((r) => [
        `${r.leaf_index}${r.held ? ' (yours)' : ''}`,
        r.certificate_id,
        r.status,
        r.sealed_at,
        r.result_sealed ? 'sealed' : r.result_hash === null ? '-' : `${r.result_hash.slice(0, 23)}…`,
        r.proof,
      ]),
      [0],
    );
  if (verdict.status !== 'invalid') out(`  results     ${resultsLine(verdict)}`);
  if (audit)
    out(
      `  audit       read all ${audit.size} leaves (${audit.fingerprints} fingerprints): every run names the last earlier run of its fingerprint, and this one's are exactly the chain`,
    );
  if (verdict.error) out(`  ${verdict.status === 'invalid' ? 'FAIL' : 'note'}        ${verdict.error.code}: ${verdict.error.message}`);
  if (verdict.status === 'untrusted' && verdict.log_vkey)
    out(`              to trust it: --log-key ${verdict.log_vkey} (from its operator), or --trust-key the attestor key that attested it`);
  if (verdict.status !== 'invalid') out(whatItMeans(verdict, audit !== null, held.length > 0));
}

function resultsLine(verdict: HistoryVerdict): string {
  const { results } = verdict;
  const sealed = results.sealed > 0 ? `; ${results.sealed} sealed (salted commitments, never compared)` : '';
  const none = results.without_result > 0 ? `; ${results.without_result} without a result` : '';
  if (results.verdict === 'agree') return `all ${results.compared} clear results agree: ${results.groups[0]!.result_hash}${sealed}${none}`;
  if (results.verdict === 'differ')
    return `DIFFER: ${results.groups.map((g) => `${g.result_hash} (leaf ${g.leaf_indexes.join(', ')})`).join('; ')}${sealed}${none}`;
  return `fewer than two clear results to compare${sealed}${none}`;
}

function whatItMeans(verdict: HistoryVerdict, audited: boolean, held: boolean): string {
  const n = verdict.runs.length;
  return [
    `  checked     ${n} run${n === 1 ? '' : 's'} in the log's checkpoint (each with its inclusion proof), each naming the run before it back to the first,`,
    `              so no run the log chained was left out of this answer${held ? ", and your certificate's run is among them" : ''}.`,
    `  not proved  runs logged after this checkpoint; that each run's certificate verifies (ephemera verify);${audited ? '' : '\n              that the log chained every run (--audit reads the whole log for that);'}`,
    `              runs that never reached the log (no certificate to show).${verdict.pages > 1 ? ` Read in ${verdict.pages} pages of at most ${HISTORY_MAX_LEAVES}.` : ''}`,
  ].join('\n');
}
