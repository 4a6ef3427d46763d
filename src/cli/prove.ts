/**
 * ephemera prove --certificate C --dataset D --secret FILE|- [--rows 17,42] [--key KEY]… [--absent KEY]… [--out FILE] [--json]
 * (declared in cli.ts; docs/row-proofs.md §9). Writes a proof that discloses the chosen records of a
 * run's input and nothing else of it. The certificate is verified first (valid; whom it is signed by
 * does not matter to its own submitter) and its row commitment is the one the proof is made for: the
 * dataset must be the certificate's (its hash) and the secret must give the same root, else
 * ROWS_DATASET_MISMATCH says which. The secret is read from a file or stdin, never from argv (`ps`
 * shows argv to every user), and zeroed once the proof is made.
 * Exit: 0 written; 1 the certificate is invalid or commits no rows; 2 bad input (the codes' exits).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EphemeraError } from '../errors.js';
import { commitmentOf, proveRecords, recordText, type RowProof } from '../rows/index.js';
import { nodeRowCrypto } from '../rows/node.js';
import { EXIT, note, printJson } from './common.js';
import { readInput } from './files.js';
import type { TrustFlags } from './policy.js';
import { verifiedCertificate } from './verified-certificate.js';
import { formatVerdict } from './verify.js';

export interface ProveOptions extends TrustFlags {
  certificate: string;
  dataset: string;
  secret: string;
  rows?: number[];
  absent?: string[];
  key?: string[];
  out?: string;
  server?: string;
  json?: boolean;
}

/** A long run of hex, give or take a prefix, spaces or a digit: a secret pasted where its file's name belongs. */
const LOOKS_LIKE_SECRET = /^\s*(?:0x)?[0-9a-f]{48,}\s*$/i;

export async function prove(options: ProveOptions, command: Command): Promise<number> {
  if (LOOKS_LIKE_SECRET.test(options.secret))
    throw new EphemeraError(
      'ROWS_SECRET_ON_COMMAND_LINE',
      '--secret takes a file holding the secret (or - to read it from stdin), not the secret itself: other users can read a command line (ps). Put it in a file of mode 0600',
    );
  const secret = readSecret(options.secret);
  try {
    const { verdict, certificate } = await verifiedCertificate(options.certificate, options, command);
    if (!verdict.valid || !certificate) {
      process.stderr.write(formatVerdict(verdict));
      note('nothing proved: the certificate is invalid, so its row commitment commits to nothing');
      return EXIT.invalid;
    }
    const commitment = commitmentOf(certificate.certificate_id, verdict.rows);
    const rows = options.rows ?? [];
    const absent = options.absent ?? [];
    const keys = options.key ?? [];
    if (rows.length === 0 && absent.length === 0 && keys.length === 0) throw new EphemeraError('CLI_USAGE', 'nothing to prove: give --rows, --key or --absent');
    if (keys.length > 0 && commitment.sorted_by === null)
      throw new EphemeraError(
        'ROWS_BAD_INPUT',
        "--key needs a commitment sorted by a key (a run with --rows sorted:<key>): give --rows with the records' indexes",
      );
    if (rows.length > 0 && commitment.sorted_by !== null)
      note(
        `the certificate's records are sorted by ${recordText(new TextEncoder().encode(commitment.sorted_by))}: --rows are positions in that order${commitment.format === 'csv' ? ' (0 is the header)' : ''}, not lines of the dataset (--key discloses a record by its key)`,
      );
    if (absent.length > 0 && commitment.sorted_by === null)
      throw new EphemeraError(
        'ROWS_BAD_INPUT',
        "--absent needs a commitment sorted by a key (a run with --rows sorted:<key>): this certificate's records are in input order",
      );
    const dataset = readInput(options.dataset, 'dataset');
    const datasetHash = `sha256:${createHash('sha256').update(dataset).digest('hex')}`;
    if (datasetHash !== certificate.dataset_hash)
      throw new EphemeraError(
        'ROWS_DATASET_MISMATCH',
        `wrong dataset: ${options.dataset} hashes to ${datasetHash}, the certificate's dataset_hash is ${certificate.dataset_hash}`,
      );
    const proof = await proveRecords(
      {
        certificateId: certificate.certificate_id,
        format: commitment.format,
        dataset: new Uint8Array(dataset),
        secret,
        sortedBy: commitment.sorted_by,
        crypto: nodeRowCrypto,
        withKeys: keys,
      },
      rows,
      absent,
    );
    if (proof.count !== commitment.count || proof.root !== commitment.root)
      throw new EphemeraError('ROWS_DATASET_MISMATCH', "wrong secret: the dataset is the certificate's, but this secret gives another row root");
    return writeProof(proof, options);
  } finally {
    secret.fill(0);
  }
}

