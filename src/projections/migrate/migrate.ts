/**
 * Applies migrations/NNN_name.sql in order, each once, recording it in
 * schema_migrations. Idempotent: run on startup and by `ephemera migrate`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rows, type Store } from '../store/clickhouse.js';

export const MIGRATIONS_DIR = join(import.meta.dirname, '../../../migrations');

export async function migrate(store: Store, dir = MIGRATIONS_DIR): Promise<string[]> {
  await store.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime64(3, 'UTC')) ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const done = new Set((await rows<{ version: number }>(store, 'SELECT version FROM schema_migrations FINAL')).map((r) => Number(r.version)));
  const applied: string[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()) {
    const version = Number(file.slice(0, 3));
    if (done.has(version)) continue;
    const sql = readFileSync(join(dir, file), 'utf8').replace(/^--.*$/gm, '');
    for (const statement of sql
      .split(/;\s*(?:\n|$)/)
      .map((s) => s.trim())
      .filter(Boolean))
      await store.command({ query: statement });
    await store.insert({ table: 'schema_migrations', values: [{ version, name: file, applied_at: Date.now() }], format: 'JSONEachRow' });
    applied.push(file);
  }
  return applied;
}
