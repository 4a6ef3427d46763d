/**
 * Row commitments (docs/row-proofs.md §5; issue 21): the executor's way, the dataset hashed and its records
 * committed by RowCommitter in one pass over 1 MiB chunks, against hashing the same bytes alone with node:crypto
 * (the whole-file hash every run computes), for 1e6 CSV records and a 256 MiB CSV, with the pass's peak RSS above
 * the dataset (the same at both record counts: only the tree's edge is kept); commitRecords (all leaf hashes kept)
 * on 1e6 records for contrast; and checking a proof of 100 records against the commitment (goal < 50 ms).
 */
import { createHash } from 'node:crypto';
import { checkRowProof, commitRecords, proveRecords, RowCommitter, type RowFormat } from '../src/rows/index.js';
import { nodeRowCrypto } from '../src/rows/node.js';
import { againstFloor, medianOf, withGoal, type BenchOptions, type BenchRow } from './types.js';

const CERTIFICATE = 'cert_01JD7ZX3Q4M5N6P7R8S9T0VWXY';
const CHUNK = 1024 * 1024;
const MIB = 2 ** 20;

/** CSV lines of about 70 bytes (a quoted field with doubled quotes in each), until `count` records or `bytes` bytes. */
function csvDataset(limit: { count: number } | { bytes: number }): { bytes: Uint8Array; count: number } {
  const capacity = 'bytes' in limit ? limit.bytes : limit.count * 96;
  const out = Buffer.alloc(capacity);
  let at = 0;
  let count = 0;
  for (;;) {
    if ('count' in limit && count === limit.count) break;
    const line = `${count === 0 ? '' : '\n'}${count},patient ${count},p${count}@example.org,"visit ${count % 7}, ""routine""",${(count * 7919) % 100000}`;
    if (at + line.length > capacity) break;
    at += out.write(line, at, 'latin1');
    count++;
  }
  return { bytes: new Uint8Array(out.buffer, out.byteOffset, at), count };
}

/** JSON Lines of about 110 bytes: each record is also decoded and parsed (JSON.parse) to be checked. */
function jsonLinesDataset(count: number): Uint8Array {
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ id: i, name: `patient ${i}`, email: `p${i}@example.org`, note: `visit ${i % 7}, "routine"`, n: (i * 7919) % 100000 }),
  );
  return new TextEncoder().encode(lines.join('\n'));
}

/** What the executor does with a loaded dataset: hash it and commit its records in the same pass. */
function hashAndCommit(bytes: Uint8Array, secret: Uint8Array, format: RowFormat = 'csv'): { ms: number; peakRss: number; hash: string } {
  const before = process.memoryUsage.rss();
  let peak = before;
  const start = performance.now();
  const hash = createHash('sha256');
  const committer = new RowCommitter(format, secret, nodeRowCrypto);
  for (let at = 0; at < bytes.length; at += CHUNK) {
    const chunk = bytes.subarray(at, at + CHUNK);
    hash.update(chunk);
    committer.push(chunk);
    peak = Math.max(peak, process.memoryUsage.rss());
  }
  const digest = hash.digest('hex');
  if (!committer.finish().committed) throw new Error('the bench dataset did not commit');
  return { ms: performance.now() - start, peakRss: peak - before, hash: digest };
}

function hashAlone(bytes: Uint8Array): number {
  const start = performance.now();
  createHash('sha256').update(bytes).digest('hex');
  return performance.now() - start;
}

