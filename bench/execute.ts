/**
 * Sandbox start and a no-op execution, each against the floors measured in the same run: a bare
 * `bwrap … /bin/true`; bwrap with the sandbox's whole profile (every mount, the dataset and supervisor pipes,
 * the uid drop); the same starting the interpreter the supervisor runs in. The distance between those floors
 * and the rows above them is where a sandbox's start goes (docs/performance.md).
 * Goals (issue 17): start + first call ≤ 2x bare bwrap; no-op end to end ≤ 3x bare bwrap and ≤ 50 ms over the
 * script itself.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { ulid } from 'ulid';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/services.js';
import { BARE_BWRAP_ARGS, createSandbox, type Sandbox } from '../src/sandbox/index.js';
import { buildBwrapArgv } from '../src/sandbox/argv.js';
import { BWRAP_PATH, HOST_UID, LIBRARY_CACHE, SANDBOX_UID } from '../src/sandbox/runtime.js';
import { execute, limitsFor, parseExecuteRequest } from '../src/commands/execute/index.js';
import { againstFloor, median, type BenchOptions, type BenchRow } from './types.js';

const limits = limitsFor({ timeout_seconds: 10, max_memory_mb: 128 });

/** bwrap with the sandbox's own profile (untraced), running `command` instead of the supervisor. */
function profiled(command: string[]): Promise<void> {
  const argv = buildBwrapArgv({
    bwrapPath: BWRAP_PATH,
    libraryCache: LIBRARY_CACHE,
    supervisorFd: 4,
    hostUid: HOST_UID,
    datasetFd: 3,
    datasetFile: 'd.txt',
    workBytes: limits.workBytes,
    outBytes: limits.outBytes,
    tmpBytes: 64 << 20,
    uid: SANDBOX_UID,
    gid: SANDBOX_UID,
    env: { PATH: '/usr/bin:/bin' },
    sqlClientFd: 5,
  });
  const child = spawn(argv[0]!, [...argv.slice(1, argv.indexOf('/usr/bin/python3', argv.indexOf('--'))), ...command], {
    stdio: ['ignore', 'ignore', 'inherit', 'pipe', 'pipe', 'pipe'],
  });
  const [, , , dataset, supervisor, sqlCommand] = child.stdio as unknown as Writable[];
  dataset!.end('x');
  supervisor!.end('pass\n');
  sqlCommand!.end('#!/bin/sh\n');
  return new Promise((resolve, reject) => child.once('error', reject).once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`)))));
}

async function startAndFirstCall(fileTracing: boolean, runs: number): Promise<number> {
  const started: Sandbox[] = [];
  try {
    return await median(runs, async () => {
      const sandbox = await createSandbox({
        executionId: ulid(),
        dataset: new Uint8Array(16),
        datasetFile: 'd.txt',
        scripts: [],
        limits,
        networkAllow: [],
        fileTracing,
      });
      started.push(sandbox);
      await sandbox.run({ kind: 'bash', command: 'true' });
    });
  } finally {
    await Promise.all(started.map((s) => s.destroy()));
  }
}

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const runs = options.quick ? 5 : 15;
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-exec-'));
  const services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir }));
  try {
    const bare = await median(runs, () => execFileSync(BWRAP_PATH, BARE_BWRAP_ARGS));
    const floor = { name: 'bare bwrap … /bin/true', value: +bare.toFixed(1), unit: 'ms' };
    const withProfile = await median(runs, () => profiled(['/bin/true']));
    const withPython = await median(runs, () => profiled(['/usr/bin/python3', '-I', '-S', '-c', 'pass']));
    const traced = await startAndFirstCall(true, runs);
    const untraced = await startAndFirstCall(false, runs);

    // The script itself: main.sh in a sandbox already started, as the execution runs it.
    const sandbox = await createSandbox({
      executionId: ulid(),
      dataset: new Uint8Array(1),
      datasetFile: 'd.txt',
      scripts: [{ name: 'main.sh', content: 'true\n' }],
      limits,
      networkAllow: [],
    });
    const script = await median(runs, () => sandbox.run({ kind: 'script', name: 'main.sh' })).finally(() => sandbox.destroy());
    const request = parseExecuteRequest({
      dataset: { data: 'base64:eA==', format: 'txt' },
      sandbox: { tools: ['bash'], scripts: { 'main.sh': 'true\n' }, environment: { timeout_seconds: 10, max_memory_mb: 128 } },
    });
    const noop = await median(options.quick ? 3 : 9, () => execute(structuredClone(request), services));
    return [
      { ...floor, note: 'the floor of every row below: fresh namespaces, /usr bound, nothing else' },
      againstFloor(
        { name: "bwrap with the sandbox's profile, /bin/true", value: +withProfile.toFixed(1), unit: 'ms', note: 'every mount, both pipes, untraced' },
        floor,
      ),
      againstFloor(
        { name: 'the same starting python3 -I -S -c pass', value: +withPython.toFixed(1), unit: 'ms', note: 'the interpreter the supervisor runs in' },
        floor,
      ),
      againstFloor(
        {
          name: 'sandbox start + first call (file tracing on, the default)',
          value: +traced.toFixed(1),
          unit: 'ms',
          note: 'supervisor, cgroups, dataset pipe, tracer, `true`',
        },
        floor,
        { text: '≤ 2x bare bwrap', ratioAtMost: 2 },
      ),
      againstFloor({ name: 'sandbox start + first call, file tracing off', value: +untraced.toFixed(1), unit: 'ms' }, floor, {
        text: '≤ 2x bare bwrap',
        ratioAtMost: 2,
      }),
      againstFloor(
        {
          name: 'no-op execution end to end (request → sealed certificate)',
          value: +noop.toFixed(1),
          unit: 'ms',
          note: `the script itself ${script.toFixed(1)} ms; SQLite log, simulated TEE`,
        },
        floor,
        { text: '≤ 3x bare bwrap and ≤ 50 ms over the script', ratioAtMost: 3, valueAtMost: script + 50 },
      ),
    ];
  } finally {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
