/**
 * Admission control through real HTTP on loopback (the app listening, fetch as
 * the client), the real bubblewrap sandbox and the SQLite log: one slot and a
 * queue of one. A run that fits runs; one that waits leaves the queue when
 * its caller hangs up; a full queue, a queue timeout and a run that could never
 * fit are refused at once with their codes (Retry-After on the overload ones);
 * a bad request is refused before it can queue; /ready and /metrics say so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { createServices, type Services } from '../../services.js';
import { verifyCertificateText } from '../../verify/index.js';
import { Admission, admissionLimitsOf } from './admission.js';

const b64 = (text: string) => `base64:${Buffer.from(text).toString('base64')}`;
const body = (script: string, environment: Record<string, unknown> = { timeout_seconds: 30, max_memory_mb: 128 }) => ({
  dataset: { data: b64('a,b\n1,2\n'), format: 'csv' },
  sandbox: { tools: ['python'], scripts: { 'main.py': script }, environment },
});
const sleeping = (seconds: number) => body(`import time\ntime.sleep(${seconds})\nprint("slept")\n`);

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('admission control over HTTP', () => {
  let dir: string;
  let services: Services;
  let app: FastifyInstance;
  let url: string;
  const post = (payload: unknown, signal?: AbortSignal, base = url) =>
    fetch(`${base}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload), signal });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ephemera-admission-'));
    services = await createServices(
      loadConfig({
        EPHEMERA_DATA_DIR: dir,
        EPHEMERA_MAX_RUNS: '1',
        EPHEMERA_QUEUE_MAX: '1',
        EPHEMERA_QUEUE_TIMEOUT_MS: '60000',
        EPHEMERA_MEMORY_BUDGET_MB: '2048',
      }),
    );
    app = await buildApp(services);
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs what fits, queues one, refuses the rest at once, and lets a caller who hangs up leave the queue', async () => {
    const running = post(sleeping(3));
    await until('the first run to hold the slot', () => services.admission.snapshot().running === 1);

    const hangUp = new AbortController();
    const waiting = post(sleeping(0), hangUp.signal).catch((error: Error) => error);
    await until('the second request to queue', () => services.admission.snapshot().queued === 1);
    const ready = await (await fetch(`${url}/ready`)).json();
    expect(ready.capacity).toMatchObject({ runs_in_flight: 1, runs_max: 1, queued: 1, queue_max: 1, draining: false });

    // Queue full: refused at once, with when to come back.
    const full = await post(sleeping(0));
    expect(full.status).toBe(503);
    expect(await full.json()).toEqual({ error: { code: 'CAPACITY_EXHAUSTED', message: expect.stringContaining('Retry-After') } });
    expect(full.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(Number(full.headers.get('retry-after'))).toBeLessThanOrEqual(60);

    // A request that breaks the rules is refused for what it is, full or not.
    const bad = await post({ ...sleeping(0), sandbox: { ...sleeping(0).sandbox, entrypoint: 'missing.py' } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('REQUEST_INVALID');

    // Larger than the whole budget: never fits here, its own code, no Retry-After.
    const huge = await post(body('print(1)', { timeout_seconds: 5, max_memory_mb: 4096 }));
    expect(huge.status).toBe(422);
    expect((await huge.json()).error).toMatchObject({ code: 'CAPACITY_REQUEST_TOO_LARGE', field: 'body.sandbox.environment.max_memory_mb' });
    expect(huge.headers.get('retry-after')).toBeNull();

    // The queued caller hangs up: it leaves the queue, and nothing runs for it.
    hangUp.abort();
    expect(await waiting).toMatchObject({ name: 'AbortError' });
    await until('the queue to empty', () => services.admission.snapshot().queued === 0);
    expect(services.admission.snapshot().running).toBe(1);

    const answer = await running;
    expect(answer.status).toBe(200);
    const summary = await answer.json();
    expect(summary).toMatchObject({ status: 'completed', result: { output: 'slept\n' } });
    const certificate = await (await fetch(`${url}${summary.certificate_json_url}`)).text();
    expect(await verifyCertificateText(certificate, services.verifyOptions)).toMatchObject({ valid: true, trusted: true });
    await until('the slot to be free', () => services.admission.snapshot().running === 0);

    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).toMatch(/^ephemera_admitted_total 1$/m);
    expect(text).toMatch(/^ephemera_refused_total\{code="CAPACITY_EXHAUSTED"\} 1$/m);
    expect(text).toMatch(/^ephemera_refused_total\{code="CAPACITY_REQUEST_TOO_LARGE"\} 1$/m);
    expect(text).toMatch(/^ephemera_refused_total\{code="SERVER_DRAINING"\} 0$/m);
    expect(text).toMatch(/^ephemera_run_duration_seconds_count\{status="completed"\} 1$/m);
    expect(text).toMatch(/^ephemera_queue_length 0$/m);
    expect(text).toMatch(/^ephemera_runs_in_flight 0$/m);
    expect(text).toMatch(/^ephemera_runs_max 1$/m);
    expect(text).toMatch(new RegExp(`^ephemera_memory_budget_bytes ${2048 * 2 ** 20}$`, 'm'));
    // Every append of the run (requested, loaded+created, tool, completion, deletion, seal) was timed.
    const appends = Number(/^ephemera_event_log_append_seconds_count\{log="sqlite"\} (\d+)$/m.exec(text)?.[1]);
    expect(appends).toBeGreaterThanOrEqual(5);
  });

  it('refuses a request that waited its whole queue time with CAPACITY_QUEUE_TIMEOUT and Retry-After', async () => {
    // A second app on the same services with its own admission: one slot, a queue time of 300 ms.
    const admission = new Admission(admissionLimitsOf({ ...services.config, maxRuns: 1, queueMax: 1, queueTimeoutMs: 300 }));
    const impatient = await buildApp({ ...services, admission });
    const base = await impatient.listen({ port: 0, host: '127.0.0.1' });
    try {
      const running = post(sleeping(2), undefined, base);
      await until('the run to hold the slot', () => admission.snapshot().running === 1);
      const late = await post(sleeping(0), undefined, base);
      expect(late.status).toBe(503);
      expect((await late.json()).error.code).toBe('CAPACITY_QUEUE_TIMEOUT');
      expect(late.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(admission.snapshot().queued).toBe(0);
      expect((await running).status).toBe(200);
    } finally {
      await impatient.close();
    }
  });
});
