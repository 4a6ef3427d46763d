/**
 * Kafka log: acknowledged step latency on one execution, and events/s
 * acknowledged across concurrent executions (acks=all, idempotent), each
 * against one broker round trip measured in the same run: a bare kafkajs
 * produce of one tiny message with the same producer settings. The SQLite
 * row is the same workload on the embedded log.
 * Needs a broker: KAFKA_BROKERS, else scripts/kafka/start.sh is run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { EventChain, type EventEnvelope, type EventLog } from '../src/events/index.js';
import { KafkaEventLog, SqliteEventLog } from '../src/events/node.js';
import { sampleStream } from '../src/events/eventlog.contract.js';
import { againstFloor, percentile, timed, type BenchOptions, type BenchRow } from './types.js';

const STEP_P50_GOAL = { text: 'p50 ≤ 3 ms per step', valueAtMost: 3 };
const CONCURRENT_GOAL = { text: '≥ 10k events/s acknowledged', valueAtLeast: 10_000 };

/** One execution's events: its 4 opening events, then `files` file events to append in steps. */
function stream(files: number): EventEnvelope[] {
  const head = sampleStream(ulid()).slice(0, 4);
  const chain = EventChain.resume(head[3]!);
  return [...head, ...Array.from({ length: files }, (_, i) => chain.next('file.accessed', { call_id: 'c1', op: 'read', path: `/work/${i}`, count: 1 }))];
}

function chunks<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/** Milliseconds of each of `count` sequential calls, after `warmup` untimed ones. */
async function latencies(count: number, warmup: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await call(i);
  const times: number[] = [];
  for (let i = warmup; i < warmup + count; i++) times.push((await timed(() => call(i))).ms);
  return times;
}

/** Per-step latencies of one execution appending `steps` steps of `perStep` events. */
async function oneExecution(log: EventLog, steps: number, perStep: number): Promise<number[]> {
  const events = stream((steps + 10) * perStep);
  await log.append(events.slice(0, 4));
  const batches = chunks(events.slice(4), perStep);
  return latencies(steps, 10, (i) => log.append(batches[i]!));
}

/** Events/s acknowledged while `executions` executions each append `steps` steps of `perStep` events, concurrently; and each step's latency. */
async function concurrent(
  append: (batch: EventEnvelope[]) => Promise<unknown>,
  executions: number,
  steps: number,
  perStep: number,
): Promise<{ rate: number; stepMs: number[] }> {
  const streams = Array.from({ length: executions }, () => stream(steps * perStep));
  await Promise.all(streams.map((s) => append(s.slice(0, 4))));
  const stepMs: number[] = [];
  const { ms } = await timed(() =>
    Promise.all(
      streams.map(async (s) => {
        for (const batch of chunks(s.slice(4), perStep)) stepMs.push((await timed(() => append(batch))).ms);
      }),
    ),
  );
  return { rate: Math.round((executions * steps * perStep) / (ms / 1000)), stepMs };
}

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const started = !process.env.KAFKA_BROKERS;
  const brokers = (process.env.KAFKA_BROKERS ?? execFileSync(join(import.meta.dirname, '../scripts/kafka/start.sh'), { encoding: 'utf8' }).trim()).split(',');
  const topic = `ephemera.bench.${ulid().toLowerCase()}`;
  const kafka = await KafkaEventLog.open({ brokers, topic });
  // The floor: the same client and settings with nothing of ours on top.
  const bare = kafka.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await bare.connect();
  const bareSend = (messages: { key: string; value: string }[]) => bare.send({ topic, acks: -1, messages });
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-kafka-'));
  const sqlite = new SqliteEventLog(join(dir, 'e.sqlite'));
  const q = options.quick;
  try {
    const trips = await latencies(q ? 200 : 1000, 20, () => bareSend([{ key: 'floor', value: 'x' }]));
    const roundTrip = percentile(trips, 50);
    const one = await oneExecution(kafka, q ? 200 : 1000, 1);
    const ten = await oneExecution(kafka, q ? 100 : 500, 10);
    const c16 = await concurrent((b) => kafka.append(b), 16, q ? 10 : 50, 10);
    const c64 = await concurrent((b) => kafka.append(b), 64, q ? 5 : 30, 10);
    // Before this module batched concurrent steps: one kafkajs send per step, serialized by kafkajs' broker lock.
    const bare64 = await concurrent((b) => bareSend(b.map((e) => ({ key: e.execution_id, value: JSON.stringify(e) }))), 64, q ? 5 : 30, 10);
    const s10 = await oneExecution(sqlite, q ? 100 : 500, 10);

    const trip = { name: 'one broker round trip (bare kafkajs produce, 1 tiny message, p50)', value: +roundTrip.toFixed(2), unit: 'ms' };
    const serial = (perStep: number) => ({
      name: `one round trip per ${perStep}-event step, no batching`,
      value: Math.round((perStep * 1000) / roundTrip),
      unit: 'events/s',
    });
    const ms = (values: number[], p: number) => +percentile(values, p).toFixed(2);
    const underLoad = (c: { stepMs: number[] }) => `step p50 ${ms(c.stepMs, 50)} ms, p99 ${ms(c.stepMs, 99)} ms under this load`;
    return [
      againstFloor({ name: 'kafka step, one execution, 1 event: p50', value: ms(one, 50), unit: 'ms' }, trip, STEP_P50_GOAL),
      againstFloor({ name: 'kafka step, one execution, 1 event: p99', value: ms(one, 99), unit: 'ms', note: `bare round trip p99 ${ms(trips, 99)} ms` }, trip),
      againstFloor({ name: 'kafka step, one execution, 10 events: p50', value: ms(ten, 50), unit: 'ms', note: `p99 ${ms(ten, 99)} ms` }, trip, STEP_P50_GOAL),
      againstFloor(
        { name: 'kafka, 16 executions concurrently, 10-event steps', value: c16.rate, unit: 'events/s', note: underLoad(c16) },
        serial(10),
        CONCURRENT_GOAL,
      ),
      againstFloor(
        {
          name: 'kafka, 64 executions concurrently, 10-event steps',
          value: c64.rate,
          unit: 'events/s',
          note: `${underLoad(c64)}; kafkajs alone, one send per step: ${bare64.rate} events/s`,
        },
        serial(10),
        CONCURRENT_GOAL,
      ),
      {
        name: 'sqlite step, one execution, 10 events: p50',
        value: ms(s10, 50),
        unit: 'ms',
        note: `kafka/sqlite p50 ratio ${(percentile(ten, 50) / percentile(s10, 50)).toFixed(1)}x`,
      },
    ];
  } finally {
    await bare.disconnect();
    await kafka.close();
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
    if (started) execFileSync(join(import.meta.dirname, '../scripts/kafka/stop.sh'), ['--wipe']);
  }
}
