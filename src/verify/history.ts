/**
 * A fingerprint's history, verified (docs/transparency.md §14): reads the
 * log's answer strictly (`parseHistoryAnswer`), trusts each page's
 * checkpoint as a certificate's is trusted (src/verify/log-checkpoint.ts),
 * checks the chain page by page (src/tlog/history.ts), and that every run
 * the reader holds a certificate of is in it; then summarises the runs and
 * whether their results agree. Isomorphic: the CLI and the web page share it.
 */
import { EXIT, errorInfo, type ErrorCode } from '../error-codes.js';
import { EphemeraError, isEphemeraError } from '../errors.js';
import { bytesToHex, canonicalize, decodeUtf8Strict, parseStrictJson, s, utf8ToBytes, type Schema } from '../events/index.js';
import {
  checkHistoryPage,
  encodeLeaf,
  historyBroken,
  NOTE_MAX_BYTES,
  parseCheckpoint,
  parseLeaf,
  parseNote,
  type Checkpoint,
  type HistoryAnswer,
  type LogLeaf,
} from '../tlog/index.js';
import { checkLogCheckpoint, logKeyDocumentSchema, type LogPolicy, type TrustedCheckpoint } from './log-checkpoint.js';

/** The most leaves one answer holds (the log's page size); older runs are on the next page. */
export const HISTORY_MAX_LEAVES = 1000;
/** An answer's bound: 1,000 leaves with 63-hash proofs (about 5 MB) and a log key document. */
export const HISTORY_MAX_BYTES = 8 * 1024 * 1024;
/**
 * Pages a reader follows before giving up: 100,000 runs of one computation. Every run is kept with its proof for the
 * verdict, so this bounds what a hostile server can make a CLI or a browser tab hold (about 500 MB at worst).
 */
export const HISTORY_MAX_PAGES = 100;
/** An RFC 6962 path in a tree of at most 2^63 leaves. */
const MAX_PROOF_HASHES = 63;

const leafSchema: Schema<LogLeaf> = {
  check(value, path) {
    try {
      // The leaf's own strict reader: exactly its members, each well-formed (its JCS is itself by construction).
      parseLeaf(encodeLeaf(value as LogLeaf));
      return null;
    } catch (error) {
      return { kind: 'invalid', path, reason: isEphemeraError(error) ? error.message : 'not a log leaf' };
    }
  },
};

const historyAnswerSchema = s.object({
  fingerprint: s.hash(),
  checkpoint: s.string(NOTE_MAX_BYTES),
  log_key: logKeyDocumentSchema,
  leaves: s.array(
    s.object({
      leaf_index: s.int(),
      leaf: leafSchema,
      inclusion_proof: s.array(s.pattern(/^[0-9a-f]{64}$/, '64 lowercase hex digits'), MAX_PROOF_HASHES),
    }),
    HISTORY_MAX_LEAVES,
  ),
}) as unknown as Schema<HistoryAnswer>;

/** Strict JSON of `GET /tlog/history/:fingerprint`, closed schema, at most HISTORY_MAX_BYTES (TLOG_HISTORY_MALFORMED). */
export function parseHistoryAnswer(input: string | Uint8Array): HistoryAnswer {
  const bytes = typeof input === 'string' ? utf8ToBytes(input) : input;
  if (bytes.length > HISTORY_MAX_BYTES) malformed(`the history answer is larger than ${HISTORY_MAX_BYTES} bytes`);
  let value: unknown;
  try {
    value = parseStrictJson(decodeUtf8Strict(bytes));
  } catch (cause) {
    throw new EphemeraError('TLOG_HISTORY_MALFORMED', 'the history answer is not strict JSON', { cause });
  }
  const problem = historyAnswerSchema.check(value, 'history');
  if (problem) malformed(`${problem.path}: ${problem.reason}`, problem.path);
  return value as HistoryAnswer;
}

/** A run the reader holds the certificate of (its transparency member): it must be in the chain. */
export interface HeldRun {
  leaf_index: number;
  certificate_id: string;
}

export interface HistoryRun {
  leaf_index: number;
  certificate_id: string;
  status: LogLeaf['status'];
  sealed_at: string;
  result_hash: string | null;
  result_sealed: boolean;
  /** Its inclusion proof led to the checkpoint's root (every run shown has one; a failed one ends the check). */
  proof: 'ok';
  /** The proof itself (RFC 6962 PATH to the checkpoint it came with), for whoever wants to check again. */
  inclusion_proof: string[];
  held: boolean;
}

export interface ResultAgreement {
  /** agree: two or more clear results, all equal; differ: not all equal; nothing-to-compare: fewer than two. */
  verdict: 'agree' | 'differ' | 'nothing-to-compare';
  /** Runs whose clear result hashes were compared. */
  compared: number;
  /** Runs with sealed results: salted commitments, which never compare. */
  sealed: number;
  /** Runs without a result hash. */
  without_result: number;
  /** The distinct clear result hashes, most runs first, with their runs' leaf indexes. */
  groups: { result_hash: string; leaf_indexes: number[] }[];
}

