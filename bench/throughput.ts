/**
 * Throughput of whole executions (issue 18): no-op runs per second and p50/p95 latency at 1, 2, 4 and 8 requests
 * in flight, over HTTP to real `ephemera serve` processes: one node on the embedded log, one node on Kafka, and
 * two nodes on one Kafka topic with the requests spread over both. Goals: throughput at 4 in flight ≥ 1.8x
 * throughput at 1 (two cores); p95 at capacity ≤ 3x the unloaded p50, capacity being the runs the nodes admit at
 * once (the sum of their GET /ready `capacity.runs_max`; beyond it requests wait in the admission queue).
 * Needs a broker: KAFKA_BROKERS, else scripts/kafka/start.sh is run (and stopped after).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { startNode, type NodeProcess } from '../test/nodes/node-process.js';
import { percentile, timed, withGoal, type BenchOptions, type BenchRow } from './types.js';

const LEVELS = [1, 2, 4, 8] as const;
const SCALING_GOAL = { text: '≥ 1.8x throughput at 1', valueAtLeast: 1.8 };
const TAIL_GOAL = { text: '≤ 3x unloaded p50', valueAtMost: 3 };

const NOOP = JSON.stringify({
  dataset: { data: `base64:${Buffer.from('x').toString('base64')}`, format: 'txt' },
  sandbox: { tools: ['bash'], scripts: { 'main.sh': 'true\n' }, environment: { timeout_seconds: 10, max_memory_mb: 64 } },
});

async function executeOnce(url: string): Promise<void> {
  const response = await fetch(`${url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: NOOP });
  const body = (await response.json()) as { certificate_id?: string; error?: { code: string } };
  if (response.status !== 200 || !body.certificate_id) throw new Error(`POST /execute answered ${response.status} ${body.error?.code}`);
}

interface Level {
  inFlight: number;
  perSecond: number;
  p50: number;
  p95: number;
  /** CPU time each node process spent per run, its reaped sandboxes included (ms). */
  cpuPerRun: number[];
}

/** CPU time of a process and of its children it has reaped, ms (/proc/<pid>/stat utime, stime, cutime, cstime). */
function cpuMs(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Fields 14–17 of stat (1-based), i.e. 11–14 after the command; in clock ticks of 10 ms (USER_HZ 100 on Linux).
  return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) * 10;
}

/** `count` runs with `inFlight` at a time, round-robin over the nodes. */
async function measure(nodes: NodeProcess[], inFlight: number, count: number): Promise<Level> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const url = nodes[next++ % nodes.length]!.url;
      latencies.push((await timed(() => executeOnce(url))).ms);
    }
  };
  const cpuBefore = nodes.map((node) => cpuMs(node.pid));
  const { ms } = await timed(() => Promise.all(Array.from({ length: inFlight }, worker)));
  const round = (v: number) => +v.toFixed(1);
  return {
    inFlight,
    perSecond: +(count / (ms / 1000)).toFixed(2),
    p50: round(percentile(latencies, 50)),
    p95: round(percentile(latencies, 95)),
    cpuPerRun: nodes.map((node, i) => Math.round((cpuMs(node.pid) - cpuBefore[i]!) / count)),
  };
}

/** How many runs the nodes admit at once (their /ready capacity). */
async function admittedAtOnce(nodes: NodeProcess[]): Promise<number> {
  let total = 0;
  for (const node of nodes) {
    const ready = (await (await fetch(`${node.url}/ready`)).json()) as { capacity: { runs_max: number } };
    total += ready.capacity.runs_max;
  }
  return total;
}

async function setup(name: string, nodes: NodeProcess[], options: BenchOptions): Promise<BenchRow[]> {
  // Warm-up: the first runs of a process pay for its JIT, the sandbox's library cache and (Kafka) the producer's connection.
  await measure(nodes, 2, 4 * nodes.length);
  const levels: Level[] = [];
  for (const inFlight of LEVELS) levels.push(await measure(nodes, inFlight, Math.max(inFlight * (options.quick ? 3 : 8), options.quick ? 8 : 24)));
  const unloaded = levels[0]!;
  const admitted = await admittedAtOnce(nodes);
  // The level at the nodes' capacity: the highest measured that does not exceed it.
  const capacity = [...levels].reverse().find((l) => l.inFlight <= admitted) ?? unloaded;
  const scaling = +(levels.find((l) => l.inFlight === 4)!.perSecond / unloaded.perSecond).toFixed(2);
  const tail = +(capacity.p95 / unloaded.p50).toFixed(2);
  return [
    ...levels.map((l) => ({
      name: `${name}: no-op runs, ${l.inFlight} in flight`,
      value: l.perSecond,
      unit: 'runs/s',
      note: `latency p50 ${l.p50} ms, p95 ${l.p95} ms; CPU per run ${l.cpuPerRun.map((cpu, i) => `${nodes[i]!.name} ${cpu} ms`).join(', ')} (sandboxes included)`,
    })),
    { name: `${name}: throughput at 4 in flight / at 1`, value: scaling, unit: 'x', ...withGoal(scaling, undefined, SCALING_GOAL) },
    {
      name: `${name}: p95 at capacity / unloaded p50`,
      value: tail,
      unit: 'x',
      note: `capacity ${admitted} (EPHEMERA_MAX_RUNS over the nodes), measured at ${capacity.inFlight} in flight (${capacity.perSecond} runs/s, p95 ${capacity.p95} ms); unloaded p50 ${unloaded.p50} ms`,
      ...withGoal(tail, undefined, TAIL_GOAL),
    },
  ];
}

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const started = !process.env.KAFKA_BROKERS;
  const brokers = process.env.KAFKA_BROKERS ?? execFileSync(join(import.meta.dirname, '../scripts/kafka/start.sh'), { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-throughput-'));
  const running: NodeProcess[] = [];
  const node = async (name: string, env: Record<string, string>) => {
    const started = await startNode({ name, dataDir: join(dir, name), env: { EPHEMERA_NODE_ID: name, ...env } });
    running.push(started);
    return started;
  };
  const stopAll = async () => {
    await Promise.all(running.map((n) => n.stop()));
    running.length = 0;
  };
  const kafka = (topic: string) => ({ EPHEMERA_LOG: 'kafka', KAFKA_BROKERS: brokers, EPHEMERA_KAFKA_TOPIC: topic, EPHEMERA_KAFKA_PARTITIONS: '6' });
  try {
    const rows: BenchRow[] = [];
    // One setup at a time: two cores, and each setup's nodes are stopped before the next starts.
    rows.push(...(await setup('embedded log, 1 node', [await node('sqlite', { EPHEMERA_LOG: 'sqlite' })], options)));
    await stopAll();
    rows.push(...(await setup('kafka, 1 node', [await node('kafka-1', kafka(`ephemera.bench.throughput.${ulid().toLowerCase()}`))], options)));
    await stopAll();
    const shared = `ephemera.bench.throughput.${ulid().toLowerCase()}`;
    rows.push(...(await setup('kafka, 2 nodes', [await node('kafka-a', kafka(shared)), await node('kafka-b', kafka(shared))], options)));
    return rows;
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
    if (started) execFileSync(join(import.meta.dirname, '../scripts/kafka/stop.sh'), ['--wipe']);
  }
}
