/**
 * Embedded event log on SQLite (better-sqlite3 12, WAL, synchronous=FULL).
 * One table; (execution_id, seq) is unique; the rowid is the log position the
 * projector tails. An append is one transaction that first checks it continues
 * the stored stream, so a batch is all-or-nothing. Each envelope is stored as
 * its canonical text as sealed (canonicalText), and read back with it.
 */
import Database from 'better-sqlite3';
import { EphemeraError } from '../errors.js';
import { canonicalText, parseEventText, type EventEnvelope } from './envelope.js';
import { assertContinues, type PositionedEvent, type TailableEventLog } from './log.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position     INTEGER PRIMARY KEY AUTOINCREMENT,
  execution_id TEXT    NOT NULL,
  seq          INTEGER NOT NULL,
  type         TEXT    NOT NULL,
  hash         TEXT    NOT NULL,
  envelope     TEXT    NOT NULL,
  UNIQUE (execution_id, seq)
);`;

/**
 * A connection to the embedded log's database: read-only (it must exist), or read-write with WAL and
 * synchronous=FULL (a commit is on disk before it is acknowledged) and `schema` applied. Shared by the event log
 * and the tlog ledger (tlog-ledger-sqlite.ts), which keep their tables in the same file.
 */
export function openLogDatabase(path: string, schema: string, options: { readonly?: boolean }): Database.Database {
  if (options.readonly) return new Database(path, { readonly: true, fileMustExist: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(schema);
  return db;
}

export class SqliteEventLog implements TailableEventLog {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly lastOf: Database.Statement<[string], { seq: number; hash: string }>;
  private readonly insert: Database.Statement<[string, number, string, string, string]>;
  private readonly streamOf: Database.Statement<[string], { envelope: string }>;
  private readonly after: Database.Statement<[number, number], { position: number; envelope: string }>;
  private readonly appendBatch: (events: readonly EventEnvelope[]) => void;

  /** readonly: a reader beside the process that writes (ephemera serve); it creates nothing and every append fails. */
  constructor(path: string, options: { readonly?: boolean } = {}) {
    try {
      this.db = openLogDatabase(path, SCHEMA, options);
    } catch (cause) {
      throw new EphemeraError('LOG_UNAVAILABLE', 'cannot open the SQLite event log', { cause, fields: { path } });
    }
    this.lastOf = this.db.prepare('SELECT seq, hash FROM events WHERE execution_id = ? ORDER BY seq DESC LIMIT 1');
    this.insert = this.db.prepare('INSERT INTO events (execution_id, seq, type, hash, envelope) VALUES (?, ?, ?, ?, ?)');
    this.streamOf = this.db.prepare('SELECT envelope FROM events WHERE execution_id = ? ORDER BY seq');
    this.after = this.db.prepare('SELECT position, envelope FROM events WHERE position > ? ORDER BY position LIMIT ?');
    this.appendBatch = this.db.transaction((events: readonly EventEnvelope[]) => {
      const last = this.lastOf.get(events[0]!.execution_id) as EventEnvelope | undefined;
      assertContinues(last, events);
      for (const e of events) this.insert.run(e.execution_id, e.seq, e.type, e.hash, canonicalText(e));
    });
  }

  async append(events: readonly EventEnvelope[]): Promise<void> {
    if (events.length === 0) return;
    try {
      this.appendBatch(events);
    } catch (cause) {
      if (cause instanceof EphemeraError) throw cause;
      throw new EphemeraError('LOG_APPEND_FAILED', 'the SQLite event log refused the append', { cause });
    }
  }

  async readStream(executionId: string): Promise<EventEnvelope[]> {
    return this.streamOf.all(executionId).map((row) => parseEventText(row.envelope) as EventEnvelope);
  }

  async readFrom(afterPosition: number, limit: number): Promise<PositionedEvent[]> {
    return this.after.all(afterPosition, limit).map((row) => ({ position: row.position, event: parseEventText(row.envelope) as EventEnvelope }));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
