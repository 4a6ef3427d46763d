/**
 * Verification at scale (issue: a strict, linear-time verifier): certificates
 * of 1e4, 1e5 and 1e6 events, in an ordinary shape and in shapes chosen to
 * hurt a verifier (many distinct call ids, a distinct model and host per call,
 * strings at the format's bound), written to disk and each verified from its
 * file by a fresh Node process running the bundled verifier (the CLI's path:
 * streamed, node:crypto hashing). Figures: wall time and peak RSS of that process.
 * Targets: 1e4 < 100 ms; 1e6 < 10 s and < 500 MB; 1e5 → 1e6 at most 12×.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { build } from 'esbuild';
import { ed25519 } from '@noble/curves/ed25519';
import {
  EVENT_HASH_TAG,
  bytesToHex,
  canonicalize,
  genesisHash,
  hashToBytes,
  hashUtf8With,
  hexToBytes,
  type EventData,
  type EventEnvelope,
  type EventType,
  type Hash,
} from '../src/events/index.js';
import { nodeSha256 } from '../src/events/node.js';
import { SAMPLE_DESTROY_CHECKS, sampleSandboxCreated, sampleSummary, sampleTotals } from '../src/events/testing/sample-data.js';
import { CompactRange, leafHash, reportData } from '../src/attest/index.js';
import { CertificateFold } from '../src/verify/index.js';
import { VECTOR_KEY_SEED_HEX, VECTOR_PUBLIC_KEY } from '../src/verify/testing/forge.js';
import { againstFloor, withGoal, type BenchOptions, type BenchRow } from './types.js';

type Shape = 'ordinary' | 'distinct call ids' | 'distinct models and hosts' | 'strings at the bound';
/** BENCH_VERIFY_SIZES=1e4,1e5 for a quicker look (--quick: 1e4); strings at the bound stop at 1e5 (a 1e6 file would pass the default 1 GiB limit, which refuses it unread). */
const sizes = (quick: boolean) => (process.env.BENCH_VERIFY_SIZES ?? (quick ? '1e4' : '1e4,1e5,1e6')).split(',').map(Number);
const ID = '01JD7ZX3Q4M5N6P7R8S9T0VWXY';

/** The activity events of one shape: `n` of them, as (type, data) pairs. */
function* activity(shape: Shape, n: number): Generator<[EventType, unknown]> {
  const args = `sha256:${'ab'.repeat(32)}`;
  const completed = (id: string) => ({
    call_id: id,
    exit_code: 0,
    duration_ms: 1,
    cpu_ms: 1,
    max_rss_kb: 100,
    stdout_bytes: 1,
    stderr_bytes: 0,
    output_hash: args,
    killed_by: null,
    truncated: false,
  });
  switch (shape) {
    case 'ordinary':
      // Script calls with their file activity and the odd model call, as a long agent run records them.
      for (let i = 0; i < n; ) {
        const id = `call_${i}`;
        yield ['tool.invoked', { call_id: id, tool: 'bash', args_hash: args, caller: 'llm' }];
        for (let f = 0; f < 6; f++) yield ['file.accessed', { call_id: id, op: 'read', path: `/work/data/part-${f}.csv`, count: 1 + f }];
        yield ['tool.completed', completed(id)];
        yield [
          'llm.called',
          {
            provider: 'anthropic',
            host: 'api.anthropic.com',
            model: 'claude-sonnet-4-5',
            turn: i,
            prompt_hash: args,
            response_hash: args,
            input_tokens: 900,
            output_tokens: 40,
            stop_reason: 'tool_use',
            latency_ms: 800,
            error_code: null,
          },
        ];
        i += 9;
      }
      return;
    case 'distinct call ids':
      for (let i = 0; i < n; i += 2) {
        yield ['tool.invoked', { call_id: `c${i.toString(36)}`, tool: `tool-${i}`, args_hash: args, caller: 'script' }];
        yield ['tool.completed', completed(`c${i.toString(36)}`)];
      }
      return;
    case 'distinct models and hosts':
      for (let i = 0; i < n; i++)
        yield [
          'llm.called',
          {
            provider: 'anthropic',
            host: `h${i}.example`,
            model: `model-${i}`,
            turn: i,
            prompt_hash: args,
            response_hash: args,
            input_tokens: 1,
            output_tokens: 1,
            stop_reason: null,
            latency_ms: 1,
            error_code: null,
          },
        ];
      return;
    case 'strings at the bound': {
      // Every event carries a path of the format's largest size (4096 characters), to be escaped, hashed and compared.
      const path = `/work/${'x'.repeat(4090)}`;
      yield ['tool.invoked', { call_id: 'c', tool: 'bash', args_hash: args, caller: 'llm' }];
      for (let i = 1; i < n - 1; i++) yield ['file.accessed', { call_id: 'c', op: 'write', path, count: 1 }];
      yield ['tool.completed', completed('c')];
    }
  }
}

