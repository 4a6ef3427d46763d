/**
 * A local, rebuildable mirror of the event log for the read side when the log
 * is Kafka (fed by the projection consumer group). Insert is idempotent: a
 * redelivered message changes nothing (THREATS D33).
 * LIMITATION: the mirror keeps the first message it sees per (execution, seq);
 * a forged duplicate in the topic shows only in a raw read of the topic
 * (`KafkaEventLog.readStream`, `ephemera verify` of a stream read from Kafka).
 */
import Database from 'better-sqlite3';
import { canonicalText, parseEventText, type EventEnvelope } from '../../events/index.js';

export class EventMirror {
  private readonly db: Database.Database;
  private readonly insertOne: Database.Statement<[string, number, string, string]>;
  private readonly streamOf: Database.Statement<[string], { envelope: string }>;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS mirrored_events (
      execution_id TEXT NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL, envelope TEXT NOT NULL,
      PRIMARY KEY (execution_id, seq))`);
    this.insertOne = this.db.prepare('INSERT OR IGNORE INTO mirrored_events (execution_id, seq, hash, envelope) VALUES (?, ?, ?, ?)');
    this.streamOf = this.db.prepare('SELECT envelope FROM mirrored_events WHERE execution_id = ? ORDER BY seq');
  }

  insert(events: readonly EventEnvelope[]): void {
    this.db.transaction(() => {
      for (const e of events) this.insertOne.run(e.execution_id, e.seq, e.hash, canonicalText(e));
    })();
  }

  /** Empties the mirror (a rebuild refills it from the log). */
  clear(): void {
    this.db.exec('DELETE FROM mirrored_events');
  }

  async readStream(executionId: string): Promise<EventEnvelope[]> {
    return this.streamOf.all(executionId).map((row) => parseEventText(row.envelope) as EventEnvelope);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