export interface HistoryVerdict {
  fingerprint: string;
  /** trusted: the chain holds and the log key is trusted; untrusted: it holds under a key you do not trust; invalid: it does not hold. */
  status: 'trusted' | 'untrusted' | 'invalid';
  /** The first page's checkpoint (the newest runs are proved to it). */
  checkpoint: { origin: string; size: number; root_hash: string } | null;
  log_key_trust: string | null;
  /** The first page's log key (its note vkey), trusted or not: what a reader would pin with --log-key. */
  log_vkey: string | null;
  cosigned_by: string[];
  pages: number;
  /** Newest first. */
  runs: HistoryRun[];
  results: ResultAgreement;
  error: { code: ErrorCode; message: string; fields: Record<string, unknown> } | null;
}

/** The page reader threw: passed on as it is, never made a verdict. */
class ReaderFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('the history page reader failed');
  }
}

/** One page's body: `before` null for the newest, else `?before=<index>` (the newest leaf below it). */
export type HistoryPageReader = (before: number | null) => Promise<string | Uint8Array>;

/**
 * Walks a fingerprint's history from its newest run back to its first, page by page, and checks it
 * (module comment). Never throws for what the log answered (the verdict says); a reader that throws
 * (unreachable server) does.
 */
export async function verifyHistory(
  fingerprint: string,
  readPage: HistoryPageReader,
  policy: LogPolicy,
  options: { held?: readonly HeldRun[]; maxPages?: number } = {},
): Promise<HistoryVerdict> {
  const verdict: HistoryVerdict = {
    fingerprint,
    status: 'trusted',
    checkpoint: null,
    log_key_trust: null,
    log_vkey: null,
    cosigned_by: [],
    pages: 0,
    runs: [],
    results: agreementOf([]),
    error: null,
  };
  const maxPages = options.maxPages ?? HISTORY_MAX_PAGES;
  const raw = async (before: number | null) => {
    let body: string | Uint8Array;
    try {
      body = await readPage(before);
    } catch (error) {
      throw new ReaderFailure(error);
    }
    return parseHistoryAnswer(body);
  };
  // Pages usually share a checkpoint and a log key: its attestation (a TDX quote's chain) is checked once.
  const trustOf = memoized((answer: HistoryAnswer) => checkLogCheckpoint(answer.checkpoint, answer.log_key, policy));
  const views = new Map<string, string>();
  try {
    let next: number | null = null;
    let before: number | null = null;
    do {
      if (verdict.pages === maxPages) malformed(`the history is longer than the ${maxPages} pages a reader follows`);
      const answer: HistoryAnswer = await raw(before);
      if (answer.fingerprint !== fingerprint) malformed(`the log answered the history of ${answer.fingerprint}, not of ${fingerprint}`, 'history.fingerprint');
      const checkpoint = await trustedCheckpoint(answer, trustOf, verdict);
      checkOneView(views, checkpoint);
      const page = checkHistoryPage(answer, checkpoint, fingerprint, verdict.pages === 0 ? null : next);
      verdict.pages++;
      for (const shown of page.leaves) verdict.runs.push(runOf(shown, options.held ?? []));
      next = page.next;
      before = page.leaves.at(-1)?.leaf_index ?? null;
    } while (next !== null);
    checkHeld(verdict, options.held ?? []);
  } catch (error) {
    // Not an answer of the log's to judge: the reader's own failure (unreachable, refused) is the caller's.
    if (error instanceof ReaderFailure) throw error.cause;
    if (!isEphemeraError(error)) throw error;
    verdict.status = 'invalid';
    verdict.error = { code: error.code, message: error.message, fields: { ...error.fields } };
  }
  verdict.results = agreementOf(verdict.runs);
  return verdict;
}

/**
 * The page's checkpoint under the reader's policy. A key the reader does not trust (or too few
 * cosigners) does not stop the check: the chain is still checked against the checkpoint as
 * written, and the verdict is at best untrusted.
 */
