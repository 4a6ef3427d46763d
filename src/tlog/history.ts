/**
 * The history chain (docs/transparency.md §14), without trust: given a
 * checkpoint's size and root the caller already trusts, `checkHistoryPage`
 * checks one page of a fingerprint's history (each leaf of the fingerprint,
 * proved into the checkpoint, linked by `prev` newest to oldest), and
 * `auditLog` reads the whole log from its tiles and checks that every leaf's
 * `prev` is the last earlier leaf of its fingerprint, which a single history
 * cannot show. Isomorphic.
 */
import { verifyInclusion } from '../attest/merkle.js';
import type { Registered } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { hexToBytes, sha256Bytes, type Sha256 } from '../events/index.js';
import { encodeLeaf, parseLeaf, type LogLeaf } from './leaf.js';
import { formatEntryBundlePath, TILE_WIDTH, tileWidth } from './tile-path.js';
import type { TiledTree } from './tile-proofs.js';
import { checkEntryBundle } from './tiles.js';
import type { HistoryAnswer } from './transparency.js';

export type HistoryErrorCode = Registered<'TLOG_HISTORY_BROKEN'>;

/** What a break is: every refusal names one, with the leaf index where it is found. */
export type HistoryBreak =
  | 'foreign-leaf' // a leaf of another fingerprint
  | 'outside-checkpoint' // an index not below the checkpoint's size
  | 'proof' // an inclusion proof that does not lead to the checkpoint's root
  | 'order' // indexes not strictly decreasing
  | 'chain' // a leaf's prev is not the next leaf's index (a run left out)
  | 'page' // a page does not begin where the previous page's last prev points
  | 'omits-held' // a run the reader holds a certificate of is not in the chain
  | 'skipped'; // (audit) a leaf's prev is not the last earlier leaf of its fingerprint

export function historyBroken(kind: HistoryBreak, message: string, fields: Record<string, unknown> = {}): never {
  throw new EphemeraError<HistoryErrorCode>('TLOG_HISTORY_BROKEN', message, { fields: { break: kind, ...fields } });
}

export interface HistoryPage {
  /** The leaves, newest first, each proved. */
  leaves: HistoryAnswer['leaves'];
  /** Where the chain goes on: the last leaf's prev (ask `?before=<last leaf_index>`), or null at the first run. */
  next: number | null;
}

/** The RFC 6962 leaf hash of a leaf: SHA-256(0x00 ‖ its JCS). */
export const leafHashOf = (leaf: LogLeaf): Uint8Array => sha256Bytes(new Uint8Array([0]), encodeLeaf(leaf));

/**
 * One page of a history against a trusted checkpoint (size, root): every leaf has `fingerprint`,
 * an index below the size and an inclusion proof to the root; indexes strictly decrease; each leaf's
 * prev is the next leaf's index. `continues` is the index the page must begin with (the previous
 * page's last prev). TLOG_HISTORY_BROKEN names the break.
 */
