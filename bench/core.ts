/**
 * Core figures: log append, hash chain, dataset hashing against openssl,
 * sealing, full Merkle trees (verification: verify.ts).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { EventChain, hashToBytes, hashUtf8, type EventEnvelope } from '../src/events/index.js';
import { SqliteEventLog, nodeSha256 } from '../src/events/node.js';
import { CompactRange, leafHash, reportData } from '../src/attest/index.js';
import { EventMerkleTree, SimulatedAttestor } from '../src/attest/node.js';
import { sampleEvents } from '../src/verify/testing/sample-certificate.js';
import { againstFloor, median, timed, type BenchOptions, type BenchRow } from './types.js';

const H = hashUtf8('x');

function fileEvents(chain: EventChain, n: number): EventEnvelope[] {
  return Array.from({ length: n }, (_, i) => chain.next('file.accessed', { call_id: 'call_1', op: 'read', path: `/work/f${i}`, count: 1 }));
}

/** A stream with `n` file events in the middle, as a long tool call would produce. */
function longStream(n: number): EventEnvelope[] {
  const id = ulid();
  const head = sampleEvents(id).slice(0, 5);
  const chain = EventChain.resume(head[4]!);
  const middle = fileEvents(chain, n);
  const tail = sampleEvents(id)
    .slice(6)
    .map((e) => chain.next(e.type, e.data as never));
  return [...head, ...middle, ...tail];
}

async function opensslMs(buffer: Buffer): Promise<number> {
  return (
    await timed(
      () =>
        new Promise<void>((resolve, reject) => {
          const child = spawn('openssl', ['dgst', '-sha256'], { stdio: ['pipe', 'ignore', 'inherit'] });
          child.on('error', reject).on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`openssl exited ${code}`))));
          child.stdin.end(buffer);
        }),
    )
  ).ms;
}

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-'));
  try {
    // Durable appends: one event per transaction (synchronous=FULL), and one step of 10.
    const log = new SqliteEventLog(join(dir, 'bench.sqlite'));
    const single = longStream(2000);
    const s = await timed(async () => {
      for (const e of single) await log.append([e]);
    });
    rows.push({
      name: 'sqlite append, 1 event per commit',
      value: Math.round(single.length / (s.ms / 1000)),
      unit: 'events/s',
      note: 'durable: WAL + synchronous=FULL',
    });
    const batched = longStream(20_000);
    const b = await timed(async () => {
      for (let i = 0; i < batched.length; i += 10) await log.append(batched.slice(i, i + 10));
    });
    rows.push({ name: 'sqlite append, 10 events per commit', value: Math.round(batched.length / (b.ms / 1000)), unit: 'events/s' });
    await log.close();

    // The chain as the executor runs it (node:crypto), each event sealed with its canonical text; the floor is the least
    // any hash chain must do: serialize the same events (JSON.stringify, no ordering) and hash them with node:crypto.
    const chain = new EventChain(sampleEvents()[0]!.execution_id, undefined, nodeSha256);
    const n = options.quick ? 20_000 : 100_000;
    let sealed: EventEnvelope[] = [];
    const c = await median(options.quick ? 3 : 5, () => {
      sealed = fileEvents(new EventChain(chain.executionId, undefined, nodeSha256), n);
    });
    const floor = await median(options.quick ? 3 : 5, () => {
      for (const e of sealed) createHash('sha256').update(JSON.stringify(e)).digest('hex');
    });
    rows.push(
      againstFloor(
        { name: 'hash chain (JCS + SHA-256 per event)', value: Math.round(n / (c / 1000)), unit: 'events/s', note: `${n} file events, median` },
        { name: 'JSON.stringify + node:crypto sha256', value: Math.round(n / (floor / 1000)), unit: 'events/s' },
        { text: '≥ 120k events/s', valueAtLeast: 120_000 },
      ),
    );

    const data = randomBytes(256 * 1024 * 1024);
    const node = await median(3, () => createHash('sha256').update(data).digest());
    const openssl = await median(3, () => opensslMs(data));
    rows.push({ name: 'dataset hashing, 256 MiB (node:crypto)', value: Math.round((256 / node) * 1000), unit: 'MiB/s' });
    rows.push({
      name: 'dataset hashing vs openssl dgst -sha256',
      value: +(node / openssl).toFixed(2),
      unit: 'x time',
      note: '< 1 is faster than openssl (which also pays a pipe)',
    });

    for (const n of [1e3, 1e6]) {
      const range = new CompactRange();
      const leaf = leafHash(hashToBytes(H));
      const build = await timed(() => {
        for (let i = 0; i < n; i++) range.appendLeaf(leaf);
      });
      const attestor = new SimulatedAttestor(dir);
      const seal = await median(5, async () => attestor.attest(reportData(range.root(), chain.executionId, n, new Date().toISOString())));
      rows.push({
        name: `seal a stream of ${n} events (root + report data + signature)`,
        value: +seal.toFixed(3),
        unit: 'ms',
        note: `incremental root kept while appending: ${((build.ms * 1000) / n).toFixed(2)} µs/event`,
      });
    }

    const hashes = Array.from({ length: 100_000 }, (_, i) => hashUtf8(String(i)));
    rows.push({ name: 'full Merkle tree, 1e5 events (merkletreejs)', value: Math.round((await timed(() => new EventMerkleTree(hashes))).ms), unit: 'ms' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
