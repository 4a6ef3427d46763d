/**
 * The dataset's hash and row commitment for `dataset.loaded`, in one pass
 * over the bytes (docs/row-proofs.md §6): the records' salted tree under the
 * run's secret, or why there is none. A dataset that cannot be split still
 * runs, committed by its whole-file hash. A sorted commitment needs every
 * record's key, so it is taken after the pass (it holds the records, at most
 * MAX_SORTED_RECORDS of them: admission counts that memory).
 */
import { createHash } from 'node:crypto';
import { isEphemeraError } from '../../errors.js';
import type { EventData, Hash } from '../../events/index.js';
import { commitSorted, RowCommitter, type RowCommitResult, type UnsplittableReason } from '../../rows/index.js';
import { nodeRowCrypto } from '../../rows/node.js';
import type { RowsRequest } from '../../seal/index.js';

export type RowsMembers = Pick<EventData['dataset.loaded'], 'rows' | 'rows_absent'>;

/**
 * The event loop is given back after each chunk: a chunk of line ends is that many records (about 0.1 s at
 * 64 KiB), and the server answers other requests meanwhile.
 */
const PASS_CHUNK_BYTES = 1 << 16;

export async function hashAndCommitRows(
  format: 'csv' | 'json' | 'txt',
  bytes: Uint8Array,
  asked: RowsRequest | undefined,
  secret: Uint8Array,
): Promise<{ hash: Hash; rows: RowsMembers }> {
  const hash = createHash('sha256');
  const inOrder = asked === undefined || asked === 'input' ? new RowCommitter(format, secret, nodeRowCrypto) : null;
  for (let at = 0; at < bytes.length; at += PASS_CHUNK_BYTES) {
    const chunk = bytes.subarray(at, at + PASS_CHUNK_BYTES);
    hash.update(chunk);
    inOrder?.push(chunk);
    if (inOrder) await new Promise(setImmediate);
  }
  const digest: Hash = `sha256:${hash.digest('hex')}`;
  if (asked === 'none') return { hash: digest, rows: { rows_absent: { reason: 'not_requested' } } };
  if (inOrder) return { hash: digest, rows: membersOf(format, inOrder.finish()) };
  return { hash: digest, rows: sorted(format, bytes, (asked as { sorted_by: string }).sorted_by, secret) };
}

function membersOf(format: 'csv' | 'json' | 'txt', result: RowCommitResult): RowsMembers {
  return result.committed ? { rows: { format, count: result.count, root: result.root, sorted_by: null } } : { rows_absent: { reason: result.reason } };
}

function sorted(format: 'csv' | 'json' | 'txt', bytes: Uint8Array, sortedBy: string, secret: Uint8Array): RowsMembers {
  // The request schema refuses a sort key for txt: only csv and json records have keys.
  if (format === 'txt') return { rows_absent: { reason: 'sort_key_invalid' } };
  try {
    return { rows: commitSorted(format, bytes, secret, sortedBy, nodeRowCrypto).commitment };
  } catch (error) {
    if (isEphemeraError(error) && error.code === 'ROWS_UNSPLITTABLE') return { rows_absent: { reason: error.fields.reason as UnsplittableReason } };
    throw error;
  }
}
