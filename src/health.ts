/**
 * GET /health: the process serves (200 while it does, nothing checked).
 * GET /ready: the parts a run needs answer: the event log, the projections
 * store and the attestor. 503 names the part that did not, with its error
 * code and never its error text (which may hold addresses or credentials).
 * Each probe is bounded, so a hung broker cannot hang the orchestrator's probe;
 * probes run one round at a time and a round's answer serves every request
 * for READY_CACHE_MS, so a flood of /ready is not a flood on the broker.
 * /ready also answers the executor's capacity and current use, and is 503
 * (status draining) once a shutdown began, so a proxy stops sending.
 * /health also names this process's instance, so a CLI that found the server
 * through serve.json knows it talks to that server and not to whatever took
 * its port after it died.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { Attestor } from './attest/index.js';
import { DstackAttestor } from './attest/node.js';
import type { Registered } from './error-codes.js';
import type { AdmissionSnapshot } from './commands/execute/admission.js';
import type { EventLog } from './events/index.js';
import type { KafkaEventLog } from './events/node.js';
import { errorResponses } from './openapi.js';
import type { ReadModel } from './projections/read-model.js';
import { rows } from './projections/store/clickhouse.js';

/** How long one probe may take before its part counts as unreachable. */
export const PROBE_TIMEOUT_MS = 3000;
/** How long one round of probes answers /ready. */
export const READY_CACHE_MS = 1000;

/** This process's instance: random, in /health and in serve.json. */
export const INSTANCE_ID = randomBytes(16).toString('hex');

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
  if (log.kind === 'kafka') return kafkaProbe(log as unknown as KafkaEventLog);
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

const count = (description: string) => ({ type: 'integer', minimum: 0, description }) as const;
const capacitySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['draining', 'runs_in_flight', 'runs_max', 'queued', 'queue_max', 'memory_reserved_bytes', 'memory_budget_bytes'],
  description: 'this executor\'s capacity and its use now (README "Capacity")',
  properties: {
    draining: { type: 'boolean', description: 'a shutdown began: no new run is admitted' },
    runs_in_flight: count('runs holding a slot'),
    runs_max: count('run slots (EPHEMERA_MAX_RUNS)'),
    queued: count('requests waiting for a slot'),
    queue_max: count('requests that may wait (EPHEMERA_QUEUE_MAX)'),
    memory_reserved_bytes: count("memory the running runs' declared limits claim"),
    memory_budget_bytes: count('memory budget of the runs (EPHEMERA_MEMORY_BUDGET_MB)'),
  },
} as const;

const readinessSchema = (description: string, status: readonly ('ready' | 'not_ready' | 'draining')[]) => ({
  description,
  type: 'object',
  additionalProperties: false,
  required: ['status', 'checks', 'capacity'],
  properties: {
    status: { type: 'string', enum: status },
    capacity: capacitySchema,
    checks: {
      type: 'object',
      additionalProperties: false,
      required: Object.keys(CODE_OF),
      properties: Object.fromEntries(Object.keys(CODE_OF).map((name) => [name, checkSchema])),
    },
  },
});

/** Which node this is, and the executor value its certificates are searched by (projections/executor.ts). */
export interface NodeIdentity {
  nodeId: string;
  executor: () => Promise<string>;
}

export function healthRoutes(probes: ReadinessProbes, capacity: () => AdmissionSnapshot, identity?: NodeIdentity): FastifyPluginAsync {
  type Readiness = { ready: boolean; checks: Record<string, CheckResult> };
  let round: { settled: number | null; result: Promise<Readiness> } | null = null;
  const probeAll = async (): Promise<Readiness> => {
    const names = Object.keys(probes) as (keyof ReadinessProbes)[];
    const results = await Promise.all(names.map((name) => check(name, probes[name])));
    return { ready: results.every((r) => r.ok), checks: Object.fromEntries(names.map((name, i) => [name, results[i]!])) };
  };
  // One round at a time: a request during a round waits for it; one within READY_CACHE_MS after it gets its answer.
  const readiness = (): Promise<Readiness> => {
    if (round === null || (round.settled !== null && Date.now() - round.settled > READY_CACHE_MS)) {
      const current: { settled: number | null; result: Promise<Readiness> } = { settled: null, result: probeAll() };
      void current.result.then(() => {
        current.settled = Date.now();
      });
      round = current;
    }
    return round.result;
  };
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
              required: ['status', 'instance'],
              properties: {
                status: { type: 'string', enum: ['ok'] },
                instance: { type: 'string', pattern: '^[0-9a-f]{32}$', description: "this process's random instance id (serve.json names it too)" },
                node_id: { type: 'string', description: 'this node among nodes sharing one log (EPHEMERA_NODE_ID)' },
                executor: {
                  type: 'string',
                  description: "what this node's certificates are searched by (GET /certificates?executor=): its key fingerprint, or compose:…/mrtd:… (dstack)",
                },
              },
            },
            ...errorResponses(500),
          },
        },
      },
      async () => ({
        status: 'ok',
        instance: INSTANCE_ID,
        ...(identity ? { node_id: identity.nodeId, executor: await identity.executor().catch(() => '') } : {}),
      }),
    );

    app.get(
      '/ready',
      {
        schema: {
          summary: 'Readiness: the event log, the projections store and the attestor answer',
          tags: ['operations'],
          response: {
            200: readinessSchema('Every part answers', ['ready']),
            503: readinessSchema('At least one part does not answer (its check has ok false and the code), or the server is draining', [
              'not_ready',
              'draining',
            ]),
            ...errorResponses(500),
          },
        },
      },
      async (_request, reply) => {
        const { ready, checks } = await readiness();
        const now = capacity();
        const status = now.draining ? 'draining' : ready ? 'ready' : 'not_ready';
        return reply.status(status === 'ready' ? 200 : 503).send({ status, checks, capacity: capacityOf(now) });
      },
    );
  };
}

function capacityOf(s: AdmissionSnapshot) {
  return {
    draining: s.draining,
    runs_in_flight: s.running,
    runs_max: s.maxRuns,
    queued: s.queued,
    queue_max: s.queueMax,
    memory_reserved_bytes: s.memoryReservedBytes,
    memory_budget_bytes: s.memoryBudgetBytes,
  };
}