async function trustedCheckpoint(
  answer: HistoryAnswer,
  trustOf: (answer: HistoryAnswer) => Promise<TrustedCheckpoint>,
  verdict: HistoryVerdict,
): Promise<Checkpoint> {
  let checkpoint: Checkpoint;
  try {
    const trusted = await trustOf(answer);
    checkpoint = trusted.checkpoint;
    if (verdict.pages === 0) {
      verdict.log_key_trust = trusted.logKeyTrust.reason;
      verdict.cosigned_by = trusted.cosignedBy;
    }
  } catch (error) {
    if (!isEphemeraError(error) || errorInfo(error.code).exit !== EXIT.untrusted) throw error;
    checkpoint = parseCheckpoint(parseNote(answer.checkpoint).text);
    if (verdict.status === 'trusted') {
      verdict.status = 'untrusted';
      verdict.error = { code: error.code, message: error.message, fields: { ...error.fields } };
    }
  }
  if (verdict.pages === 0) {
    verdict.checkpoint = { origin: checkpoint.origin, size: checkpoint.size, root_hash: bytesToHex(checkpoint.rootHash) };
    verdict.log_vkey = answer.log_key.statement.vkey;
  }
  return checkpoint;
}

/**
 * SECURITY: pages may come with different checkpoints (the log grew between them), but two of one origin and size
 * with different roots are a split view: a later page read from a forked tree could end the chain early and hide the
 * runs before it. (Of different sizes, only a consistency proof shows they agree: `ephemera verify --refresh`.)
 */
function checkOneView(views: Map<string, string>, checkpoint: Checkpoint): void {
  const key = `${checkpoint.origin}\n${checkpoint.size}`;
  const root = bytesToHex(checkpoint.rootHash);
  const seen = views.get(key);
  if (seen !== undefined && seen !== root)
    throw new EphemeraError('TLOG_SPLIT_VIEW', `two pages of this history come with checkpoints of ${checkpoint.size} leaves and different roots`, {
      fields: { field: 'history.checkpoint', size: checkpoint.size, roots: [seen, root] },
    });
  views.set(key, root);
}

/** The same checkpoint under the same log key document is trusted (or not) once per walk. */
function memoized(check: (answer: HistoryAnswer) => Promise<TrustedCheckpoint>): (answer: HistoryAnswer) => Promise<TrustedCheckpoint> {
  const seen = new Map<string, Promise<TrustedCheckpoint>>();
  return (answer) => {
    const key = `${canonicalize(answer.log_key)}\n${answer.checkpoint}`;
    let trusted = seen.get(key);
    if (!trusted) {
      trusted = check(answer);
      seen.set(key, trusted);
    }
    return trusted;
  };
}

function runOf({ leaf_index, leaf, inclusion_proof }: HistoryAnswer['leaves'][number], held: readonly HeldRun[]): HistoryRun {
  return {
    leaf_index,
    certificate_id: leaf.certificate_id,
    status: leaf.status,
    sealed_at: leaf.sealed_at,
    result_hash: leaf.result_hash,
    result_sealed: leaf.result_sealed,
    proof: 'ok',
    inclusion_proof,
    held: held.some((h) => h.leaf_index === leaf_index),
  };
}

/** A history that leaves out a run the reader holds the certificate of is broken, whatever its chain says. */
function checkHeld(verdict: HistoryVerdict, held: readonly HeldRun[]): void {
  const size = verdict.checkpoint?.size ?? 0;
  for (const run of held) {
    const shown = verdict.runs.find((r) => r.leaf_index === run.leaf_index);
    if (shown?.certificate_id === run.certificate_id) continue;
    const why =
      run.leaf_index >= size
        ? `the history's checkpoint (${size} leaves) is older than your certificate's leaf ${run.leaf_index}: the log answered an old history`
        : shown
          ? `leaf ${run.leaf_index} is ${shown.certificate_id} in the history, but your certificate ${run.certificate_id} says it is its leaf`
          : `your certificate ${run.certificate_id} (leaf ${run.leaf_index}) is not in the history`;
    historyBroken('omits-held', why, { leaf_index: run.leaf_index, certificate_id: run.certificate_id });
  }
}

/** Whether the runs' clear result hashes agree; sealed results are salted commitments and never compare. */
export function agreementOf(runs: readonly Pick<HistoryRun, 'leaf_index' | 'result_hash' | 'result_sealed'>[]): ResultAgreement {
  const groups = new Map<string, number[]>();
  let sealed = 0;
  let withoutResult = 0;
  for (const run of runs) {
    if (run.result_sealed) sealed++;
    else if (run.result_hash === null) withoutResult++;
    else groups.set(run.result_hash, [...(groups.get(run.result_hash) ?? []), run.leaf_index]);
  }
  const compared = runs.length - sealed - withoutResult;
  const list = [...groups].map(([result_hash, leaf_indexes]) => ({ result_hash, leaf_indexes })).sort((a, b) => b.leaf_indexes.length - a.leaf_indexes.length);
  const verdict = groups.size > 1 ? 'differ' : compared >= 2 ? 'agree' : 'nothing-to-compare';
  return { verdict, compared, sealed, without_result: withoutResult, groups: list };
}

function malformed(message: string, field?: string): never {
  throw new EphemeraError('TLOG_HISTORY_MALFORMED', message, field === undefined ? {} : { fields: { field } });
}
