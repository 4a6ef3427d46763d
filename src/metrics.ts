/**
 * GET /metrics: Prometheus text exposition (prom-client). One registry per
 * app, never prom-client's global one, so one process (a test) can build
 * several apps. Capacity gauges are read from the admission when scraped;
 * counters and histograms are fed by the admission's outcomes, the route's
 * run ends and the event log's appends (services.ts wraps `append`).
 */
import type { FastifyPluginAsync } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AdmissionSnapshot } from './commands/execute/admission.js';
import { errorResponses } from './openapi.js';
import type { Services } from './services.js';

export interface AppMetrics {
  readonly registry: Registry;
  /** A run admitted through POST /execute ended: its certificate's status, or `error` when none was issued. */
  observeRun(status: string, seconds: number): void;
  /** Stops listening to the admission and the log (the app closes). */
  stop(): void;
}

const REFUSAL_CODES = ['CAPACITY_REQUEST_TOO_LARGE', 'CAPACITY_EXHAUSTED', 'CAPACITY_QUEUE_TIMEOUT', 'SERVER_DRAINING'] as const;

export function createMetrics(services: Pick<Services, 'admission' | 'onAppend'>): AppMetrics {
  const registry = new Registry();
  const registers = [registry];
  const gauge = (name: string, help: string, read: (s: AdmissionSnapshot) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(services.admission.snapshot()));
      },
    });
  gauge('ephemera_queue_length', 'Requests waiting for a run slot', (s) => s.queued);
  gauge('ephemera_queue_max', 'Requests that may wait (EPHEMERA_QUEUE_MAX)', (s) => s.queueMax);
  gauge('ephemera_runs_in_flight', 'Runs holding a slot', (s) => s.running);
  gauge('ephemera_runs_max', 'Run slots (EPHEMERA_MAX_RUNS)', (s) => s.maxRuns);
  gauge('ephemera_memory_reserved_bytes', "Memory the running runs' declared limits claim", (s) => s.memoryReservedBytes);
  gauge('ephemera_memory_budget_bytes', 'Memory budget of the runs (EPHEMERA_MEMORY_BUDGET_MB)', (s) => s.memoryBudgetBytes);
  gauge('ephemera_draining', '1 while the server drains (SIGTERM), else 0', (s) => (s.draining ? 1 : 0));
  const admitted = new Counter({ name: 'ephemera_admitted_total', help: 'Runs admitted', registers });
  const refused = new Counter({
    name: 'ephemera_refused_total',
    help: 'Requests refused by admission control, by error code',
    labelNames: ['code'],
    registers,
  });
  for (const code of REFUSAL_CODES) refused.inc({ code }, 0);
  const runs = new Histogram({
    name: 'ephemera_run_duration_seconds',
    help: 'Admitted runs from admission to answer, by outcome (completed, failed, error: no certificate)',
    labelNames: ['status'],
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers,
  });
  const appends = new Histogram({
    name: 'ephemera_event_log_append_seconds',
    help: 'Latency of one append (one batch) to the event log, acknowledged or failed, by log kind',
    labelNames: ['log'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const stops = [
    services.admission.subscribe((outcome) => (outcome.admitted ? admitted.inc() : refused.inc({ code: outcome.code }))),
    services.onAppend((kind, seconds) => appends.observe({ log: kind }, seconds)),
  ];
  return {
    registry,
    observeRun: (status, seconds) => runs.observe({ status }, seconds),
    stop: () => {
      for (const stop of stops) stop();
    },
  };
}

export function metricsRoutes(metrics: AppMetrics): FastifyPluginAsync {
  return async (app) => {
    app.addHook('onClose', async () => metrics.stop());
    app.get(
      '/metrics',
      {
        schema: {
          summary: 'Prometheus metrics: capacity, queue, admissions and refusals, run durations, event-log append latency',
          tags: ['operations'],
          response: {
            200: {
              description: 'The Prometheus text exposition format (version 0.0.4)',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            ...errorResponses(500),
          },
        },
      },
      async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );
  };
}