/** The 32-byte secret from a file or stdin: 64 hex, surrounding whitespace allowed; its content is never echoed. */
function readSecret(source: string): Uint8Array {
  const raw = source === '-' ? readStdin() : readSecretFile(source);
  // Anyone who can read it can prove any record of the run: say so (the proof is still made).
  if (source !== '-' && process.platform !== 'win32' && (statSync(source).mode & 0o077) !== 0)
    note(`the secret file ${source} is readable by other users (mode ${(statSync(source).mode & 0o777).toString(8)}): chmod 600 ${source}`);
  const text = raw.toString('latin1').trim();
  raw.fill(0);
  if (!/^[0-9a-fA-F]{64}$/.test(text))
    throw new EphemeraError('ROWS_BAD_INPUT', `the secret ${source === '-' ? 'on stdin' : `file ${source}`} does not hold one row secret (64 hex digits)`);
  return Uint8Array.from(text.match(/../g)!, (pair) => Number.parseInt(pair, 16));
}

/** Like readInput, but the path is never echoed: what was given as a file name may be a mangled secret. */
function readSecretFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    const errno = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new EphemeraError(
      errno === 'ENOENT' ? 'CLI_FILE_NOT_FOUND' : 'CLI_FILE_UNREADABLE',
      `cannot read the file given with --secret (${errno}); give the path of the file holding the secret, or - for stdin`,
    );
  }
}

function readStdin(): Buffer {
  try {
    return readFileSync(0);
  } catch (cause) {
    throw new EphemeraError('CLI_FILE_UNREADABLE', `cannot read the secret from stdin (${(cause as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function writeProof(proof: RowProof, options: ProveOptions): number {
  const text = `${JSON.stringify(proof, null, 2)}\n`;
  const indexes = proof.rows.map((row) => row.index);
  if (options.out === undefined) {
    // The proof is the output: stdout is one JSON document either way.
    process.stdout.write(text);
    return EXIT.ok;
  }
  try {
    // It discloses records of a private dataset: readable by its owner only until they hand it over. Created, never
    // written through an existing file or link, whose mode (or target) would be someone else's choice.
    writeFileSync(options.out, text, { mode: 0o600, flag: 'wx' });
  } catch (cause) {
    const errno = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new EphemeraError(
      'ROWS_PROOF_UNWRITABLE',
      errno === 'EEXIST'
        ? `${options.out} already exists: a proof is written to a new file; remove it or choose another path`
        : `cannot write the proof to ${options.out} (${errno})`,
    );
  }
  const absent = proof.absent.map((a) => a.key);
  if (options.json) printJson({ certificate_id: proof.certificate_id, out: options.out, rows: indexes, absent, bytes: Buffer.byteLength(text) });
  else
    note(
      `proved ${indexes.length} record${indexes.length === 1 ? '' : 's'}${indexes.length ? ` (${indexes.join(', ')})` : ''}${absent.length ? ` and ${absent.length} key${absent.length === 1 ? '' : 's'} absent` : ''} of ${proof.certificate_id} into ${options.out}`,
    );
  return EXIT.ok;
}
