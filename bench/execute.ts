/**
 * Sandbox start latency against a bare `bwrap … true`, and the end-to-end
 * overhead of a no-op execution (request → sealed certificate) against the
 * same bare sandbox.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/services.js';
import { BARE_BWRAP_ARGS, createSandbox, type Sandbox } from '../src/sandbox/index.js';
import { execute, limitsFor, parseExecuteRequest } from '../src/commands/execute/index.js';
import { median, type BenchOptions, type BenchRow } from './types.js';

export async function bench(_options: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-exec-'));
  const services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir }));
  try {
    const bare = await median(10, () => execFileSync('/usr/bin/bwrap', BARE_BWRAP_ARGS));
    const limits = limitsFor({ timeout_seconds: 10, max_memory_mb: 128 });
    const started: Sandbox[] = [];
    const start = await median(10, async () => {
      const sandbox = await createSandbox({ executionId: ulid(), dataset: new Uint8Array(16), datasetFile: 'd.txt', scripts: [], limits, networkAllow: [] });
      started.push(sandbox);
      await sandbox.run({ kind: 'bash', command: 'true' });
    });
    await Promise.all(started.map((s) => s.destroy()));
    const request = parseExecuteRequest({
      dataset: { data: 'base64:eA==', format: 'txt' },
      sandbox: { tools: ['bash'], scripts: { 'main.sh': 'true\n' }, environment: { timeout_seconds: 10, max_memory_mb: 128 } },
    });
    const noop = await median(5, () => execute(structuredClone(request), services));
    return [
      { name: 'bare bwrap … /bin/true', value: +bare.toFixed(1), unit: 'ms' },
      {
        name: 'sandbox start + first call (supervisor, cgroups, dataset pipe)',
        value: +start.toFixed(1),
        unit: 'ms',
        note: `${(start / bare).toFixed(1)}x bare bwrap`,
      },
      {
        name: 'no-op execution end to end (request → sealed certificate)',
        value: +noop.toFixed(1),
        unit: 'ms',
        note: `${(noop / bare).toFixed(1)}x bare bwrap; includes destroy checks`,
      },
    ];
  } finally {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