export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const secret = createHash('sha256').update('bench').digest();
  const small = csvDataset({ count: quick ? 100_000 : 1_000_000 });
  const large = csvDataset({ bytes: (quick ? 32 : 256) * MIB });
  const runs = quick ? 1 : 3;

  // The streaming passes first, while the heap holds only the two datasets: their RSS is the pass's own.
  hashAndCommit(small.bytes, secret);
  const passes = [];
  for (const dataset of [small, large]) {
    const times: number[] = [];
    const hashes: number[] = [];
    let peakRss = 0;
    for (let i = 0; i < (dataset === large ? 1 : runs); i++) {
      const pass = hashAndCommit(dataset.bytes, secret);
      times.push(pass.ms);
      peakRss = Math.max(peakRss, pass.peakRss);
      hashes.push(hashAlone(dataset.bytes));
    }
    passes.push({ dataset, ms: medianOf(times), hashMs: medianOf(hashes), peakRss });
  }

  const jsonLines = jsonLinesDataset(small.count);
  const jsonTimes: number[] = [];
  const jsonHashes: number[] = [];
  for (let i = 0; i < runs; i++) {
    jsonTimes.push(hashAndCommit(jsonLines, secret, 'json').ms);
    jsonHashes.push(hashAlone(jsonLines));
  }

  const count = small.count;
  const csv = small.bytes;
  const hashing = medianOf(Array.from({ length: runs }, () => hashAlone(csv)));
  const rssBefore = process.memoryUsage.rss();
  const timedCommit = () => {
    const start = performance.now();
    const result = commitRecords('csv', csv, secret, nodeRowCrypto);
    return { ms: performance.now() - start, rss: process.memoryUsage.rss() - rssBefore, result };
  };
  const first = timedCommit();
  const committing = medianOf([first.ms, ...Array.from({ length: runs - 1 }, () => timedCommit().ms)]);
  const { commitment } = first.result;
  const indexes = Array.from({ length: 100 }, (_, i) => Math.floor((i * count) / 100));
  const proof = await proveRecords({ certificateId: CERTIFICATE, format: 'csv', dataset: csv, secret }, indexes);
  const checks: number[] = [];
  for (let i = 0; i < (quick ? 3 : 11); i++) {
    const start = performance.now();
    checkRowProof(proof, { ...commitment, certificate_id: CERTIFICATE });
    checks.push(performance.now() - start);
  }
  const checking = medianOf(checks);

  const mib = (bytes: Uint8Array) => (bytes.length / MIB).toFixed(0);
  const goal = { text: '≤ 1.5x hashing the dataset alone', ratioAtMost: 1.5 };
  return [
    ...passes.map(({ dataset, ms, hashMs }) =>
      againstFloor(
        { name: `hash + RowCommitter in one pass, ${dataset.count} CSV records (${mib(dataset.bytes)} MiB), 1 MiB chunks`, value: +ms.toFixed(0), unit: 'ms' },
        { name: 'SHA-256 of the same bytes alone (node:crypto)', value: +hashMs.toFixed(1), unit: 'ms' },
        goal,
      ),
    ),
    againstFloor(
      {
        name: `hash + RowCommitter in one pass, ${small.count} JSON Lines records (${mib(jsonLines)} MiB), each parsed`,
        value: +medianOf(jsonTimes).toFixed(0),
        unit: 'ms',
      },
      { name: 'SHA-256 of the same bytes alone (node:crypto)', value: +medianOf(jsonHashes).toFixed(1), unit: 'ms' },
      goal,
    ),
    ...passes.map(({ dataset, peakRss }) => ({
      name: `peak RSS of that pass above the dataset, ${dataset.count} records`,
      value: +(peakRss / MIB).toFixed(1),
      unit: 'MiB',
      note: 'the tree edge and the open record; the rest is the young heap',
    })),
    againstFloor(
      {
        name: `commitRecords, ${count} CSV records (${mib(csv)} MiB): split, salt, leaf, root, every leaf hash kept`,
        value: +committing.toFixed(0),
        unit: 'ms',
      },
      { name: 'SHA-256 of the same bytes (node:crypto)', value: +hashing.toFixed(1), unit: 'ms' },
      goal,
    ),
    { name: `RSS commitRecords holds, ${count} records`, value: +(first.rss / MIB).toFixed(1), unit: 'MiB', note: 'records as views and their leaf hashes' },
    { name: 'check a proof of 100 records', value: +checking.toFixed(1), unit: 'ms', ...withGoal(checking, undefined, { text: '< 50 ms', valueAtMost: 50 }) },
    {
      name: 'proof size per record',
      value: Math.round(JSON.stringify(proof).length / 100),
      unit: 'bytes',
      note: `${proof.rows[0]!.proof.length} hashes per path`,
    },
  ];
}
