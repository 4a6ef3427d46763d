/**
 * One ClickHouse code path, embedded or server: @clickhouse/client over chDB
 * in-process (`chdb/connection`, data under the data dir) when CLICKHOUSE_URL
 * is unset, else over HTTP to a server. Same SQL for both; parameters are
 * always bound ({name:Type}), never concatenated.
 * LIMITATION (measured, docs/projections.md): chDB allows one active data
 * directory per process (several clients on that one path share its data), and
 * one process per directory (ClickHouse's `status` file lock). So a process
 * opens one store and shares it, and a second process on the same data dir is
 * refused with a message saying so (the CLI's read commands ask a running serve
 * instead: src/cli/read-side.ts).
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { EphemeraError } from '../../errors.js';

export type Store = ClickHouseClient;

export function openClickHouse(options: { url: string | null; dataDir: string }): Store {
  try {
    // The client's own logger is off: failures reach callers as PROJECTIONS_UNAVAILABLE, and a
    // down server would otherwise print a stack to stderr on every refresh.
    if (options.url) return createClient({ url: options.url, request_timeout: 10_000, log: { level: ClickHouseLogLevel.OFF } });
    const path = join(options.dataDir, 'clickhouse');
    mkdirSync(path, { recursive: true, mode: 0o700 });
    return createClient({ connection: createChdbConnection({ path }) } as unknown as Parameters<typeof createClient>[0]);
  } catch (cause) {
    // chDB reports a held lock only on stderr ("Cannot lock file …/status"), not in the error.
    const hint = options.url
      ? ''
      : ': another process (ephemera serve?) may hold the embedded store under this data dir; query it over HTTP, or set CLICKHOUSE_URL';
    throw new EphemeraError('PROJECTIONS_UNAVAILABLE', `cannot open ClickHouse${hint}`, { cause });
  }
}

export async function rows<T>(store: Store, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const result = await store.query({ query, query_params: params, format: 'JSONEachRow' });
  return (await result.json()) as T[];
}
