/**
 * The migration runner on the real ClickHouse engine (chDB in-process; also a
 * server when CLICKHOUSE_URL is set, where it runs against that database's
 * recorded migrations): numbered files in order, each once, recorded.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, rows, type Store } from '../store/clickhouse.js';
import { isolatedUrl, TARGETS } from '../testing/projection-fixture.js';
import { MIGRATIONS_DIR, migrate } from './migrate.js';

const shipped = readdirSync(MIGRATIONS_DIR)
  .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
  .sort();

describe.each(TARGETS)('migrate on $name', ({ url }) => {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-migrate-'));
  let store: Store;
  beforeAll(async () => {
    store = openClickHouse({ url: (await isolatedUrl(url, 'migrate')) ?? null, dataDir: dir });
    // A server keeps its schema between runs: start from no recorded migrations there too.
    await store.command({ query: 'DROP TABLE IF EXISTS schema_migrations' });
    await store.command({ query: 'DROP TABLE IF EXISTS migration_probe' });
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when the store is new', () => {
    it('applies every shipped migration in numeric order and records each', async () => {
      expect(shipped.length).toBeGreaterThanOrEqual(3);
      expect(await migrate(store)).toEqual(shipped);
      const recorded = await rows<{ version: number; name: string }>(store, 'SELECT version, name FROM schema_migrations FINAL ORDER BY version');
      expect(recorded.map((r) => r.name)).toEqual(shipped);
      const tables = (await rows<{ name: string }>(store, 'SELECT name FROM system.tables WHERE database = currentDatabase()')).map((t) => t.name);
      expect(tables).toEqual(expect.arrayContaining(['events', 'certificates', 'tool_uses', 'model_uses', 'projector_checkpoints']));
    });
  });

  describe('when run again', () => {
    it('applies nothing and records nothing twice', async () => {
      expect(await migrate(store)).toEqual([]);
      expect(await rows(store, 'SELECT version FROM schema_migrations')).toHaveLength(shipped.length);
    });
  });

  describe('when a new numbered file appears', () => {
    it('applies only that file, every statement in it', async () => {
      const next = mkdtempSync(join(dir, 'migrations-'));
      for (const f of shipped) copyFileSync(join(MIGRATIONS_DIR, f), join(next, f));
      writeFileSync(
        join(next, '999_probe.sql'),
        '-- a probe\nCREATE TABLE IF NOT EXISTS migration_probe (x UInt8) ENGINE = MergeTree ORDER BY x;\nINSERT INTO migration_probe VALUES (7);\n',
      );
      writeFileSync(join(next, 'notes.txt'), 'not a migration');
      expect(await migrate(store, next)).toEqual(['999_probe.sql']);
      expect(await rows(store, 'SELECT x FROM migration_probe')).toEqual([{ x: 7 }]);
      expect(await migrate(store, next)).toEqual([]);
      await store.command({ query: 'DROP TABLE migration_probe' });
      await store.command({ query: 'DELETE FROM schema_migrations WHERE version = 999' });
    });
  });

  describe('when a store projected before 004_execution_time is upgraded', () => {
    it('keeps every row, under the column name the API uses, and then takes NULL for a run that never finished', async () => {
      const before = mkdtempSync(join(dir, 'migrations-'));
      for (const f of shipped.filter((f) => Number(f.slice(0, 3)) < 4)) copyFileSync(join(MIGRATIONS_DIR, f), join(before, f));
      await store.command({ query: 'DROP TABLE IF EXISTS certificates' });
      await store.command({ query: 'DROP TABLE IF EXISTS schema_migrations' });
      await migrate(store, before);
      await store.insert({
        table: 'certificates',
        format: 'JSONEachRow',
        values: [{ certificate_id: 'cert_old', requested_at: '2026-03-01 10:00:00.000', duration_ms: 42 }],
      });

      expect(await migrate(store)).toEqual(shipped.filter((f) => Number(f.slice(0, 3)) >= 4));
      await store.insert({
        table: 'certificates',
        format: 'JSONEachRow',
        values: [{ certificate_id: 'cert_aborted', requested_at: '2026-03-01 10:00:00.000', execution_time_ms: null }],
      });
      const found = await rows<{ certificate_id: string; execution_time_ms: unknown }>(
        store,
        'SELECT certificate_id, execution_time_ms FROM certificates FINAL ORDER BY certificate_id',
      );
      // 64-bit integers may arrive as text (a server) or numbers (chDB).
      expect(found.map((r) => [r.certificate_id, r.execution_time_ms === null ? null : Number(r.execution_time_ms)])).toEqual([
        ['cert_aborted', null],
        ['cert_old', 42],
      ]);
      await store.command({ query: 'TRUNCATE TABLE certificates' });
    });
  });
});
