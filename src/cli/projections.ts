/**
 * The read side from the command line:
 *   ephemera migrate                       apply ClickHouse migrations (and create the Kafka topic when the log is Kafka)
 *   ephemera projections rebuild           truncate the projections and replay the log from the beginning (SQLite or Kafka)
 *   ephemera projections digest            one hash of this node's read model content
 *   ephemera certs ls|search [filters]     search and browse certificates
 *   ephemera stats [--from T] [--to T]     analytics
 *   ephemera replay CERT_ID                re-derive from the log, verify, diff against the projection
 * certs, stats and replay go through a running `ephemera serve` when there is one (read-side.ts).
 */
import { rmSync } from 'node:fs';
import type { Command } from 'commander';
import { bytesToHex } from '../events/index.js';
import { parseCheckpoint, parseNote } from '../tlog/index.js';
import { tileStoreDirOf } from '../transparency.js';
import { EphemeraError } from '../errors.js';
import { createServices, mirrorPathOf, type Services } from '../services.js';
import type { KafkaEventLog } from '../events/kafka.js';
import { EventMirror } from '../projections/certificates/index.js';
import { readModelDigest } from '../projections/digest.js';
import { rebuildFromKafka } from '../projections/feed/kafka-rebuild.js';
import { projectionGroupOf } from '../node-identity.js';
import { migrate } from '../projections/migrate/migrate.js';
import { chTime, truncateProjections } from '../projections/projector.js';
import { type CertificateRow, searchCertificates } from '../projections/search/search.js';
import type { SearchQuery } from '../projections/search/query.js';
import { durationPercentiles, executionsPerDay, failureReasons, tokensByModel, toolUsage, type TimeRange } from '../projections/analytics/queries.js';
import { replayAgainstProjection } from '../projections/replay/index.js';
import type { Store } from '../projections/store/clickhouse.js';
import { executionIdOf } from '../verify/index.js';
import { configOf, EXIT, note, printJson, printTable, terminalSafe } from './common.js';
import { verifyFromLog } from './verify.js';
import { assertDataDirFree, getJson } from './discovery.js';
import { withReadSide } from './read-side.js';

/** For the commands that write the projections: never beside a serve that holds the embedded store. */
async function withServices<T>(command: Command, body: (s: Services) => Promise<T>, options: { feed?: boolean } = {}): Promise<T> {
  const config = configOf(command);
  if (config.clickhouseUrl === null) await assertDataDirFree(config.dataDir);
  const services = await createServices({ ...config, tee: 'simulated' }, options);
  try {
    return await body(services);
  } finally {
    await services.close();
  }
}

/** `migrate`: the ClickHouse migrations (and the Kafka topic when the log is Kafka). */
export function migrateCommand(options: { json?: boolean }, command: Command): Promise<void> {
  return withServices(command, async (s) => {
    const applied = await migrate(await s.readModel.store());
    if (options.json) printJson({ applied });
    else process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'nothing to apply\n');
  });
}

/**
 * `projections rebuild`: empty the projections and replay the log from its beginning: the SQLite log from
 * position 0; on Kafka, this node's consumer group reset to offset 0 of every partition (and the local mirror refilled).
 */
export function rebuildProjections(options: { json?: boolean }, command: Command): Promise<void> {
  return withServices(
    command,
    async (s) => {
      const store = await s.readModel.store();
      let events: number;
      if (s.log.kind === 'kafka') {
        const mirror = new EventMirror(mirrorPathOf(s.config.dataDir));
        try {
          ({ events } = await rebuildFromKafka({
            kafka: (s.log as KafkaEventLog).kafka,
            topic: s.config.kafkaTopic,
            groupId: projectionGroupOf(s.nodeId),
            clear: async () => {
              await truncateProjections(store);
              mirror.clear();
            },
            project: async (batch) => {
              mirror.insert(batch);
              await s.readModel.projectBatch(batch);
            },
          }));
        } finally {
          mirror.close();
        }
      } else {
        await truncateProjections(store);
        events = await s.readModel.refresh();
      }
      const { digest } = await readModelDigest(store);
      const tlog = await rebuildTlog(s);
      if (options.json) printJson({ events, digest, tlog });
      else
        process.stdout.write(
          `replayed ${events} events into the projections; digest ${digest}\n${tlog ? `transparency log: ${tlog.size} leaves, root ${tlog.root}\n` : ''}`,
        );
    },
    { feed: false },
  );
}