/** Writes a sealed certificate of about `n` events to `path` without holding it in memory; returns its event count. */
export async function writeCertificate(path: string, shape: Shape, n: number): Promise<number> {
  let seq = 0;
  let prev: Hash = genesisHash(ID, nodeSha256);
  let at = Date.parse('2026-02-01T13:15:00.000Z');
  const range = new CompactRange(nodeSha256);
  const fold = new CertificateFold(false);
  const body = createWriteStream(`${path}.events`);
  const next = (type: EventType, data: unknown): EventEnvelope => {
    const unhashed = { v: 2 as const, execution_id: ID, seq, type, at: new Date(at).toISOString(), prev, data };
    const event = { ...unhashed, hash: hashUtf8With(nodeSha256, EVENT_HASH_TAG + canonicalize(unhashed)) } as EventEnvelope;
    seq += 1;
    at += seq % 50 === 0 ? 1 : 0;
    prev = event.hash;
    fold.apply(event);
    return event;
  };
  const write = async (event: EventEnvelope) => {
    if (event.type !== 'certificate.sealed') range.appendLeaf(leafHash(hashToBytes(event.hash), nodeSha256));
    // As the executor's writers do (certificateJson): each event in its canonical form.
    if (!body.write(`${seq === 1 ? '' : ',\n'}${canonicalize(event)}`)) await once(body, 'drain');
  };
  const h = `sha256:${'cd'.repeat(32)}` as Hash;
  await write(
    next('execution.requested', {
      dataset_hash: h,
      dataset_bytes: 10,
      dataset_format: 'csv',
      dataset_source: 'inline',
      sandbox_hash: h,
      fingerprint: h,
      sandbox: sampleSummary(),
    } satisfies EventData['execution.requested']),
  );
  await write(next('dataset.loaded', { dataset_hash: h, bytes: 10, medium: 'tmpfs' }));
  await write(next('sandbox.created', sampleSandboxCreated(VECTOR_PUBLIC_KEY)));
  for (const [type, data] of activity(shape, n)) await write(next(type, data));
  const result = { output: '{"ok": true}\n', bytes: 13, truncated: false, json: { ok: true } };
  await write(next('execution.completed', { exit_code: 0, result_hash: h, result, duration_ms: 5, totals: sampleTotals() }));
  await write(next('dataset.deleted', { bytes_zeroed: 10, tmpfs_released: true }));
  await write(next('sandbox.destroyed', { processes_remaining: 0, workspace_released: true, checks: SAMPLE_DESTROY_CHECKS }));
  const root = range.root();
  const sealedAt = new Date(at + 5).toISOString();
  const report = reportData(root, ID, seq, sealedAt);
  const attestation = {
    type: 'simulated' as const,
    public_key: VECTOR_PUBLIC_KEY,
    signature: bytesToHex(ed25519.sign(report, hexToBytes(VECTOR_KEY_SEED_HEX))),
  };
  at = Date.parse(sealedAt);
  await write(next('certificate.sealed', { tree_size: seq, merkle_root: `sha256:${bytesToHex(root)}`, report_data: bytesToHex(report), attestation }));
  body.end();
  await once(body, 'close');
  const { events: _none, ...members } = fold.result();
  const head = JSON.stringify(members);
  // The document: every summary member, then the events streamed from the side file.
  writeFileSync(path, `${head.slice(0, -1)},"events":[\n`);
  execFileSync('sh', ['-c', `cat "${path}.events" >> "${path}" && printf ']}\\n' >> "${path}" && rm "${path}.events"`]);
  return seq;
}

