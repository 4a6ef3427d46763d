/**
 * Kafka append throughput (acknowledged steps and events per second, acks=all,
 * idempotent) and end-to-end overhead against SQLite on the same workload.
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
import { timed, type BenchOptions, type BenchRow } from './types.js';

function stream(files: number): EventEnvelope[] {
  const head = sampleStream(ulid()).slice(0, 4);
  const chain = EventChain.resume(head[3]!);
  return [...head, ...Array.from({ length: files }, (_, i) => chain.next('file.accessed', { call_id: 'c1', op: 'read', path: `/work/${i}`, count: 1 }))];
}

async function throughput(log: EventLog, steps: number, perStep: number): Promise<{ steps: number; events: number }> {
  const events = stream(steps * perStep);
  await log.append(events.slice(0, 4));
  const rest = events.slice(4);
  const { ms } = await timed(async () => {
    for (let i = 0; i < rest.length; i += perStep) await log.append(rest.slice(i, i + perStep));
  });
  return { steps: Math.round(steps / (ms / 1000)), events: Math.round(rest.length / (ms / 1000)) };
}

export async function bench(_options: BenchOptions): Promise<BenchRow[]> {
  const started = !process.env.KAFKA_BROKERS;
  const brokers = process.env.KAFKA_BROKERS ?? execFileSync(join(import.meta.dirname, '../scripts/kafka/start.sh'), { encoding: 'utf8' }).trim();
  const kafka = await KafkaEventLog.open({ brokers: brokers.split(','), topic: `ephemera.bench.${ulid().toLowerCase()}` });
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-kafka-'));
  const sqlite = new SqliteEventLog(join(dir, 'e.sqlite'));
  try {
    const k1 = await throughput(kafka, 300, 1);
    const k10 = await throughput(kafka, 300, 10);
    const s10 = await throughput(sqlite, 300, 10);
    return [
      { name: 'kafka append, 1 event per acknowledged step', value: k1.steps, unit: 'steps/s', note: `${k1.events} events/s` },
      { name: 'kafka append, 10 events per acknowledged step', value: k10.steps, unit: 'steps/s', note: `${k10.events} events/s` },
      {
        name: 'sqlite append, same workload (10 per step)',
        value: s10.steps,
        unit: 'steps/s',
        note: `kafka/sqlite time ratio ${(s10.steps / k10.steps).toFixed(1)}x`,
      },
    ];
  } finally {
    await kafka.close();
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
    if (started) execFileSync(join(import.meta.dirname, '../scripts/kafka/stop.sh'), ['--wipe']);
  }
}
