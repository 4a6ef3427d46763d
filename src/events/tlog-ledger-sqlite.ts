/**
 * The tlog ledger in the embedded event log's database (its own connection,
 * WAL, synchronous=FULL): one table, the rowid the position, a batch's
 * first_index UNIQUE so a second sequencer's conflicting batch fails to commit.
 */
import type Database from 'better-sqlite3';
import { EphemeraError } from '../errors.js';
import { openLogDatabase } from './sqlite.js';
import type { TlogLedger, TlogLedgerErrorCode, TlogLedgerRecord } from './tlog-ledger.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tlog_records (
  position    INTEGER PRIMARY KEY AUTOINCREMENT,
  first_index INTEGER UNIQUE,
  record      TEXT    NOT NULL
);`;

export class SqliteTlogLedger implements TlogLedger {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[number | null, string]>;
  private readonly after: Database.Statement<[number, number], { position: number; record: string }>;

  constructor(path: string, options: { readonly?: boolean } = {}) {
    try {
      this.db = openLogDatabase(path, SCHEMA, options);
      this.insert = this.db.prepare('INSERT INTO tlog_records (first_index, record) VALUES (?, ?)');
      this.after = this.db.prepare('SELECT position, record FROM tlog_records WHERE position > ? ORDER BY position LIMIT ?');
    } catch (cause) {
      throw new EphemeraError<TlogLedgerErrorCode>('LOG_UNAVAILABLE', 'cannot open the tlog ledger', { cause, fields: { path } });
    }
  }

  async append(text: string, firstIndex: number | null): Promise<number> {
    try {
      return Number(this.insert.run(firstIndex, text).lastInsertRowid);
    } catch (cause) {
      if ((cause as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw new EphemeraError<TlogLedgerErrorCode>('TLOG_BATCH_CONFLICT', 'the ledger already holds a batch at this index', {
          fields: { first_index: firstIndex },
        });
      throw new EphemeraError<TlogLedgerErrorCode>('LOG_APPEND_FAILED', 'the tlog ledger refused the append', { cause });
    }
  }

  async readFrom(afterPosition: number, limit: number): Promise<TlogLedgerRecord[]> {
    return this.after.all(afterPosition, limit).map((row) => ({ position: row.position, text: row.record }));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
