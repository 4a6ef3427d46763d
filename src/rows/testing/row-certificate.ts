/**
 * Certificates that commit a real dataset's rows, for the row-proof tools' tests (CLI and browser) until
 * the executor writes them itself: a 10,000-row CSV, a secret, `commitRecords`, and the simulated-run
 * events of sample-certificate.ts with `dataset.loaded.rows` set, sealed with the vector key (forge.ts).
 * Test support only.
 */
import { ulid } from 'ulid';
import { hashBytes, type EventEnvelope, type RowsAbsentReason } from '../../events/index.js';
import { sampleEvents } from '../../verify/testing/sample-certificate.js';
import { sealEvents } from '../../verify/testing/forge.js';
import type { Certificate } from '../../verify/index.js';
import { commitRecords, type RowCommitment } from '../commitment.js';
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
      i === HOSTILE_ROWS.markup ? '"<b>bold</b> \u001b[2Jcleared, ""quoted"""' : i === HOSTILE_ROWS.fakeLine ? '"first line\n  99  forged,record"' : `n${i % 7}`;
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
    commitment = commitRecords(format, options.dataset, options.secret ?? TEST_SECRET, nodeRowCrypto).commitment;
    loaded.rows = { ...commitment, sorted_by: null };
  } else if (rows !== 'none') loaded.rows_absent = { reason: rows.absent };
  Object.assign(data('dataset.deleted'), { bytes_zeroed: bytes });
  (data('sandbox.destroyed').checks as Record<string, unknown>).dataset_bytes_zeroed = bytes;
  const certificate = sealEvents(events);
  return { certificate, text: JSON.stringify(certificate, null, 2), commitment };
}
