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
});
