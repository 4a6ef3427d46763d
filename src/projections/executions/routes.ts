/**
 * GET /executions/:id          where a run stands (this node's own async runs from its registry; any other, or
 *                              one of ours after a restart, from the stored stream)
 * GET /executions/:id/events   its lifecycle events as Server-Sent Events: what is recorded, then each
 *                              acknowledged batch as it comes; `event: end` with how it ended, then the stream closes
 * Events are public: a certificate carries them all.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { decodeTime } from 'ulid';
import { EphemeraError } from '../../errors.js';
import { RUN_ID_PATTERN, type EventEnvelope, type EventLog } from '../../events/index.js';
import type { LocalRun, LocalRuns } from '../../events/local-runs.js';
import { errorResponses } from '../../openapi.js';
import { EventStream } from './event-stream.js';
import { fromLocalRun, fromStream, isFinal, type ExecutionAnswer } from './state.js';

/** Last-Event-ID: a seq this server sent (digits only; no sign, no exponent). */
const LAST_EVENT_ID = /^\d{1,9}$/;
/** Seconds a refused stream is told to wait. */
const STREAMS_RETRY_AFTER_S = 5;
/** How far ahead of this node's clock another node's may run (an id made "in the future" by that much is still pending). */
const CLOCK_SKEW_MS = 5000;

export interface EventStreamLimits {
  /** Open event streams at once, over every client. */
  maxStreams: number;
  /** One stream's longest life; its client reconnects with Last-Event-ID. */
  maxDurationMs: number;
  keepAliveMs: number;
  /** How often the stored stream of a run not followed here is read again. */
  pollMs: number;
}

export interface ExecutionRouteDeps {
  runs: LocalRuns;
  /** The stored streams: the log, or (Kafka) this node's mirror of it. */
  streams: Pick<EventLog, 'readStream'>;
  nodeId: string;
  limits: EventStreamLimits;
  /** How long a silent executor's open run counts as running (EPHEMERA_EXECUTION_LEASE_MS); default streamState's. */
  leaseMs?: number;
  /**
   * How long after its id was made a run may have no stored event yet (admission queue + dataset fetch): an async
   * run accepted by another node is in that node's memory only until its first event. Such an id's 404 says when to
   * ask again (Retry-After), so a client behind a proxy keeps following it; an older one is gone for good.
   */
  pendingMs?: number;
  now?: () => number;
}

const idParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 64, description: 'the execution id (a ULID), as the 202 answered it' } },
} as const;

const nullableString = { type: ['string', 'null'] } as const;
const runError = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  description: 'why the run ended without a certificate (docs/errors.md); null otherwise',
} as const;

export const executionSchema = {
  description: 'Where the run stands',
  type: 'object',
  additionalProperties: false,
  required: ['execution_id', 'state', 'node', 'events', 'last_event', 'certificate_id', 'certificate_url', 'certificate_json_url', 'error'],
  properties: {
    execution_id: { type: 'string' },
    state: {
      type: 'string',
      enum: ['queued', 'running', 'certified', 'aborted', 'abandoned', 'refused'],
      description:
        'queued: waiting for admission; running; certified: the certificate is issued; aborted: ended without one (`error` says why); ' +
        'abandoned: its executor fell silent past its deadline and lease; refused: ended before its first event (its dataset, or its wait for admission)',
    },
    node: { ...nullableString, description: "the node running it, when it is this one's own run; null when read from the stored stream" },
    events: { type: 'integer', description: 'events recorded (acknowledged by the log) so far' },
    last_event: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['seq', 'type', 'at'],
      properties: { seq: { type: 'integer' }, type: { type: 'string' }, at: { type: 'string' } },
    },
    certificate_id: nullableString,
    certificate_url: nullableString,
    certificate_json_url: nullableString,
    error: runError,
  },
} as const;

function executionId(id: string): string {
  if (!RUN_ID_PATTERN.test(id))
    throw new EphemeraError('EXECUTION_ID_INVALID', 'an execution id is a ULID (26 characters)', { fields: { field: 'params.id' } });
  return id;
}

function lastEventId(header: string | string[] | undefined): number {
  if (header === undefined) return -1;
  if (typeof header !== 'string' || !LAST_EVENT_ID.test(header))
    throw new EphemeraError('REQUEST_LAST_EVENT_ID_INVALID', 'Last-Event-ID must be the id (seq) of an event this stream sent', {
      fields: { field: 'headers.last-event-id' },
    });
  return Number(header);
}

/** The summary `event: end` carries. */
const endOf = (answer: ExecutionAnswer) => ({ state: answer.state, certificate_id: answer.certificate_id, error: answer.error });