/** The tile store emptied and the tlog ledger replayed into it (and into tlog_leaves): the same tree, the same root. */
async function rebuildTlog(s: Services): Promise<{ size: number; root: string | null } | null> {
  if (!s.tlog) return null;
  rmSync(tileStoreDirOf(s.config.dataDir), { recursive: true, force: true });
  await s.tlog.projection.catchUp(s.tlog.ledger);
  const latest = s.tlog.projection.latest;
  return { size: s.tlog.projection.size, root: latest && bytesToHex(parseCheckpoint(parseNote(latest.checkpoint).text).rootHash) };
}

/** `projections digest`: what this node's read model holds, as one hash (equal on every node that projected the same log). */
export function digestProjections(options: { json?: boolean }, command: Command): Promise<void> {
  return withServices(
    command,
    async (s) => {
      // On SQLite, catch up first: the digest is of the whole log as projected.
      await s.readModel.refresh();
      const result = await readModelDigest(await s.readModel.store());
      if (options.json) printJson(result);
      else
        process.stdout.write(
          `${result.digest}\n${Object.entries(result.rows)
            .map(([table, n]) => `  ${table} ${n}`)
            .join('\n')}\n`,
        );
    },
    { feed: false },
  );
}

export type CertsOptions = Omit<SearchQuery, 'dataset_hash' | 'sandbox_hash'> & { datasetHash?: string; sandboxHash?: string; json?: boolean };

interface Page {
  items: CertificateRow[];
  next_cursor: string | null;
}

export async function listCertificates(options: CertsOptions, command: Command): Promise<void> {
  const { json, datasetHash, sandboxHash, ...rest } = options;
  const query: SearchQuery = { ...rest, dataset_hash: datasetHash, sandbox_hash: sandboxHash };
  const page = await withReadSide(command, (side) =>
    side.kind === 'server'
      ? getJson<Page>(side.url, '/certificates', { ...query })
      : side.readModel.query((store) => searchCertificates(store, query, { now: Date.now(), leaseMs: side.readModel.leaseMs })),
  );
  if (json) return printJson(page);
  if (page.items.length === 0) process.stdout.write('no certificates\n');
  else
    printTable(
      ['certificate', 'status', 'requested (UTC)', 'time', 'exit', 'error', 'tools and models', 'executor'],
      page.items.map((c) => [
        c.certificate_id,
        c.status,
        c.requested_at,
        c.execution_time_ms === null ? '-' : `${c.execution_time_ms} ms`,
        c.exit_code,
        c.error_code,
        [...c.tools, ...c.models].join(', '),
        // The fingerprint's first 16 hex digits tell nodes apart; --json has it whole.
        c.executor ? `${c.executor.slice(0, c.executor.indexOf(':') + 17)}…` : '',
      ]),
      [3, 4],
    );
  if (page.next_cursor) note(`more: --cursor ${page.next_cursor}`);
}

const ANALYTICS = {
  executions_per_day: { route: '/analytics/executions-per-day', query: executionsPerDay, wrapped: true },
  durations: { route: '/analytics/durations', query: durationPercentiles, wrapped: false },
  tokens_by_model: { route: '/analytics/tokens-by-model', query: tokensByModel, wrapped: true },
  tool_usage: { route: '/analytics/tool-usage', query: toolUsage, wrapped: true },
  failures: { route: '/analytics/failures', query: failureReasons, wrapped: true },
} as const;

type Stats = { [K in keyof typeof ANALYTICS]: Awaited<ReturnType<(typeof ANALYTICS)[K]['query']>> };