export function checkHistoryPage(
  answer: Pick<HistoryAnswer, 'leaves'>,
  checkpoint: { size: number; rootHash: Uint8Array },
  fingerprint: string,
  continues: number | null = null,
): HistoryPage {
  const { leaves } = answer;
  if (continues !== null && leaves[0]?.leaf_index !== continues)
    historyBroken(
      'page',
      `the chain goes on at leaf ${continues}, but the next page begins ${leaves[0] ? `at leaf ${leaves[0].leaf_index}` : 'with nothing'}`,
      {
        leaf_index: continues,
      },
    );
  // Each leaf on its own first (what it is, that it is in the log), then the links between them.
  for (const { leaf_index, leaf, inclusion_proof } of leaves) {
    if (leaf.fingerprint !== fingerprint)
      historyBroken('foreign-leaf', `leaf ${leaf_index} is of fingerprint ${leaf.fingerprint}, not ${fingerprint}`, { leaf_index });
    // A prev at or after its own leaf would let a page point forward (a walk that never ends).
    if (leaf.prev !== null && leaf.prev >= leaf_index)
      historyBroken('order', `leaf ${leaf_index} says the run before it is leaf ${leaf.prev}, which is not earlier`, { leaf_index, prev: leaf.prev });
    if (leaf_index >= checkpoint.size)
      historyBroken('outside-checkpoint', `leaf ${leaf_index} is not in the checkpoint's tree of ${checkpoint.size} leaves`, { leaf_index });
    try {
      verifyInclusion(leafHashOf(leaf), leaf_index, checkpoint.size, inclusion_proof.map(hexToBytes), checkpoint.rootHash);
    } catch (cause) {
      throw new EphemeraError<HistoryErrorCode>('TLOG_HISTORY_BROKEN', `leaf ${leaf_index}'s inclusion proof does not lead to the checkpoint's root`, {
        cause,
        fields: { break: 'proof', leaf_index },
      });
    }
  }
  for (const [i, { leaf_index, leaf }] of leaves.entries()) {
    const older = leaves[i + 1];
    if (older === undefined) continue;
    if (older.leaf_index >= leaf_index)
      historyBroken('order', `leaf ${older.leaf_index} follows leaf ${leaf_index}: a history is newest first`, { leaf_index: older.leaf_index });
    if (leaf.prev !== older.leaf_index)
      historyBroken(
        'chain',
        `leaf ${leaf_index} says the run before it is ${leaf.prev === null ? 'none' : `leaf ${leaf.prev}`}, but the history shows leaf ${older.leaf_index}`,
        {
          leaf_index,
          prev: leaf.prev,
          shown: older.leaf_index,
        },
      );
  }
  return { leaves, next: leaves.at(-1)?.leaf.prev ?? null };
}

export interface AuditResult {
  /** Leaves read: the checkpoint's size. */
  size: number;
  /** Distinct fingerprints seen. */
  fingerprints: number;
  /** The leaf indexes of `fingerprint` (when asked), oldest first. */
  indexes: number[];
}

/** Reads an entry bundle by its path (`tile/entries/<N>[.p/<W>]`); whatever it returns is checked. */
export type BundleReader = (path: string) => Promise<Uint8Array>;

/**
 * Reads every entry bundle of `tree` (a TiledTree of a trusted checkpoint), checks each against its
 * authenticated level-0 tile, parses every leaf, and checks that every leaf's prev is the last earlier
 * leaf of its fingerprint (TLOG_HISTORY_BROKEN, break "skipped"): a sequencer that left a run out of a
 * chain is caught here. Streams: one bundle at a time, plus a fingerprint → last index map.
 */
export async function auditLog(
  tree: TiledTree,
  readBundle: BundleReader,
  options: { fingerprint?: string; onProgress?: (done: number, size: number) => void; hash?: Sha256 } = {},
): Promise<AuditResult> {
  const last = new Map<string, number>();
  const indexes: number[] = [];
  const bundles = Math.ceil(tree.size / TILE_WIDTH);
  for (let n = 0; n < bundles; n++) {
    const width = tileWidth(tree.size, 0, n);
    const [tile, bytes] = await Promise.all([tree.tile(0, n), readBundle(formatEntryBundlePath({ index: n, width }))]);
    const entries = checkEntryBundle(bytes, tile, options.hash);
    for (const [offset, entry] of entries.entries()) {
      const index = n * TILE_WIDTH + offset;
      const leaf = parseLeaf(entry);
      const expected = last.get(leaf.fingerprint) ?? null;
      if (leaf.prev !== expected)
        historyBroken(
          'skipped',
          `leaf ${index} says the run before it is ${leaf.prev === null ? 'none' : `leaf ${leaf.prev}`}, but the log's last earlier run of fingerprint ${leaf.fingerprint} is ${expected === null ? 'none' : `leaf ${expected}`}`,
          { leaf_index: index, prev: leaf.prev, expected, fingerprint: leaf.fingerprint },
        );
      last.set(leaf.fingerprint, index);
      if (leaf.fingerprint === options.fingerprint) indexes.push(index);
    }
    options.onProgress?.(n * TILE_WIDTH + width, tree.size);
  }
  return { size: tree.size, fingerprints: last.size, indexes };
}