export function executionRoutes(deps: ExecutionRouteDeps): FastifyPluginAsync {
  const now = deps.now ?? Date.now;
  const open = new Set<EventStream>();

  const notFound = (id: string) => {
    const age = now() - decodeTime(id);
    // Made within the window (and not in the future): perhaps accepted by another node and not recorded yet.
    if (age >= -CLOCK_SKEW_MS && age <= (deps.pendingMs ?? 0))
      return new EphemeraError('EXECUTION_NOT_FOUND', `no execution ${id} here yet: a run another node accepted shows once its first event is stored`, {
        fields: { field: 'params.id' },
        retryAfterSeconds: 1,
      });
    return new EphemeraError('EXECUTION_NOT_FOUND', `no execution ${id}`, { fields: { field: 'params.id' } });
  };

  async function state(id: string): Promise<ExecutionAnswer> {
    const local = deps.runs.get(id);
    if (local) return fromLocalRun(local, deps.nodeId);
    const events = await deps.streams.readStream(id);
    if (events.length === 0) throw notFound(id);
    return fromStream(id, events, now(), deps.leaseMs);
  }

  /** This node's run, still going: what it recorded, then each batch as the log acknowledges it. */
  function followLive(stream: EventStream, id: string): boolean {
    const followed = deps.runs.follow(id, {
      events: (batch) => stream.send(batch),
      end: (run) => {
        stream.end(endOf(fromLocalRun(run, deps.nodeId)));
      },
    });
    if (!followed) return false;
    stream.onClose(followed.stop);
    stream.send(followed.recorded);
    return true;
  }

  /**
   * Any other run: its stored stream, read again every pollMs until it is final. A run of ours that
   * finished is final once the store holds what its registry counted (a Kafka mirror may lag).
   */
  async function poll(stream: EventStream, id: string): Promise<void> {
    while (!stream.isClosed) {
      let events: EventEnvelope[];
      try {
        events = await deps.streams.readStream(id);
      } catch {
        stream.close();
        return;
      }
      stream.send(events);
      const local: LocalRun | null = deps.runs.get(id);
      if (local && isFinal(local.state) && events.length >= local.events) return stream.end(endOf(fromLocalRun(local, deps.nodeId)));
      if (!local && events.length > 0) {
        const answer = fromStream(id, events, now(), deps.leaseMs);
        if (isFinal(answer.state)) return stream.end(endOf(answer));
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deps.limits.pollMs);
        stream.onClose(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  return async (app) => {
    // Open streams would hold the server's close forever: they end first (their clients may resume elsewhere).
    app.addHook('preClose', async () => {
      for (const stream of open) stream.close();
    });

    app.get<{ Params: { id: string } }>(
      '/executions/:id',
      {
        schema: {
          summary: 'Where a run stands',
          description: 'Any run of the log: this node answers its own async runs from memory, any other from the stored stream.',
          tags: ['executions'],
          params: idParams,
          response: { 200: executionSchema, ...errorResponses(400, 404, 500, 503) },
        },
      },
      async (request) => state(executionId(request.params.id)),
    );

    app.get<{ Params: { id: string } }>(
      '/executions/:id/events',
      {
        schema: {
          summary: "A run's events as they happen (Server-Sent Events)",
          description:
            'Each lifecycle event as `id: <seq>`, `event: <type>`, `data: <the event envelope, canonical JSON>`; first what is recorded (after `Last-Event-ID` when given), ' +
            'then each batch once the log acknowledged it; last `event: end` with `data: {state, certificate_id, error}`, and the stream closes. ' +
            'Comments keep it alive. At most EPHEMERA_EVENT_STREAMS_MAX streams at once (503 EXECUTION_STREAMS_BUSY with Retry-After), each open for at most EPHEMERA_EVENT_STREAM_MAX_SECONDS (then resume with Last-Event-ID).',
          tags: ['executions'],
          params: idParams,
          headers: {
            type: 'object',
            properties: { 'last-event-id': { type: 'string', description: 'resume after this event (its seq)' } },
          },
          response: {
            200: {
              description: 'text/event-stream: the events, then `event: end`',
              content: { 'text/event-stream': { schema: { type: 'string', description: 'Server-Sent Events' } } },
            },
            ...errorResponses(400, 404, 500, 503),
          },
        },
      },
      async (request, reply: FastifyReply) => {
        const id = executionId(request.params.id);
        const after = lastEventId(request.headers['last-event-id']);
        const current = await state(id);
        if (open.size >= deps.limits.maxStreams)
          throw new EphemeraError('EXECUTION_STREAMS_BUSY', `this node already serves ${deps.limits.maxStreams} event streams`, {
            retryAfterSeconds: STREAMS_RETRY_AFTER_S,
          });
        reply.hijack();
        const stream = new EventStream(reply.raw, { after, keepAliveMs: deps.limits.keepAliveMs, maxDurationMs: deps.limits.maxDurationMs });
        open.add(stream);
        stream.onClose(() => open.delete(stream));
        if (current.state === 'refused') stream.end(endOf(current));
        else if (!followLive(stream, id)) await poll(stream, id);
      },
    );
  };
}
