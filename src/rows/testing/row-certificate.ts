/**
 * Certificates that commit a real dataset's rows, for the row-proof tools' tests (CLI and browser) without a
 * sandbox run (test/rows/row-proofs.e2e.test.ts does the real one): a 10,000-row CSV, a secret,
 * `commitRecords`, and the simulated-run events of sample-certificate.ts with `dataset.loaded.rows` set,
 * sealed with the vector key (forge.ts). Test support only.
 */
import { ulid } from 'ulid';
import { hashBytes, type EventEnvelope, type RowsAbsentReason } from '../../events/index.js';
import { sampleEvents } from '../../verify/testing/sample-certificate.js';
import { sealEvents } from '../../verify/testing/forge.js';
import type { Certificate } from '../../verify/index.js';
import { commitRecords, type RowCommitment } from '../commitment.js';
import { commitSorted } from '../sorted.js';
import { nodeRowCrypto } from '../node.js';
import type { RowFormat } from '../records.js';

/** Records of the CSV that carry hostile text: markup and a screen-clearing escape (17), a line that fakes another record (42). */
export const HOSTILE_ROWS = { markup: 17, fakeLine: 42 } as const;

/**
 * A CSV with a header (record 0) and 10,000 data records. Record 17 holds markup and ESC[2J in a quoted
 * field; record 42 a quoted field spanning lines whose second line pretends to be record 99.
 */
export function tenThousandRowCsv(): Uint8Array {
  const lines = ['id,name,email,amount,note'];
  for (let i = 1; i <= 10_000; i++) {
    const note =
      i === HOSTILE_ROWS.markup
        ? '"<b>bold</b> \u001b[2Jcleared, ""quoted"""'
        : i === HOSTILE_ROWS.fakeLine
          ? '"first line\n  99  forged,record"'
          : `n${i % 7}`;
    lines.push(`${i},person ${i},p${i}@example.org,${(i * 37) % 1000}.${String(i % 100).padStart(2, '0')},${note}`);
  }
  return new TextEncoder().encode(`${lines.join('\r\n')}\r\n`);
}

/** A fixed 32-byte secret (tests only). */
export const TEST_SECRET = Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 7) & 0xff);

export interface RowCertificateOptions {
  dataset: Uint8Array;
  format?: RowFormat;
  /** The secret the rows are committed with; `rows: 'absent'` or `'none'` commits none. */
  secret?: Uint8Array;
  rows?: 'committed' | 'none' | { absent: RowsAbsentReason };
  /** Commit the records sorted by this key (csv or json) instead of in input order. */
  sortedBy?: string;
  executionId?: string;
}

/** A sealed certificate of a (simulated) run over `dataset`, committing its rows as asked; signed by VECTOR_PUBLIC_KEY. */
export function rowCertificate(options: RowCertificateOptions): { certificate: Certificate; text: string; commitment: RowCommitment | null } {
  const format = options.format ?? 'csv';
  const executionId = options.executionId ?? ulid();
  const datasetHash = hashBytes(options.dataset);
  const bytes = options.dataset.length;
  // Deep copies: the envelopes are frozen; sealEvents rehashes and relinks the edited ones.
  const events = structuredClone(sampleEvents(executionId, Date.now() - 60_000)) as EventEnvelope[];
  const data = (type: string) => events.find((e) => e.type === type)!.data as Record<string, unknown>;
  Object.assign(data('execution.requested'), { dataset_hash: datasetHash, dataset_bytes: bytes, dataset_format: format });
  const loaded = data('dataset.loaded');
  Object.assign(loaded, { dataset_hash: datasetHash, bytes });
  let commitment: RowCommitment | null = null;
  const rows = options.rows ?? 'committed';
  if (rows === 'committed') {
    const secret = options.secret ?? TEST_SECRET;
    commitment =
      options.sortedBy === undefined || format === 'txt'
        ? commitRecords(format, options.dataset, secret, nodeRowCrypto).commitment
        : commitSorted(format, options.dataset, secret, options.sortedBy, nodeRowCrypto).commitment;
    loaded.rows = commitment;
  } else if (rows !== 'none') loaded.rows_absent = { reason: rows.absent };
  Object.assign(data('dataset.deleted'), { bytes_zeroed: bytes });
  (data('sandbox.destroyed').checks as Record<string, unknown>).dataset_bytes_zeroed = bytes;
  const certificate = sealEvents(events);
  return { certificate, text: JSON.stringify(certificate, null, 2), commitment };
}

