/**
 * The read side's store, opened on first use (chDB allows one data directory
 * per process: the whole process shares this one), migrated, and kept up to
 * date from the log. Executions never wait for it: if ClickHouse is down the
 * write side goes on and `refresh` catches up later from its checkpoint.
 */
import type { EventEnvelope, EventLog, TailableEventLog } from '../events/index.js';
import type { Config } from '../config.js';
import { migrate } from '../commands/migrate/migrate.js';
import { openClickHouse, type Store } from './store/clickhouse.js';
import { catchUp, project } from './projector.js';

export class ReadModel {
  private opened: Promise<Store> | null = null;
  private refreshing: Promise<number> | null = null;

  constructor(
    private readonly config: Pick<Config, 'clickhouseUrl' | 'dataDir'>,
    private readonly log: EventLog,
  ) {}

  store(): Promise<Store> {
    this.opened ??= (async () => {
      const store = openClickHouse({ url: this.config.clickhouseUrl, dataDir: this.config.dataDir });
      await migrate(store);
      return store;
    })().catch((error) => {
      this.opened = null;
      throw error;
    });
    return this.opened;
  }

  /** Projects what the SQLite log has beyond the checkpoint (Kafka is fed by its consumer group instead). */
  async refresh(): Promise<number> {
    if (!('readFrom' in this.log)) return 0;
    this.refreshing ??= this.store().then((store) => catchUp(store, this.log as TailableEventLog)).finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  async projectBatch(events: EventEnvelope[]): Promise<void> {
    await project(await this.store(), events);
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    const store = await this.opened.catch(() => null);
    this.opened = null;
    await store?.close();
  }
}