/** The verifier as the CLI runs it (verifyCertificateFile), bundled for plain node with its reader worker: one process per measurement. */
export async function verifierBundle(dir: string): Promise<string> {
  const entry = join(dir, 'verify-entry.ts');
  writeFileSync(
    entry,
    `
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { verifyCertificateFile } from ${JSON.stringify(join(import.meta.dirname, '../src/verify/node.ts'))};
import { verifyCertificate, verifyCertificateText } from ${JSON.stringify(join(import.meta.dirname, '../src/verify/index.ts'))};
import { nodeSha256 } from ${JSON.stringify(join(import.meta.dirname, '../src/events/node-hash.ts'))};
const path = process.argv[2];
if (process.argv[3]?.startsWith('warm-')) {
  // In this process, warm (ten runs first, then the median of eleven): as a server that verifies all day.
  // The floors: the least any verifier of these events does, with the simplest tools: each event serialized (JSON.stringify) and
  // hashed once (node:crypto), after JSON.parse of the text for the text.
  const text = readFileSync(path, 'utf8');
  const object = JSON.parse(text);
  const options = { sha256: nodeSha256, trustedKeys: [${JSON.stringify(VECTOR_PUBLIC_KEY)}] };
  const hashEach = (doc) => {
    for (const event of doc.events) createHash('sha256').update(JSON.stringify(event)).digest('hex');
    return { status: 'trusted' };
  };
  const mode = process.argv[3];
  const once = () =>
    mode === 'warm-text' ? verifyCertificateText(text, options)
    : mode === 'warm-object' ? verifyCertificate(object, options)
    : mode === 'warm-floor-text' ? hashEach(JSON.parse(text))
    : hashEach(object);
  const runs = Number(process.argv[4] ?? 11);
  for (let i = 0; i < runs - 1; i++) await once();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    if ((await once()).status !== 'trusted') throw new Error('not trusted');
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  process.stdout.write(JSON.stringify({ ms: times.sort((a, b) => a - b)[runs >> 1] }));
  process.exit(0);
}
const worker = process.argv[3] === 'thread' ? false : undefined;
const start = process.hrtime.bigint();
const verdict = await verifyCertificateFile(path, { trustedKeys: [${JSON.stringify(VECTOR_PUBLIC_KEY)}] }, { worker, workerUrl: new URL('./reader-worker.mjs', import.meta.url) });
const ms = Number(process.hrtime.bigint() - start) / 1e6;
// VmHWM, not getrusage's maxRSS: that one starts from the size of the (large) bench process this one was forked from.
const peakKb = Number(/VmHWM:\\s+(\\d+)/.exec((await import('node:fs')).readFileSync('/proc/self/status', 'utf8'))[1]);
process.stdout.write(JSON.stringify({ ms, rss_mb: peakKb / 1024, status: verdict.status, code: verdict.failure?.code ?? null }));
`,
  );
  const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'silent' } as const;
  await build({ ...common, entryPoints: [join(import.meta.dirname, '../src/verify/reader-worker.ts')], outfile: join(dir, 'reader-worker.mjs') });
  const out = join(dir, 'verify.mjs');
  await build({ ...common, entryPoints: [entry], outfile: out });
  return out;
}

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const SIZES = sizes(options.quick);
  const rows: BenchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-verify-'));
  try {
    const verifier = await verifierBundle(dir);
    // In one process, warm, the verifier as bundled (esbuild, as the browser runs it): the certificate as an object (what the executor and the API verify) and as text.
    const small = join(dir, 'small.json');
    await writeCertificate(small, 'ordinary', 1e4);
    const runs = options.quick ? 5 : 11;
    const warm = (mode: string) =>
      (JSON.parse(execFileSync(process.execPath, [verifier, small, `warm-${mode}`, String(runs)], { encoding: 'utf8' })) as { ms: number }).ms;
    for (const mode of ['object', 'text'] as const) {
      const ms = warm(mode);
      const floor = warm(`floor-${mode}`);
      rows.push(
        againstFloor(
          {
            name: `verify 1e4 events in process, warm: the ${mode}`,
            value: Math.round(ms),
            unit: 'ms',
            note: `${mode === 'object' ? 'as the executor and the API verify' : 'strict reading included'}; median of ${runs}`,
          },
          { name: `${mode === 'text' ? 'JSON.parse, then ' : ''}JSON.stringify + node:crypto sha256 per event`, value: +floor.toFixed(1), unit: 'ms' },
          { text: '< 100 ms', valueAtMost: 99 },
        ),
      );
    }
    const baseline = JSON.parse(
      execFileSync(
        process.execPath,
        [
          '-e',
          String.raw`process.stdout.write(JSON.stringify({ rss_mb: Number(/VmHWM:\s+(\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]) / 1024 }))`,
        ],
        { encoding: 'utf8' },
      ),
    ) as { rss_mb: number };
    rows.push({ name: 'node -e 1, peak RSS (the floor of every row below)', value: Math.round(baseline.rss_mb), unit: 'MB' });
    const shapes: [Shape, number[]][] = [
      ['ordinary', SIZES],
      ['distinct call ids', SIZES],
      ['distinct models and hosts', SIZES],
      ['strings at the bound', SIZES.filter((n) => n <= 1e5)],
    ];
    for (const [shape, sizes] of shapes) {
      const ms = new Map<number, number>();
      for (const n of sizes) {
        const file = join(dir, `cert-${n}.json`);
        const events = await writeCertificate(file, shape, n);
        const mb = statSync(file).size / 1e6;
        const runs = n >= 1e6 ? 1 : 3;
        const results = Array.from(
          { length: runs },
          () =>
            JSON.parse(execFileSync(process.execPath, ['--max-old-space-size=4096', verifier, file], { encoding: 'utf8', maxBuffer: 1 << 20 })) as {
              ms: number;
              rss_mb: number;
              status: string;
              code: string | null;
            },
        );
        const best = results.sort((a, b) => a.ms - b.ms)[0]!;
        if (best.status !== 'trusted') throw new Error(`bench: a ${shape} certificate of ${events} events did not verify (${best.code})`);
        ms.set(n, best.ms);
        const row: BenchRow = {
          name: `verify ${shape}, ${n.toExponential().replace('+', '')} events (${mb.toFixed(0)} MB file)`,
          value: Math.round(best.ms),
          unit: 'ms',
          note: `peak RSS ${Math.round(best.rss_mb)} MB; ${((best.ms * 1000) / events).toFixed(1)} µs/event`,
        };
        rows.push(n === 1e6 ? { ...row, ...withGoal(row.value, undefined, { text: '< 10 s', valueAtMost: 9999 }) } : row);
        rmSync(file, { force: true });
      }
      if (ms.has(1e5) && ms.has(1e6))
        rows.push({ name: `verify ${shape}: 1e5 → 1e6 events`, value: +(ms.get(1e6)! / ms.get(1e5)!).toFixed(1), unit: 'x time', note: 'target ≤ 12' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