/** A proof as JSON, to be edited. */
// biome-ignore lint/suspicious/noExplicitAny: tamperings edit any member of a proof
type ProofDoc = Record<string, any>;

const b64 = (text: string) => Buffer.from(text).toString('base64');
const flipHex = (hex: string) => `${hex[0] === '0' ? '1' : '0'}${hex.slice(1)}`;

/**
 * Every tampering of a valid proof of records [0, 17, 42] of tenThousandRowCsv, and the code it must be
 * refused with (docs/row-proofs.md §4): the CLI and the web page both run this list.
 */
export const PROOF_TAMPERINGS: { name: string; code: string; edit: (proof: ProofDoc) => string }[] = [
  { name: 'a record changed', code: 'ROWS_PROOF_INVALID', edit: (p) => json(p, () => (p.rows[1].record = b64('17,person 17,p17@example.org,0.00,n3'))) },
  { name: 'a record that is two records', code: 'ROWS_PROOF_RECORD_INVALID', edit: (p) => json(p, () => (p.rows[0].record = b64('id,name\r\n1,ada'))) },
  { name: 'a salt changed', code: 'ROWS_PROOF_INVALID', edit: (p) => json(p, () => (p.rows[1].salt = flipHex(p.rows[1].salt))) },
  { name: 'an index moved to another record', code: 'ROWS_PROOF_INVALID', edit: (p) => json(p, () => (p.rows[1].index = 18)) },
  { name: 'an index past the count', code: 'ROWS_PROOF_INDEX_INVALID', edit: (p) => json(p, () => (p.rows[1].index = p.count)) },
  { name: 'a record disclosed twice', code: 'ROWS_PROOF_INDEX_INVALID', edit: (p) => json(p, () => p.rows.push(structuredClone(p.rows[1]))) },
  { name: 'a proof hash changed', code: 'ROWS_PROOF_INVALID', edit: (p) => json(p, () => (p.rows[2].proof[3] = flipHex(p.rows[2].proof[3]))) },
  { name: 'a proof hash dropped', code: 'ROWS_PROOF_INVALID', edit: (p) => json(p, () => p.rows[2].proof.pop()) },
  { name: 'the certificate id changed', code: 'ROWS_PROOF_WRONG_CERTIFICATE', edit: (p) => json(p, () => (p.certificate_id = `cert_${'0'.repeat(26)}`)) },
  { name: 'the count changed', code: 'ROWS_PROOF_WRONG_CERTIFICATE', edit: (p) => json(p, () => (p.count -= 1)) },
  { name: 'the root changed', code: 'ROWS_PROOF_WRONG_CERTIFICATE', edit: (p) => json(p, () => (p.root = flipHex(p.root))) },
  { name: 'the format changed', code: 'ROWS_PROOF_WRONG_CERTIFICATE', edit: (p) => json(p, () => (p.format = 'txt')) },
  { name: 'a member added', code: 'ROWS_PROOF_MALFORMED', edit: (p) => json(p, () => (p.rows[0].note = 'trust me')) },
  { name: 'a duplicate member', code: 'ROWS_PROOF_MALFORMED', edit: (p) => JSON.stringify(p).replace('"v":1', '"v":1,"v":1') },
  { name: 'not JSON', code: 'ROWS_PROOF_MALFORMED', edit: (p) => JSON.stringify(p).slice(0, -1) },
];

function json(proof: ProofDoc, edit: () => unknown): string {
  edit();
  return JSON.stringify(proof);
}