export async function stats(options: { from?: string; to?: string; json?: boolean }, command: Command): Promise<void> {
  const range: TimeRange = { ...(options.from ? { from: chTime(options.from) } : {}), ...(options.to ? { to: chTime(options.to) } : {}) };
  const result = await withReadSide(command, async (side) => {
    const out: Record<string, unknown> = {};
    for (const [name, figure] of Object.entries(ANALYTICS)) {
      if (side.kind === 'server') {
        const body = await getJson<{ items?: unknown }>(side.url, figure.route, { from: options.from, to: options.to });
        out[name] = figure.wrapped ? body.items : body;
      } else {
        const query = figure.query as (store: Store, range: TimeRange) => Promise<unknown>;
        out[name] = await side.readModel.query((store) => query(store, range));
      }
    }
    return out as Stats;
  });
  if (options.json) return printJson(result);
  const d = result.durations;
  process.stdout.write(`executions ${d.executions}; duration p50 ${d.p50_ms} ms, p95 ${d.p95_ms} ms, p99 ${d.p99_ms} ms\n`);
  const section = (title: string, head: string[], rows: unknown[][], right: number[]) => {
    if (rows.length === 0) return;
    process.stdout.write(`\n${title}\n`);
    printTable(head, rows, right);
  };
  section(
    'runs per day',
    ['day', 'runs', 'completed', 'failed', 'aborted'],
    result.executions_per_day.map((r) => [r.day, r.executions, r.completed, r.failed, r.aborted]),
    [1, 2, 3, 4],
  );
  section(
    'models',
    ['model', 'calls', 'input tokens', 'output tokens'],
    result.tokens_by_model.map((r) => [r.model, r.calls, r.input_tokens, r.output_tokens]),
    [1, 2, 3],
  );
  section(
    'tools',
    ['tool', 'caller', 'calls', 'failed', 'time'],
    result.tool_usage.map((r) => [r.tool, r.caller, r.calls, r.failures, `${r.duration_ms} ms`]),
    [2, 3, 4],
  );
  section(
    'failures',
    ['error code', 'runs'],
    result.failures.map((r) => [r.error_code, r.executions]),
    [1],
  );
}

interface ReplayOutcome {
  certificate_id: string;
  events: number;
  log: string;
  valid: boolean;
  failure: { code: string; field: string | null; message: string } | null;
  projection_diff: { field: string; log: unknown; projection: unknown }[];
}

export async function replay(id: string, options: { json?: boolean }, command: Command): Promise<number> {
  if (!executionIdOf(id)) throw new EphemeraError('CERTIFICATE_ID_INVALID', `${id} is not a certificate id (cert_ and a ULID)`);
  const { outcome, source } = await withReadSide(command, async (side) => {
    if (side.kind === 'server') {
      const served = await getJson<ReplayOutcome>(side.url, `/certificate/${id}/replay`);
      // The verdict is this machine's: the log re-derived and verified here; the server gives only its projection's diff.
      const { verdict, events } = await verifyFromLog(id, configOf(command));
      return { outcome: { ...served, events, valid: verdict.valid, failure: verdict.failure ?? null }, source: side.kind };
    }
    const report = await side.readModel.query((store) =>
      replayAgainstProjection({ certificates: side.certificates, store, verifyOptions: side.verifyOptions }, id),
    );
    if (!report) throw new EphemeraError('CERTIFICATE_NOT_FOUND', `no certificate ${id} in the log`);
    const { certificate, valid, failure, projection_diff } = report;
    return {
      outcome: { certificate_id: certificate.certificate_id, events: certificate.events.length, log: side.log, valid, failure, projection_diff },
      source: side.kind,
    };
  });
  // A snapshot is projected from the log just now: it matches by construction and says nothing about the served projection.
  const checked = source !== 'snapshot';
  if (options.json) printJson({ ...outcome, projection_checked: checked });
  else {
    process.stdout.write(
      `${outcome.certificate_id}: ${outcome.events} events replayed from the ${outcome.log} log, ${outcome.valid ? 'verified' : `INVALID (${terminalSafe(String(outcome.failure?.code))})`}\n`,
    );
    process.stdout.write(
      !checked
        ? '  projection not compared (ephemera serve holds it and does not answer)\n'
        : outcome.projection_diff.length
          ? outcome.projection_diff
              .map((d) => `${terminalSafe(`  projection differs: ${d.field}: log ${JSON.stringify(d.log)}, projection ${JSON.stringify(d.projection)}`)}\n`)
              .join('')
          : '  projection matches the log\n',
    );
  }
  return outcome.valid && outcome.projection_diff.length === 0 ? EXIT.ok : EXIT.internal;
}
