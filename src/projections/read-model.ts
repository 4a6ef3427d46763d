/**
 * The read side's store, opened on first use (chDB allows one data directory
 * per process: the whole process shares this one), migrated, and kept up to
 * date from the log. Executions never wait for it: if ClickHouse is down the
 * write side goes on and `refresh` catches up later from its checkpoint.
 */
import { DEFAULT_LEASE_MS, type EventEnvelope, type EventLog, type TailableEventLog } from '../events/index.js';
import type { Config } from '../config.js';
import { EphemeraError } from '../errors.js';
import { migrate } from './migrate/migrate.js';
import { openClickHouse, type Store } from './store/clickhouse.js';
import { catchUp, project } from './projector.js';

export class ReadModel {
  private opened: Promise<Store> | null = null;
  private refreshing: Promise<number> | null = null;

  constructor(
    private readonly config: Pick<Config, 'clickhouseUrl' | 'dataDir'> & Partial<Pick<Config, 'executionLeaseMs'>>,
    private readonly log: EventLog,
  ) {}

  /** How long an open run's executor may be silent before its run reads as abandoned (EPHEMERA_EXECUTION_LEASE_MS). */
  get leaseMs(): number {
    return this.config.executionLeaseMs ?? DEFAULT_LEASE_MS;
  }

  store(): Promise<Store> {
    this.opened ??= (async () => {
      const store = openClickHouse({ url: this.config.clickhouseUrl, dataDir: this.config.dataDir });
      try {
        await migrate(store);
      } catch (error) {
        await store.close().catch(() => undefined);
        throw error;
      }
      return store;
    })().catch((error: unknown) => {
      this.opened = null;
      throw unavailable(error);
    });
    return this.opened;
  }

  /**
   * A read: catch up first (best effort: if that fails the read serves what
   * is projected so far), then query. A ClickHouse failure is
   * PROJECTIONS_UNAVAILABLE (HTTP 503); our own errors (a bad cursor) pass through.
   */
  async query<T>(read: (store: Store) => Promise<T>): Promise<T> {
    await this.refresh().catch(() => undefined);
    const store = await this.store();
    try {
      return await read(store);
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** Projects what the SQLite log has beyond the checkpoint (Kafka is fed by its consumer group instead). */
  async refresh(): Promise<number> {
    if (!('readFrom' in this.log)) return 0;
    this.refreshing ??= this.store()
      .then((store) => catchUp(store, this.log as TailableEventLog))
      .catch((error: unknown) => Promise.reject(unavailable(error)))
      .finally(() => (this.refreshing = null));
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

const unavailable = (error: unknown) =>
  error instanceof EphemeraError ? error : new EphemeraError('PROJECTIONS_UNAVAILABLE', 'ClickHouse did not answer', { cause: error });
