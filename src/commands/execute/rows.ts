/**
 * The dataset's row commitment for `dataset.loaded` (docs/row-proofs.md §6):
 * the records' salted tree under the run's secret, or why there is none. A
 * dataset that cannot be split still runs, committed by its whole-file hash.
 */
import { isEphemeraError } from '../../errors.js';
import type { EventData } from '../../events/index.js';
import { commitRecords, commitSorted, type UnsplittableReason } from '../../rows/index.js';
import { nodeRowCrypto } from '../../rows/node.js';
import type { RowsRequest } from '../../seal/index.js';

export type RowsMembers = Pick<EventData['dataset.loaded'], 'rows' | 'rows_absent'>;

export function commitDatasetRows(format: 'csv' | 'json' | 'txt', bytes: Uint8Array, asked: RowsRequest | undefined, secret: Uint8Array): RowsMembers {
  if (asked === 'none') return { rows_absent: { reason: 'not_requested' } };
  const sortedBy = typeof asked === 'object' ? asked.sorted_by : null;
  try {
    // The request schema refuses a sort key for txt: only csv and json records have keys.
    const { commitment } =
      sortedBy === null || format === 'txt'
        ? commitRecords(format, bytes, secret, nodeRowCrypto)
        : commitSorted(format, bytes, secret, sortedBy, nodeRowCrypto);
    return { rows: commitment };
  } catch (error) {
    if (isEphemeraError(error) && error.code === 'ROWS_UNSPLITTABLE') return { rows_absent: { reason: error.fields.reason as UnsplittableReason } };
    throw error;
  }
}
