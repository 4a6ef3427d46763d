/**
 * ClickHouse (chDB in-process): projection ingestion rate, and search latency
 * over 1e5 certificates (2e4 with --quick).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { SimulatedAttestor } from '../src/attest/node.js';
import { migrate } from '../src/projections/migrate/migrate.js';
import { openClickHouse } from '../src/projections/store/clickhouse.js';
import { chTime, project } from '../src/projections/projector.js';
import { searchCertificates } from '../src/projections/search/search.js';
import { durationPercentiles, executionsPerDay } from '../src/projections/analytics/queries.js';
import { variedCertificate } from '../src/projections/testing/sample-streams.js';
import { median, timed, type BenchOptions, type BenchRow } from './types.js';

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const size = options.quick ? 20_000 : 100_000;
  const runs = options.quick ? 3 : 5;
  const over = options.quick ? '2e4' : '1e5';
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-ch-'));
  const store = openClickHouse({ url: null, dataDir: dir });
  try {
    await migrate(store);
    const attestor = new SimulatedAttestor(dir);
    const certificates = await Promise.all(Array.from({ length: options.quick ? 40 : 200 }, (_, i) => variedCertificate(i, attestor)));
    const events = certificates.flatMap((c) => c.events);
    const ingest = await timed(async () => {
      for (let i = 0; i < certificates.length; i += 20)
        await project(
          store,
          certificates.slice(i, i + 20).flatMap((c) => c.events),
        );
    });

    const rows = Array.from({ length: size }, (_, i) => ({
      certificate_id: `cert_${ulid(Date.parse('2026-01-01T00:00:00Z') + i * 60_000)}`,
      execution_id: '',
      status: i % 7 === 0 ? 'failed' : 'completed',
      requested_at: chTime(new Date(Date.parse('2026-01-01T00:00:00Z') + i * 60_000).toISOString()),
      sealed_at: null,
      dataset_hash: `sha256:${(i % 1000).toString(16).padStart(64, '0')}`,
      sandbox_hash: '',
      fingerprint: `sha256:${(i % 5000).toString(16).padStart(64, '0')}`,
      dataset_bytes: 1,
      dataset_format: 'csv',
      models: i % 2 ? ['claude-a'] : [],
      tools: ['python'],
      llm_calls: 1,
      input_tokens: i,
      output_tokens: 1,
      tool_calls: 1,
      execution_time_ms: i % 10_000,
      exit_code: 0,
      error_code: '',
      tee: 'simulated',
      result_preview: `result ${i}`,
      event_count: 9,
    }));
    for (let i = 0; i < rows.length; i += 20_000) await store.insert({ table: 'certificates', values: rows.slice(i, i + 20_000), format: 'JSONEachRow' });
    const byFingerprint = await median(runs, () => searchCertificates(store, { fingerprint: rows[4242]!.fingerprint }));
    const browse = await median(runs, () => searchCertificates(store, { status: 'failed', model: 'claude-a', limit: 50 }));
    const text = await median(runs, () => searchCertificates(store, { q: 'result 9999' }));
    const deep = await median(runs, async () => {
      let page = await searchCertificates(store, { sort: 'execution_time_ms', limit: 100 });
      for (let i = 0; i < 9 && page.next_cursor; i++)
        page = await searchCertificates(store, { sort: 'execution_time_ms', limit: 100, cursor: page.next_cursor });
    });
    const percentiles = await median(runs, () => durationPercentiles(store));
    const perDay = await median(runs, () => executionsPerDay(store));
    return [
      {
        name: 'projection ingestion (events + certificates + rollups)',
        value: Math.round(events.length / (ingest.ms / 1000)),
        unit: 'events/s',
        note: `${certificates.length} certificates`,
      },
      { name: `search by fingerprint over ${over} certificates`, value: +byFingerprint.toFixed(1), unit: 'ms' },
      { name: `browse failed runs of one model, page of 50, over ${over}`, value: +browse.toFixed(1), unit: 'ms' },
      { name: `text search in result previews over ${over}`, value: +text.toFixed(1), unit: 'ms' },
      { name: `ten cursor pages of 100 by duration over ${over}`, value: +deep.toFixed(1), unit: 'ms' },
      { name: `exact p50/p95/p99 of durations over ${over}`, value: +percentiles.toFixed(1), unit: 'ms' },
      { name: `executions per day over ${over}`, value: +perDay.toFixed(1), unit: 'ms' },
    ];
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
