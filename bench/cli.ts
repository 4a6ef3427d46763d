/**
 * The CLI as a whole process (issue 17 item 4): `ephemera verify` of a small
 * certificate, `ephemera --help`, and `ephemera serve` from process start to
 * GET /ready answering 200. Each against the floor `node -e 1`, measured in the
 * same run: wall time, and peak RSS (VmHWM, read by the process itself at exit
 * through a preloaded module, so no /usr/bin/time is needed). The compiled path
 * is what users run; the sources through tsx (EPHEMERA_FROM_SOURCE=1) are shown
 * beside it for comparison. Goals: < 200 ms and < 100 MB.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseTree } from '../bin/source-digest.js';
import { againstFloor, medianOf, type BenchOptions, type BenchRow } from './types.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/ephemera.js');
/** The conformance suite's valid certificate (17 KB, simulated attestation) and the key it is signed with. */
const CERTIFICATE = join(ROOT, 'test-vectors/certificates/cases/valid.json');
const VECTOR_KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const GOAL_MS = { text: '< 200 ms', valueAtMost: 200 };
const GOAL_MB = { text: '< 100 MB', valueAtMost: 100 };

interface Run {
  ms: number;
  mb: number;
}

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'ephemera-bench-cli-'));
  try {
    // Written by the measured process as it exits: its own peak RSS, whatever it ran.
    const peak = join(scratch, 'peak.mjs');
    writeFileSync(
      peak,
      `import { readFileSync, writeFileSync } from 'node:fs';
process.on('exit', () => writeFileSync(process.env.PEAK_FILE, /VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]));\n`,
    );
    const runs = options.quick ? 5 : 15;
    const env = { XDG_CONFIG_HOME: join(scratch, 'config'), EPHEMERA_TRUSTED_KEYS: '' };
    const measure = (args: string[], extraEnv: Record<string, string> = {}) => repeat(runs, () => once(peak, scratch, args, { ...env, ...extraEnv }));
    const floor = await measure(['-e', '1']);
    // What users run: the compiled build, made here when src/ changed since the last one (as the test setup does).
    if (chooseTree(ROOT, {}).tree !== 'dist') execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    const compiled = chooseTree(ROOT, {}).tree === 'dist';
    const verifyArgs = [BIN, 'verify', CERTIFICATE, '--trust-key', VECTOR_KEY];
    const verify = await measure(verifyArgs);
    const help = await measure([BIN, '--help']);
    const verifySource = await repeat(Math.min(runs, 5), () => once(peak, scratch, verifyArgs, { ...env, EPHEMERA_FROM_SOURCE: '1' }));
    const serveRuns = options.quick ? 2 : 5;
    const serve = await repeat(serveRuns, () => serveToReady(peak, scratch, env));
    const serveSource = await repeat(serveRuns, () => serveToReady(peak, scratch, { ...env, EPHEMERA_FROM_SOURCE: '1' }));

    const path = compiled ? 'compiled dist/' : 'SOURCES through tsx: dist/ missing or stale, run npm run build';
    const floorMs = { name: 'node -e 1', value: floor.ms, unit: 'ms' };
    const floorMb = { name: 'node -e 1', value: floor.mb, unit: 'MB' };
    return [
      againstFloor({ name: 'ephemera verify <17 KB certificate>: wall', value: verify.ms, unit: 'ms', note: path }, floorMs, GOAL_MS),
      againstFloor({ name: 'ephemera verify <17 KB certificate>: peak RSS', value: verify.mb, unit: 'MB', note: path }, floorMb, GOAL_MB),
      againstFloor({ name: 'ephemera --help: wall', value: help.ms, unit: 'ms', note: path }, floorMs, GOAL_MS),
      againstFloor({ name: 'ephemera --help: peak RSS', value: help.mb, unit: 'MB', note: path }, floorMb, GOAL_MB),
      againstFloor({ name: 'ephemera verify, from the sources (tsx): wall', value: verifySource.ms, unit: 'ms', note: 'EPHEMERA_FROM_SOURCE=1' }, floorMs),
      againstFloor({ name: 'ephemera serve: start to /ready 200', value: serve.ms, unit: 'ms', note: `${path}; SQLite log, embedded ClickHouse` }, floorMs),
      againstFloor({ name: 'ephemera serve: peak RSS at ready', value: serve.mb, unit: 'MB', note: path }, floorMb),
      againstFloor(
        { name: 'ephemera serve, from the sources (tsx): start to /ready 200', value: serveSource.ms, unit: 'ms', note: 'EPHEMERA_FROM_SOURCE=1' },
        floorMs,
      ),
    ];
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Medians of `n` runs after one warm-up (file cache). */
async function repeat(n: number, body: () => Promise<Run>): Promise<Run> {
  await body();
  const runs: Run[] = [];
  for (let i = 0; i < n; i++) runs.push(await body());
  return { ms: round(medianOf(runs.map((r) => r.ms))), mb: round(medianOf(runs.map((r) => r.mb))) };
}

/** One process to its exit: wall time and peak RSS. */
function once(peak: string, scratch: string, args: string[], env: Record<string, string>): Promise<Run> {
  const peakFile = join(scratch, 'peak');
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--import', peak, ...args], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, ...env, PEAK_FILE: peakFile } });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      resolve({ ms, mb: Number(readFileSync(peakFile, 'utf8')) / 1024 });
    });
  });
}

/** `ephemera serve` on a fresh data directory, from spawn to the first GET /ready that answers 200; then stopped. */
async function serveToReady(peak: string, scratch: string, env: Record<string, string>): Promise<Run> {
  const dataDir = mkdtempSync(join(scratch, 'data-'));
  const peakFile = join(scratch, 'peak');
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--import', peak, BIN, 'serve', '--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env, PEAK_FILE: peakFile },
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    let log = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (chunk) => {
        log += chunk;
        const listening = /ephemera listening on (\S+)/.exec(log);
        if (listening) resolve(listening[1]!);
      });
      child.on('exit', () => reject(new Error(`serve exited before listening: ${log}`)));
    });
    for (;;) {
      const response = await fetch(`${url}/ready`).catch(() => null);
      if (response?.status === 200) break;
      if (Number(process.hrtime.bigint() - start) / 1e9 > 60) throw new Error(`serve not ready within 60 s: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    child.kill('SIGTERM');
    await exited;
    return { ms, mb: Number(readFileSync(peakFile, 'utf8')) / 1024 };
  } finally {
    child.kill('SIGKILL');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 10) / 10;
