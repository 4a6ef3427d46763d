/**
 * A digest of a node's read model content: every row of events,
 * certificates, tool_uses and model_uses, in key order, members sorted, as
 * ClickHouse renders them. No projection-time column enters it (the
 * checkpoints table is left out), so two nodes that projected the same log,
 * or one node before and after a rebuild from offset 0, have the same digest.
 */
import { createHash } from 'node:crypto';
import type { Row } from '@clickhouse/client';
import type { Store } from './store/clickhouse.js';

const TABLES = [
  ['events', 'SELECT execution_id, seq, type, at, hash, envelope FROM events FINAL ORDER BY execution_id, seq'],
  ['certificates', 'SELECT * FROM certificates FINAL ORDER BY certificate_id'],
  ['tool_uses', 'SELECT * FROM tool_uses FINAL ORDER BY certificate_id, tool, caller'],
  ['model_uses', 'SELECT * FROM model_uses FINAL ORDER BY certificate_id, model'],
] as const;

export interface ReadModelDigest {
  digest: string;
  rows: Record<(typeof TABLES)[number][0], number>;
}

export async function readModelDigest(store: Store): Promise<ReadModelDigest> {
  const hash = createHash('sha256');
  const counts = {} as ReadModelDigest['rows'];
  for (const [table, query] of TABLES) {
    let count = 0;
    // Streamed: a large events table is hashed row by row, never held whole.
    const result = await store.query({ query, format: 'JSONEachRow' });
    for await (const batch of result.stream() as AsyncIterable<Row[]>) {
      for (const row of batch) {
        hash.update(`${table}\t${JSON.stringify(sortedMembers(row.json()))}\n`);
        count++;
      }
    }
    counts[table] = count;
  }
  return { digest: `sha256:${hash.digest('hex')}`, rows: counts };
}

function sortedMembers(row: unknown): Record<string, unknown> {
  const record = row as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((key) => [key, record[key]]),
  );
}
