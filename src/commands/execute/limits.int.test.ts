/**
 * The limits mechanism chosen through configuration reaches the certificate: with EPHEMERA_LIMITS=rlimit the
 * service runs without cgroups, a fork bomb is stopped, and sandbox.created names RLIMIT_* for each limit;
 * the verifier accepts the certificate. With EPHEMERA_LIMITS=cgroup2, which this host cannot meet, the run is
 * refused with its own code, certified as failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { createServices, type Services } from '../../services.js';
import { verifyCertificate } from '../../verify/index.js';
import { execute } from './handler.js';
import { parseExecuteRequest } from './request.js';

const BOMB =
  'import os, time\nmade = 0\nfor _ in range(1000):\n    try:\n        if os.fork() == 0:\n            time.sleep(30); os._exit(0)\n        made += 1\n    except OSError:\n        break\nprint(made)\n';
const request = parseExecuteRequest({
  dataset: { data: `base64:${Buffer.from('x\n').toString('base64')}`, format: 'txt' },
  sandbox: { tools: ['python'], scripts: { 'main.py': BOMB }, environment: { timeout_seconds: 20, max_memory_mb: 128 } },
});

const opened: { dir: string; services: Services }[] = [];
async function servicesWith(limits: string): Promise<Services> {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-limits-'));
  const services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir, EPHEMERA_LIMITS: limits }));
  opened.push({ dir, services });
  return services;
}
afterAll(async () => {
  for (const { dir, services } of opened) {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('EPHEMERA_LIMITS', () => {
  it('rlimit: the run is held by rlimits, a fork bomb ends as killed by pids, and the certificate says what enforced each limit', async () => {
    const services = await servicesWith('rlimit');
    const { certificate } = await execute(request, services);
    const created = certificate.events.find((e) => e.type === 'sandbox.created')!.data as { limits: Record<string, { mechanism: string }> };
    const completed = certificate.events.find((e) => e.type === 'execution.failed' || e.type === 'execution.completed')!;
    expect({ status: certificate.status, killed_by: (completed.data as { killed_by: unknown }).killed_by }).toEqual({ status: 'failed', killed_by: 'pids' });
    expect(created.limits.memory_bytes!.mechanism).toMatch(/^RLIMIT_AS per process/);
    expect(created.limits.processes!.mechanism).toMatch(/^RLIMIT_NPROC/);
    expect(created.limits.cpu_seconds!.mechanism).toBe('RLIMIT_CPU per call (per process)');
    expect((await verifyCertificate(certificate, services.verifyOptions)).valid).toBe(true);
  });

  it('cgroup2 on a host without its controllers: the run is refused with SANDBOX_LIMITS_MODE_UNAVAILABLE, nothing ran', async () => {
    const services = await servicesWith('cgroup2');
    const { certificate } = await execute(request, services);
    expect(certificate).toMatchObject({ status: 'failed', result: { error_code: 'SANDBOX_LIMITS_MODE_UNAVAILABLE' } });
    expect(certificate.events.map((e) => e.type)).not.toContain('sandbox.created');
  });

  it('anything else is a configuration error', () => {
    expect(() => loadConfig({ EPHEMERA_LIMITS: 'none' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('EPHEMERA_LIMITS') }),
    );
  });
});
