/**
 * ephemera verify-rows CERT.json|CERT_ID PROOF.json [trust flags] [--json] (declared in cli.ts;
 * docs/row-proofs.md §9). Verifies the certificate as `ephemera verify` does, then checks the proof
 * against the row commitment the verdict carries, and prints each proven record and nothing else of
 * the dataset. A record is untrusted bytes: printed as one line, every control character escaped
 * (rows/display.ts), so it can neither drive the terminal nor fake another line of this output.
 * Exit: 0 proven, certificate trusted; 4 proven, but signed by a key you do not trust; 1 the
 * certificate or the proof is invalid (the proof's code); 2 unusable input.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Command } from 'commander';
import { EphemeraError } from '../errors.js';
import { MAX_PROOF_BYTES, checkProofForCertificate, commitmentOf, parseRowProof, recordText, type RowProof } from '../rows/index.js';
import { EXIT, note, printJson } from './common.js';
import { readInput } from './files.js';
import type { TrustFlags } from './policy.js';
import { verifiedCertificate } from './verified-certificate.js';
import { exitCodeOf, formatVerdict } from './verify.js';

export interface VerifyRowsOptions extends TrustFlags {
  server?: string;
  json?: boolean;
}

/** This reader's bound on a proof file, checked before it is read (the format's own bound, 10,000 records of 1 MiB, is far larger). */

export async function verifyRows(target: string, proofPath: string, options: VerifyRowsOptions, command: Command): Promise<number> {
  const { verdict } = await verifiedCertificate(target, options, command);
  if (!verdict.valid || verdict.certificate_id === null) {
    if (options.json) printJson({ verification: verdict, proven: null });
    else process.stdout.write(formatVerdict(verdict));
    note('nothing checked: the certificate is invalid, so its row commitment commits to nothing');
    return EXIT.invalid;
  }
  const commitment = commitmentOf(verdict.certificate_id, verdict.rows);
  const { rows, absent } = checkProofForCertificate(readProof(proofPath), verdict.certificate_id, verdict.rows);
  if (options.json)
    printJson({
      certificate_id: verdict.certificate_id,
      verification: { valid: verdict.valid, trusted: verdict.trusted, status: verdict.status, key: verdict.key, trust: verdict.trust },
      rows: { format: commitment.format, count: commitment.count, root: commitment.root, sorted_by: commitment.sorted_by },
      proven: rows.map(({ index, record }) => ({
        index,
        record: new TextDecoder().decode(record),
        record_base64: Buffer.from(record).toString('base64'),
      })),
      absent,
    });
  else {
    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(formatVerdict(verdict).split('\n')[0]!);
    out(`  trust ${verdict.trust.reason}`);
    out(
      `  rows  ${commitment.format}, ${commitment.count} records, root ${commitment.root}, ${commitment.sorted_by === null ? 'input order' : `sorted by ${recordText(new TextEncoder().encode(commitment.sorted_by))}`}`,
    );
    const positions = commitment.sorted_by === null ? 'indexes from 0' : 'positions from 0 in the sorted order';
    out(`proven: ${rows.length} record${rows.length === 1 ? '' : 's'} of the run's input (${positions}; control characters shown escaped)`);
    for (const { index, record } of rows) out(`  record ${index}: ${recordText(record)}`);
    if (absent.length > 0) {
      out(
        `proven absent: no record has ${absent.length === 1 ? 'this key' : 'these keys'} as its ${recordText(new TextEncoder().encode(commitment.sorted_by!))} (exactly these bytes)`,
      );
      for (const key of absent) out(`  key ${recordText(new TextEncoder().encode(key))}`);
    }
  }
  if (!verdict.trusted) note('the records are proven part of the input of a certificate whose signer you do not trust (ephemera verify says how to trust it)');
  return exitCodeOf(verdict);
}

/** The proof file, read up to its bound and no further: a pipe or a FIFO has no size to check first. */
function readProof(path: string): RowProof {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    readInput(path, 'proof'); // says what is wrong with the path
    throw new EphemeraError('CLI_FILE_UNREADABLE', `cannot read the proof file ${path}`);
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(1 << 20);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > MAX_PROOF_BYTES)
        throw new EphemeraError('ROWS_PROOF_MALFORMED', `${path} is larger than ${MAX_PROOF_BYTES} bytes, this reader's bound on a row proof`);
      chunks.push(chunk.subarray(0, n));
    }
    return parseRowProof(new Uint8Array(Buffer.concat(chunks, total)));
  } finally {
    closeSync(fd);
  }
}
