/**
 * Row commitments (docs/row-proofs.md; issue 21): committing the records of a CSV against hashing the same
 * bytes with node:crypto (the whole-file hash every run already computes), 1e6 records; and checking a proof
 * of 100 records against the commitment (goal < 50 ms).
 */
import { createHash } from 'node:crypto';
import { utf8ToBytes } from '../src/events/index.js';
import { checkRowProof, commitRecords, proveRecords } from '../src/rows/index.js';
import { nodeRowCrypto } from '../src/rows/node.js';
import { againstFloor, withGoal, type BenchOptions, type BenchRow } from './types.js';

const CERTIFICATE = 'cert_01JD7ZX3Q4M5N6P7R8S9T0VWXY';

export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const count = quick ? 100_000 : 1_000_000;
  const csv = utf8ToBytes(
    Array.from({ length: count }, (_, i) => `${i},patient ${i},p${i}@example.org,"visit ${i % 7}, ""routine""",${(i * 7919) % 100000}`).join('\n'),
  );
  const secret = createHash('sha256').update('bench').digest();
  const median = (runs: number, f: () => void) => {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      f();
      times.push(performance.now() - start);
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  };
  const runs = quick ? 1 : 3;
  const hashing = median(runs, () => createHash('sha256').update(csv).digest());
  const committing = median(runs, () => commitRecords('csv', csv, secret, nodeRowCrypto));
  const dataset = new Uint8Array(csv);
  const { commitment } = commitRecords('csv', dataset, secret, nodeRowCrypto);
  const indexes = Array.from({ length: 100 }, (_, i) => Math.floor((i * count) / 100));
  const proof = await proveRecords({ certificateId: CERTIFICATE, format: 'csv', dataset, secret }, indexes);
  const checking = median(quick ? 3 : 11, () => checkRowProof(proof, { ...commitment, certificate_id: CERTIFICATE }));
  const mib = (csv.length / 2 ** 20).toFixed(0);
  return [
    againstFloor(
      { name: `commit ${count} CSV records (${mib} MiB): split, salt, leaf, root`, value: +committing.toFixed(0), unit: 'ms' },
      { name: 'SHA-256 of the same bytes (node:crypto)', value: +hashing.toFixed(1), unit: 'ms' },
      { text: '≤ 1.5x hashing the dataset alone', ratioAtMost: 1.5 },
    ),
    { name: 'check a proof of 100 records', value: +checking.toFixed(1), unit: 'ms', ...withGoal(checking, undefined, { text: '< 50 ms', valueAtMost: 50 }) },
    {
      name: 'proof size per record',
      value: Math.round(JSON.stringify(proof).length / 100),
      unit: 'bytes',
      note: `${proof.rows[0]!.proof.length} hashes per path`,
    },
  ];
}
