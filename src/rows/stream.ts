/**
 * The row commitment while the dataset is hashed (docs/row-proofs.md §3): the
 * same count and root as `commitRecords`, or the same refusal as
 * `splitRecords`, for any chunking, holding only the tree's right edge
 * (O(log n) hashes) and the record still open at a chunk's end: never the
 * records or their leaf hashes. Isomorphic.
 */
import { bytesToHex } from '../events/index.js';
import { EphemeraError } from '../errors.js';
import type { Registered } from '../error-codes.js';
import { forgetSaltKey, nobleRowCrypto, rowSaltKey, type RowCrypto } from './commitment.js';
import { MAX_RECORDS, type RowFormat, type UnsplittableReason } from './records.js';
import { incrementalSplitter, type IncrementalSplitter } from './stream-split.js';
import { Utf8Validator } from './utf8.js';

/**
 * The RFC 6962 tree's right edge: the root of each complete subtree, one per set bit of the count, largest first.
 * Appending merges equal subtrees (as many as the count's trailing one bits); the root folds them right to left.
 */
class TreeEdge {
  private readonly roots: Uint8Array[] = [];
  /** 0x01 ‖ left ‖ right, the input of an inner node's hash, reused. */
  private readonly node = new Uint8Array(65).fill(0x01, 0, 1);
  private count = 0;

  constructor(private readonly sha256: (data: Uint8Array) => Uint8Array) {}

  append(leafHash: Uint8Array): void {
    let hash = leafHash;
    for (let n = this.count; n % 2 === 1; n = (n - 1) / 2) hash = this.join(this.roots.pop()!, hash);
    this.roots.push(hash);
    this.count++;
  }

  root(): Uint8Array {
    let root = this.roots.at(-1) ?? this.sha256(new Uint8Array(0));
    for (let i = this.roots.length - 2; i >= 0; i--) root = this.join(this.roots[i]!, root);
    return root;
  }

  private join(left: Uint8Array, right: Uint8Array): Uint8Array {
    this.node.set(left, 1);
    this.node.set(right, 33);
    return this.sha256(this.node);
  }
}

export type RowCommitResult = { committed: true; count: number; root: string } | { committed: false; reason: UnsplittableReason };

export class RowCommitter {
  private readonly prk: Uint8Array;
  private readonly tree: TreeEdge;
  private readonly utf8 = new Utf8Validator();
  private readonly splitter: IncrementalSplitter;
  private count = 0;
  private tooMany = false;
  private seenBytes = false;
  private result: RowCommitResult | null = null;
  /** MAX_RECORDS; a test's subclass lowers it to reach the refusal. */
  protected readonly maxRecords: number = MAX_RECORDS;

  /** Refuses a secret that is not 32 bytes (ROWS_BAD_INPUT), as `commitRecords` does. */
  constructor(
    private readonly format: RowFormat,
    secret: Uint8Array,
    private readonly crypto: RowCrypto = nobleRowCrypto,
  ) {
    this.prk = rowSaltKey(secret, crypto);
    this.tree = new TreeEdge(crypto.sha256);
    this.splitter = incrementalSplitter(format, (record) => this.commit(record));
  }

  /** Feeds the next bytes of the dataset (any chunking). Never throws for unsplittable data: remembers why. */
  push(chunk: Uint8Array): void {
    if (this.result) fail('the row commitment is finished: no more bytes');
    if (chunk.length === 0) return;
    this.seenBytes = true;
    // Bytes that are not UTF-8 outrank every other reason, wherever they are: stop splitting once they are seen.
    this.utf8.push(chunk);
    if (this.utf8.ok) this.splitter.push(chunk);
  }

  /** The same count and root as commitRecords over the whole dataset, or the §1 reason it cannot be split. */
  finish(): RowCommitResult {
    this.result ??= this.conclude();
    // The salt key derives every record's salt: as secret as the secret, and no longer needed.
    forgetSaltKey(this.prk, this.crypto);
    return this.result;
  }

  private conclude(): RowCommitResult {
    if (!this.seenBytes) return { committed: false, reason: 'empty' };
    if (!this.utf8.end()) return { committed: false, reason: this.format === 'json' ? 'json_invalid' : 'not_utf8' };
    this.splitter.end();
    if (this.splitter.refused) return { committed: false, reason: this.splitter.refused };
    if (this.tooMany) return { committed: false, reason: 'too_many_records' };
    // `[ ]` splits into no records: nothing to commit, as for an empty file.
    if (this.count === 0) return { committed: false, reason: 'empty' };
    return { committed: true, count: this.count, root: bytesToHex(this.tree.root()) };
  }

  private commit(record: Uint8Array): void {
    if (this.tooMany) return;
    if (this.count === this.maxRecords) {
      this.tooMany = true;
      return;
    }
    const index = this.count++;
    this.tree.append(this.crypto.leafHash(index, this.crypto.salt(this.prk, index), record));
  }
}

/**
 * How many records `bytes` splits into, counted without keeping them, or `limit + 1` as soon as there are more
 * than `limit` (a bound checked before anything holds every record: commitSorted). Unsplittable data counts what
 * was split before the refusal; the caller's split says why.
 */
export function countRecords(format: RowFormat, bytes: Uint8Array, limit: number): number {
  let count = 0;
  const splitter = incrementalSplitter(format, () => void count++);
  for (let at = 0; at < bytes.length && count <= limit; at += COUNT_CHUNK_BYTES) splitter.push(bytes.subarray(at, at + COUNT_CHUNK_BYTES));
  if (count <= limit) splitter.end();
  return Math.min(count, limit + 1);
}

/** The first record of `bytes` as the splitter gives it, or null when there is none before a refusal. */
export function firstRecord(format: RowFormat, bytes: Uint8Array): Uint8Array | null {
  let first: Uint8Array | null = null;
  const splitter = incrementalSplitter(format, (record) => void (first ??= record.slice()));
  for (let at = 0; at < bytes.length && first === null && !splitter.refused; at += COUNT_CHUNK_BYTES) splitter.push(bytes.subarray(at, at + COUNT_CHUNK_BYTES));
  if (first === null && !splitter.refused) splitter.end();
  return first;
}

/** Small enough that counting stops soon after the limit (a chunk of line ends is that many records). */
const COUNT_CHUNK_BYTES = 1 << 16;

function fail(message: string): never {
  throw new EphemeraError<Registered<'ROWS_BAD_INPUT'>>('ROWS_BAD_INPUT', message);
}
