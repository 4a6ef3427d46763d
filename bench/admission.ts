/**
 * Admission control: the time to refuse a request beyond capacity (every slot taken, the queue full) over real
 * HTTP on loopback, from the request sent to the 503 CAPACITY_EXHAUSTED read, p50 and p95. The floor is
 * GET /health over the same keep-alive client (a route that does nothing). Goal (issue 18): refusal < 10 ms.
 * Throughput at 1/2/4/8 in flight is another module's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/services.js';
import { againstFloor, percentile, timed, type BenchOptions, type BenchRow } from './types.js';

const body = JSON.stringify({
  dataset: { data: `base64:${Buffer.from('a,b\n1,2\n').toString('base64')}`, format: 'csv' },
  sandbox: { tools: ['python'], scripts: { 'main.py': 'print(1)' }, environment: { timeout_seconds: 5, max_memory_mb: 64 } },
});

async function timings(runs: number, call: () => Promise<Response>, expected: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs + 10; i++) {
    const { ms, value } = await timed(async () => {
      const response = await call();
      await response.arrayBuffer();
      return response.status;
    });
    if (value !== expected) throw new Error(`expected ${expected}, got ${value}`);
    if (i >= 10) times.push(ms); // the first ten warm up
  }
  return times;
}

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const runs = options.quick ? 100 : 1000;
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-admission-'));
  const services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir, EPHEMERA_MAX_RUNS: '1', EPHEMERA_QUEUE_MAX: '1' }));
  const app = await buildApp(services);
  try {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    // Capacity full without running anything: the one slot held, the one queue place taken.
    const held = await services.admission.admit({ memoryBytes: 1 });
    const waiting = services.admission.admit({ memoryBytes: 1 });
    const refuse = () => fetch(`${url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const refused = await timings(runs, refuse, 503);
    const health = await timings(runs, () => fetch(`${url}/health`), 200);
    held.release();
    (await waiting).release();
    const floor = { name: 'GET /health, same client', value: +percentile(health, 50).toFixed(2), unit: 'ms' };
    const note = `${runs} requests, one at a time, keep-alive (fetch); 503 CAPACITY_EXHAUSTED with Retry-After`;
    return [
      againstFloor({ name: 'refusal beyond capacity (queue full), p50', value: +percentile(refused, 50).toFixed(2), unit: 'ms', note }, floor, {
        text: '< 10 ms',
        valueAtMost: 10,
      }),
      againstFloor({ name: 'refusal beyond capacity (queue full), p95', value: +percentile(refused, 95).toFixed(2), unit: 'ms', note }, floor, {
        text: '< 10 ms',
        valueAtMost: 10,
      }),
    ];
  } finally {
    await app.close();
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
