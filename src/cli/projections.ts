/**
 * The read side from the command line:
 *   ephemera migrate                       apply ClickHouse migrations (and create the Kafka topic when the log is Kafka)
 *   ephemera projections rebuild           truncate the projections and replay the log from the beginning
 *   ephemera certs ls|search [filters]     search and browse certificates
 *   ephemera stats [--from T] [--to T]     analytics
 *   ephemera replay CERT_ID                re-derive from the log, verify, diff against the projection
 */
import { EphemeraError } from '../errors.js';
import { createServices, type Services } from '../services.js';
import { migrate } from '../projections/migrate/migrate.js';
import { chTime, truncateProjections } from '../projections/projector.js';
import { isoOrThrow, searchCertificates, type SearchQuery } from '../projections/search/search.js';
import { durationPercentiles, executionsPerDay, failureReasons, tokensByModel, toolUsage, type TimeRange } from '../projections/analytics/queries.js';
import { replayAgainstProjection } from '../projections/replay/index.js';
import { executionIdOf } from '../verify/index.js';
import { EXIT, parse, printJson, progress } from './common.js';

async function withServices<T>(
  argv: string[],
  options: Parameters<typeof parse>[1],
  body: (s: Services, args: ReturnType<typeof parse>) => Promise<T>,
): Promise<T> {
  const args = parse(argv, options);
  const services = await createServices({ ...args.config(), tee: 'simulated' });
  try {
    return await body(services, args);
  } finally {
    await services.close();
  }
}

export const migrateCommand = (argv: string[]) =>
  withServices(argv, {}, async (s, args) => {
    const applied = await migrate(await s.readModel.store());
    if (args.json) printJson({ applied });
    else process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'nothing to apply\n');
    return EXIT.ok;
  });

export const projectionsCommand = (argv: string[]) =>
  withServices(argv, {}, async (s, args) => {
    if (args.positionals[0] !== 'rebuild') throw new EphemeraError('CLI_USAGE', 'usage: ephemera projections rebuild');
    if (s.log.kind === 'kafka')
      throw new EphemeraError('CLI_USAGE', 'on Kafka, rebuild by resetting the ephemera-projections consumer group to the earliest offset');
    await truncateProjections(await s.readModel.store());
    const events = await s.readModel.refresh();
    if (args.json) printJson({ events });
    else process.stdout.write(`replayed ${events} events into the projections\n`);
    return EXIT.ok;
  });

const FILTERS = ['status', 'model', 'tool', 'dataset-hash', 'sandbox-hash', 'fingerprint', 'from', 'to', 'q', 'sort', 'order', 'limit', 'cursor'] as const;

export const certsCommand = (argv: string[]) =>
  withServices(argv, Object.fromEntries(FILTERS.map((f) => [f, { type: 'string' as const }])), async (s, args) => {
    const sub = args.positionals[0];
    if (sub !== 'ls' && sub !== 'search') throw new EphemeraError('CLI_USAGE', `usage: ephemera certs ls|search [${FILTERS.map((f) => `--${f} V`).join(' ')}]`);
    const query = Object.fromEntries(
      FILTERS.filter((f) => args.values[f] !== undefined).map((f) => [f.replace('-', '_'), f === 'limit' ? Number(args.values[f]) : args.values[f]]),
    ) as SearchQuery;
    const page = await s.readModel.query((store) => searchCertificates(store, query));
    if (args.json) printJson(page);
    else {
      for (const c of page.items)
        process.stdout.write(
          `${c.certificate_id}  ${c.status.padEnd(9)} ${c.requested_at}  ${String(c.execution_time_ms ?? '-').padStart(7)} ms  ${[...c.tools, ...c.models].join(',')}\n`,
        );
      if (page.next_cursor) progress(`more: --cursor ${page.next_cursor}`);
    }
    return EXIT.ok;
  });

export const statsCommand = (argv: string[]) =>
  withServices(argv, { from: { type: 'string' }, to: { type: 'string' } }, async (s, args) => {
    const time = (field: 'from' | 'to') => (typeof args.values[field] === 'string' ? { [field]: chTime(isoOrThrow(args.values[field] as string, field)) } : {});
    const range: TimeRange = { ...time('from'), ...time('to') };
    const stats = await s.readModel.query(async (store) => ({
      executions_per_day: await executionsPerDay(store, range),
      durations: await durationPercentiles(store, range),
      tokens_by_model: await tokensByModel(store, range),
      tool_usage: await toolUsage(store, range),
      failures: await failureReasons(store, range),
    }));
    if (args.json) printJson(stats);
    else {
      const d = stats.durations;
      process.stdout.write(`executions ${d.executions}; duration p50 ${d.p50_ms} ms, p95 ${d.p95_ms} ms, p99 ${d.p99_ms} ms\n`);
      for (const r of stats.executions_per_day) process.stdout.write(`  ${r.day}  ${r.executions} runs (${r.completed} completed, ${r.failed} failed)\n`);
      for (const r of stats.tokens_by_model)
        process.stdout.write(`  model ${r.model}: ${r.calls} calls, ${r.input_tokens} in / ${r.output_tokens} out tokens\n`);
      for (const r of stats.tool_usage) process.stdout.write(`  tool ${r.tool} (${r.caller}): ${r.calls} calls, ${r.failures} failed\n`);
      for (const r of stats.failures) process.stdout.write(`  failure ${r.error_code}: ${r.executions}\n`);
    }
    return EXIT.ok;
  });

export const replayCommand = (argv: string[]) =>
  withServices(argv, {}, async (s, args) => {
    const id = args.positionals[0];
    if (!id || !executionIdOf(id)) throw new EphemeraError('CLI_USAGE', 'usage: ephemera replay CERT_ID');
    await s.readModel.refresh();
    const report = await replayAgainstProjection({ certificates: s.certificates, store: await s.readModel.store(), verifyOptions: s.verifyOptions }, id);
    if (!report) throw new EphemeraError('CERTIFICATE_NOT_FOUND', `no certificate ${id} in the log`);
    const { certificate, valid, failure, projection_diff: diff } = report;
    if (args.json) printJson({ certificate_id: certificate.certificate_id, events: certificate.events.length, valid, failure, projection_diff: diff });
    else {
      process.stdout.write(
        `${certificate.certificate_id}: ${certificate.events.length} events replayed from the ${s.log.kind} log, ${valid ? 'verified' : `INVALID (${failure?.code})`}\n`,
      );
      process.stdout.write(
        diff.length
          ? diff.map((d) => `  projection differs: ${d.field}: log ${JSON.stringify(d.log)}, projection ${JSON.stringify(d.projection)}\n`).join('')
          : '  projection matches the log\n',
      );
    }
    return valid && diff.length === 0 ? EXIT.ok : EXIT.internal;
  });
