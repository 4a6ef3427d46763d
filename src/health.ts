/**
 * GET /health: the process serves (200 while it does, nothing checked).
 * GET /ready: the parts a run needs answer: the event log, the projections
 * store and the attestor. 503 names the part that did not, with its error
 * code and never its error text (which may hold addresses or credentials).
 * Each probe is bounded, so a hung broker cannot hang the orchestrator's probe.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Attestor } from './attest/index.js';
import { DstackAttestor } from './attest/node.js';
import type { Registered } from './error-codes.js';
import type { EventLog } from './events/index.js';
import { KafkaEventLog } from './events/node.js';
import { errorResponses } from './openapi.js';
import type { ReadModel } from './projections/read-model.js';
import { rows } from './projections/store/clickhouse.js';

/** How long one probe may take before its part counts as unreachable. */
export const PROBE_TIMEOUT_MS = 3000;

type ProbeCode = Registered<'LOG_UNAVAILABLE' | 'PROJECTIONS_UNAVAILABLE' | 'ATTEST_UNAVAILABLE'>;
export type Probe = () => Promise<void>;
export interface ReadinessProbes {
  log: Probe;
  projections: Probe;
  attestor: Probe;
}
const CODE_OF: Record<keyof ReadinessProbes, ProbeCode> = { log: 'LOG_UNAVAILABLE', projections: 'PROJECTIONS_UNAVAILABLE', attestor: 'ATTEST_UNAVAILABLE' };

/** An id no stream has (ULIDs are 26 characters): reading it costs one index lookup. */
const PROBE_STREAM = 'ready-probe';

export function logProbe(log: EventLog): Probe {
  if (log instanceof KafkaEventLog) return kafkaProbe(log);
  return async () => void (await log.readStream(PROBE_STREAM));
}

/** The broker answers metadata for the log's topic (a readStream would scan the topic). */
export function kafkaProbe(log: Pick<KafkaEventLog, 'kafka' | 'topic'>): Probe {
  return async () => {
    const admin = log.kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      await admin.fetchTopicMetadata({ topics: [log.topic] });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
}

export function projectionsProbe(readModel: ReadModel): Probe {
  return async () => void (await rows(await readModel.store(), 'SELECT 1 AS ok'));
}

export function attestorProbe(attestor: Attestor): Probe {
  if (attestor instanceof DstackAttestor) return () => attestor.assertReachable();
  // The simulated attestor is this process's own key: reachable while the process is.
  return async () => void (await attestor.describe());
}

type CheckResult = { ok: true } | { ok: false; code: ProbeCode };

/** Any failure of a part, or no answer in time, is that part's unavailability: the cause stays in this process. */
async function check(name: keyof ReadinessProbes, probe: Probe): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer in time`)), PROBE_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return { ok: true };
  } catch {
    return { ok: false, code: CODE_OF[name] };
  } finally {
    clearTimeout(timer);
  }
}

const checkSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['ok'],
  properties: {
    ok: { type: 'boolean' },
    code: { type: 'string', enum: Object.values(CODE_OF), description: 'why the part is not ready (docs/errors.md); absent when ok' },
  },
} as const;

const readinessSchema = (description: string, status: 'ready' | 'not_ready') => ({
  description,
  type: 'object',
  additionalProperties: false,
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: [status] },
    checks: {
      type: 'object',
      additionalProperties: false,
      required: Object.keys(CODE_OF),
      properties: Object.fromEntries(Object.keys(CODE_OF).map((name) => [name, checkSchema])),
    },
  },
});

export function healthRoutes(probes: ReadinessProbes): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/health',
      {
        schema: {
          summary: 'Liveness: the process serves',
          description: 'Always 200 while the process answers; checks nothing (use /ready for the parts a run needs).',
          tags: ['operations'],
          response: {
            200: {
              description: 'The process is alive',
              type: 'object',
              additionalProperties: false,
              required: ['status'],
              properties: { status: { type: 'string', enum: ['ok'] } },
            },
            ...errorResponses(500),
          },
        },
      },
      async () => ({ status: 'ok' }),
    );

    app.get(
      '/ready',
      {
        schema: {
          summary: 'Readiness: the event log, the projections store and the attestor answer',
          tags: ['operations'],
          response: {
            200: readinessSchema('Every part answers', 'ready'),
            503: readinessSchema('At least one part does not answer: its check has ok false and the code', 'not_ready'),
            ...errorResponses(500),
          },
        },
      },
      async (_request, reply) => {
        const names = Object.keys(probes) as (keyof ReadinessProbes)[];
        const results = await Promise.all(names.map((name) => check(name, probes[name])));
        const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
        const ready = results.every((r) => r.ok);
        return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
      },
    );
  };
}
