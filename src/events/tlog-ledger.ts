/**
 * The tlog ledger (docs/transparency.md §10): the transparency log's records
 * (the sequencer's batches and the witnesses' cosignatures), appended durably
 * beside the event log and read back in order by every node. Records are
 * opaque text here (src/tlog/records.ts reads them). Backends: the embedded
 * log's SQLite database (tlog-ledger-sqlite.ts) and a one-partition Kafka
 * topic (tlog-ledger-kafka.ts); both pass tlog-ledger.contract.ts.
 */
import type { Registered } from '../error-codes.js';

export interface TlogLedgerRecord {
  /** Ascending, not necessarily dense (a SQLite rowid, a Kafka offset). */
  position: number;
  text: string;
}

export interface TlogLedger {
  readonly kind: 'sqlite' | 'kafka';
  /**
   * Appends one record; resolves with its position once durable (synchronous=FULL commit, acks=all). A batch
   * (`firstIndex` not null) whose first index the ledger already holds is refused on SQLite
   * (TLOG_BATCH_CONFLICT): a second sequencer cannot commit. Kafka cannot refuse it; readers ignore it.
   */
  append(text: string, firstIndex: number | null): Promise<number>;
  /** The records after `afterPosition` (−1: from the start), in order, at most `limit`. */
  readFrom(afterPosition: number, limit: number): Promise<TlogLedgerRecord[]>;
  close(): Promise<void>;
}

export type TlogLedgerErrorCode = Registered<'TLOG_BATCH_CONFLICT' | 'LOG_UNAVAILABLE' | 'LOG_APPEND_FAILED'>;
